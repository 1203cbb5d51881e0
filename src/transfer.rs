//! Per-call transfer controls: abort, per-call timeout, progress and the
//! file sink.
//!
//! A call's controls live in a tokio task-local for the duration of the
//! call, so the request loop in `client` can consult them where it builds a
//! request and reads a reply, without every media/storage function passing
//! them along. Calls without controls do not enter a scope at all: the
//! lookups then find nothing and cost a thread-local read.
//!
//! Abort: the whole call future runs inside [`guard`], which drops it as
//! soon as the cancel token fires. Dropping it drops the reqwest future,
//! which closes the connection in use, stops any retry, and drops the
//! sink's temporary file (removing it).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_DISPOSITION, CONTENT_TYPE};
use tokio_util::sync::CancellationToken;

use crate::client::{Request, RequestBody, TimeoutClass};
use crate::error::WxError;
use crate::multipart::MultipartBody;
use crate::progress::{CountingBody, Progress};
use crate::sink::{FileSink, SinkMode};

/// What one call asked for beyond its arguments.
#[derive(Debug, Default)]
pub struct CallControls {
    /// `config.timeout` / `timeout`: replaces the client's timeout for every
    /// request of this call.
    pub timeout: Option<Duration>,
    /// `onProgress` of an upload call.
    pub upload: Option<Arc<Progress>>,
    /// `onProgress` of a download call.
    pub download: Option<Arc<Progress>>,
    /// `filePath` of a download call.
    pub sink: Option<Arc<FileSink>>,
    /// The call's abort: request bodies fail their next frame once it fires,
    /// so the connection carrying them is torn down at once (hyper only
    /// notices a dropped request while it waits for the reply).
    pub cancel: Option<CancellationToken>,
}

impl CallControls {
    pub fn is_empty(&self) -> bool {
        self.timeout.is_none()
            && self.upload.is_none()
            && self.download.is_none()
            && self.sink.is_none()
            && self.cancel.is_none()
    }
}

tokio::task_local! {
    static CALL: Arc<CallControls>;
}

/// Runs `work` with `controls` visible to the request loop.
pub async fn scope<F: Future>(controls: Option<Arc<CallControls>>, work: F) -> F::Output {
    match controls {
        Some(c) if !c.is_empty() => CALL.scope(c, work).await,
        _ => work.await,
    }
}

/// Runs `work` unless `cancel` fires first, which rejects `ABORTED` and drops
/// `work` (closing its connection).
pub async fn guard<T, F>(cancel: Option<CancellationToken>, work: F) -> Result<T, WxError>
where
    F: Future<Output = Result<T, WxError>>,
{
    let Some(cancel) = cancel else {
        return work.await;
    };
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(WxError::aborted()),
        outcome = work => outcome,
    }
}

fn with<R>(f: impl FnOnce(&CallControls) -> Option<R>) -> Option<R> {
    CALL.try_with(|c| f(c)).ok().flatten()
}

/// The call's `filePath` sink, for the generic `http.downloadFile`.
pub fn call_sink() -> Option<Arc<FileSink>> {
    with(|c| c.sink.clone())
}

/// The call's download progress, for the generic `http.downloadFile`.
pub fn call_download_progress() -> Option<Arc<Progress>> {
    with(|c| c.download.clone())
}

/// The timeout of a request: the call's own, else the client's.
pub fn timeout(default: Duration) -> Duration {
    with(|c| c.timeout).unwrap_or(default)
}

/// The request body of a multipart upload, counted when the call has an
/// upload `onProgress`.
pub fn upload_body(form: &MultipartBody) -> reqwest::Body {
    let Ok((progress, cancel)) = CALL.try_with(|c| (c.upload.clone(), c.cancel.clone())) else {
        return form.to_body();
    };
    let body = match progress {
        None => form.to_body(),
        Some(progress) => {
            reqwest::Body::wrap(CountingBody::new(form.to_body(), progress, form.len()))
        }
    };
    match cancel {
        None => body,
        Some(cancel) => reqwest::Body::wrap(AbortableBody {
            inner: body,
            cancel,
        }),
    }
}

/// A request body that errors once the call is aborted.
struct AbortableBody {
    inner: reqwest::Body,
    cancel: CancellationToken,
}

impl http_body::Body for AbortableBody {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        if self.cancel.is_cancelled() {
            return std::task::Poll::Ready(Some(Err("the call was aborted".into())));
        }
        std::pin::Pin::new(&mut self.inner)
            .poll_frame(cx)
            .map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `request` is the call's transfer (the part progress and the sink
/// are about), rather than a token fetch or JSON step of the same call.
pub fn is_transfer(request: &Request) -> bool {
    request.timeout == TimeoutClass::Transfer
        && matches!(request.body, RequestBody::Empty | RequestBody::Multipart(_))
}

/// The download progress of this call, when `request` is its transfer.
pub fn download_progress(request: &Request) -> Option<Arc<Progress>> {
    if !is_transfer(request) || request.method != reqwest::Method::GET {
        return None;
    }
    with(|c| c.download.clone())
}

/// The file this reply goes to, if the call has one and the reply is the
/// downloaded content (a success, and not a JSON answer where that matters).
pub fn sink_for(request: &Request, status: u16, headers: &HeaderMap) -> Option<Arc<FileSink>> {
    if !(200..300).contains(&status)
        || !is_transfer(request)
        || request.method != reqwest::Method::GET
    {
        return None;
    }
    let sink = with(|c| c.sink.clone())?;
    match sink.mode() {
        SinkMode::AnySuccess => Some(sink),
        SinkMode::NotJson if looks_like_json(headers) => None,
        SinkMode::NotJson => Some(sink),
    }
}

/// WeChat's JSON answers: JSON or text, and not an attachment.
pub fn looks_like_json(headers: &HeaderMap) -> bool {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default()
    };
    if get(CONTENT_DISPOSITION).contains("attachment") {
        return false;
    }
    let ct = get(CONTENT_TYPE);
    ct.contains("json") || ct.starts_with("text/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn guard_drops_the_work_when_cancelled() {
        let token = CancellationToken::new();
        let t = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            t.cancel();
        });
        let started = std::time::Instant::now();
        let out: Result<(), WxError> = guard(Some(token), async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        })
        .await;
        assert_eq!(
            out.expect_err("aborted").kind,
            crate::error::ErrorKind::Aborted
        );
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn timeout_comes_from_the_scope() {
        let d = Duration::from_secs(60);
        assert_eq!(timeout(d), d);
        let controls = Arc::new(CallControls {
            timeout: Some(Duration::from_millis(5)),
            ..Default::default()
        });
        let inner = scope(Some(controls), async { timeout(d) }).await;
        assert_eq!(inner, Duration::from_millis(5));
    }

    #[test]
    fn json_detection() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, "text/plain".parse().expect("hv"));
        assert!(looks_like_json(&h));
        h.insert(
            CONTENT_DISPOSITION,
            "attachment; filename=a.jpg".parse().expect("hv"),
        );
        assert!(!looks_like_json(&h));
    }
}
