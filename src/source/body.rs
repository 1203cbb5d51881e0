//! A streamed payload of an exact length that can be sent again: the first
//! send uses the stream opened to sniff the content, a replay re-opens the
//! source. A source that delivers more or fewer bytes than it promised fails
//! the upload with `SOURCE_ERROR` (recorded so the client does not mistake it
//! for a network failure of the destination and retry).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{Stream, StreamExt};

use crate::error::WxError;

pub type IoStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// Opens the source again: its announced length and its bytes.
pub type Reopen =
    Box<dyn Fn() -> BoxFuture<'static, Result<(u64, IoStream), WxError>> + Send + Sync>;

pub struct StreamPayload {
    len: u64,
    /// The source as messages name it (never with a query string).
    name: String,
    first: Mutex<Option<IoStream>>,
    reopen: Reopen,
    failure: Arc<Mutex<Option<WxError>>>,
}

impl std::fmt::Debug for StreamPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StreamPayload({}, {} bytes)", self.name, self.len)
    }
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl StreamPayload {
    pub fn new(len: u64, name: String, first: IoStream, reopen: Reopen) -> Self {
        StreamPayload {
            len,
            name,
            first: Mutex::new(Some(first)),
            reopen,
            failure: Arc::new(Mutex::new(None)),
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The failure of the last send, when the source was at fault.
    pub fn failure(&self) -> Option<WxError> {
        locked(&self.failure).clone()
    }

    /// The bytes for one send: the stream already open, else a re-opened one.
    pub fn stream(&self) -> IoStream {
        *locked(&self.failure) = None;
        let failure = self.failure.clone();
        let inner = match locked(&self.first).take() {
            Some(stream) => stream,
            None => {
                let reopened = (self.reopen)();
                let len = self.len;
                let name = self.name.clone();
                let record = failure.clone();
                futures_util::stream::once(async move {
                    match reopened.await {
                        Ok((n, stream)) if n == len => stream,
                        Ok((n, _)) => failed(
                            &record,
                            WxError::source(
                                None,
                                format!("{name} changed length on a replay ({n} bytes, was {len})"),
                            ),
                        ),
                        Err(e) => failed(&record, e),
                    }
                })
                .flatten()
                .boxed()
            }
        };
        Box::pin(Exact {
            inner,
            len: self.len,
            seen: 0,
            done: false,
            name: self.name.clone(),
            failure,
        })
    }
}

/// A stream of one error, after recording it.
fn failed(record: &Mutex<Option<WxError>>, err: WxError) -> IoStream {
    let io = std::io::Error::other(err.detail.clone());
    *locked(record) = Some(err);
    futures_util::stream::once(async move { Err(io) }).boxed()
}

/// Passes `len` bytes through and fails if the source sends more or fewer.
struct Exact {
    inner: IoStream,
    len: u64,
    seen: u64,
    done: bool,
    name: String,
    failure: Arc<Mutex<Option<WxError>>>,
}

impl Exact {
    fn fail(&mut self, detail: String) -> Poll<Option<std::io::Result<Bytes>>> {
        self.done = true;
        let mut slot = locked(&self.failure);
        if slot.is_none() {
            *slot = Some(WxError::source(None, detail.clone()));
        }
        Poll::Ready(Some(Err(std::io::Error::other(detail))))
    }
}

impl Stream for Exact {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                self.seen += chunk.len() as u64;
                if self.seen > self.len {
                    let detail = format!(
                        "{} sent more than the {} bytes it announced",
                        self.name, self.len
                    );
                    return self.fail(detail);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                let detail = format!(
                    "{} failed after {} of {} bytes: {e}",
                    self.name, self.seen, self.len
                );
                self.fail(detail)
            }
            Poll::Ready(None) if self.seen < self.len => {
                let detail = format!(
                    "{} ended after {} of the {} bytes it announced",
                    self.name, self.seen, self.len
                );
                self.fail(detail)
            }
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> IoStream {
        let items: Vec<std::io::Result<Bytes>> =
            parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        futures_util::stream::iter(items).boxed()
    }

    async fn collect(s: IoStream) -> Result<Vec<u8>, std::io::Error> {
        let mut out = Vec::new();
        let mut s = s;
        while let Some(c) = s.next().await {
            out.extend_from_slice(&c?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn first_send_then_replays_reopen() {
        let opened = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = opened.clone();
        let p = StreamPayload::new(
            4,
            "the source".into(),
            chunks(&[b"ab", b"cd"]),
            Box::new(move || {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Box::pin(async { Ok((4, chunks(&[b"abcd"]))) })
            }),
        );
        assert_eq!(collect(p.stream()).await.expect("first"), b"abcd");
        assert_eq!(collect(p.stream()).await.expect("replay"), b"abcd");
        assert_eq!(opened.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(p.failure().is_none());
    }

    #[tokio::test]
    async fn short_long_and_changed_sources_fail() {
        let short = StreamPayload::new(
            5,
            "the source".into(),
            chunks(&[b"ab"]),
            Box::new(|| Box::pin(async { Ok((6, chunks(&[b"abcdef"]))) })),
        );
        assert!(collect(short.stream()).await.is_err());
        let e = short.failure().expect("recorded");
        assert_eq!(e.kind, crate::error::ErrorKind::Source);
        assert!(e.detail.contains("ended after 2 of the 5"), "{}", e.detail);
        assert!(collect(short.stream()).await.is_err());
        assert!(short
            .failure()
            .expect("recorded")
            .detail
            .contains("changed length"));
        let long = StreamPayload::new(
            1,
            "the source".into(),
            chunks(&[b"ab"]),
            Box::new(|| Box::pin(async { Err(WxError::source(Some(404), "gone")) })),
        );
        assert!(collect(long.stream()).await.is_err());
        assert!(long
            .failure()
            .expect("recorded")
            .detail
            .contains("more than"));
        assert!(collect(long.stream()).await.is_err());
        assert_eq!(long.failure().expect("recorded").status, Some(404));
    }
}
