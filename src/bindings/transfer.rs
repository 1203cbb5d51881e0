//! JS side of the per-call controls: the cancel handle lib/ triggers from an
//! `AbortSignal`, the `onProgress` callback as a threadsafe function,
//! `config.timeout`, `filePath`; and [`spawn`], which runs a call under them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::args::{count_value, object_arg, prop, string_prop, ArgResult};
use super::settle;
use crate::error::WxError;
use crate::progress::{Delivered, Direction, Progress, ProgressEvent, Reporter};
use crate::sink::{FileSink, SinkMode};
use crate::transfer::{self, CallControls};

/// Native side of a call's `signal`: lib/ makes one per call that has a
/// signal (`cancelHandle()`), passes it beside the arguments, and calls
/// `cancelCall(handle)` from the signal's 'abort' listener. Internal to lib/,
/// so not in index.d.ts.
#[napi(skip_typescript)]
pub fn cancel_handle() -> External<CancellationToken> {
    External::new(CancellationToken::new())
}

/// Aborts the call `handle` was given to.
#[napi(skip_typescript)]
pub fn cancel_call(handle: &External<CancellationToken>) {
    handle.cancel();
}

/// A call's cancel handle, from `cancelHandle()`.
pub type Cancel = Option<ExternalRef<CancellationToken>>;
pub type OnProgress<'e> = Option<Function<'e, serde_json::Value, ()>>;

type ProgressFn = ThreadsafeFunction<serde_json::Value, (), serde_json::Value, Status, false, true>;

/// Calls the JS `onProgress` on the JS thread. Weak: it never keeps the
/// process alive by itself (the pending promise does).
struct JsReporter {
    tsfn: Arc<ProgressFn>,
}

fn event_object(e: ProgressEvent) -> serde_json::Value {
    let mut v = match e.direction {
        Direction::Upload => json!({
            "progress": e.progress,
            "totalBytesSent": e.done,
            "totalBytesExpectedToSend": e.total,
        }),
        Direction::Download => json!({
            "progress": e.progress,
            "totalBytesWritten": e.done,
            "totalBytesExpectedToWrite": e.total,
        }),
    };
    if e.retry {
        v["retry"] = json!(true);
    }
    v
}

impl Reporter for JsReporter {
    fn report(&self, event: ProgressEvent) {
        // Never blocks a tokio thread; the queue is unbounded.
        self.tsfn
            .call(event_object(event), ThreadsafeFunctionCallMode::NonBlocking);
    }

    fn report_last(&self, event: ProgressEvent) -> Delivered {
        let tsfn = self.tsfn.clone();
        Box::pin(async move {
            // lib/ wraps the callback so it never throws; a closed
            // environment just means nobody listens any more.
            let _ = tsfn.call_async(event_object(event)).await;
        })
    }
}

/// What [`spawn`] needs beyond the call's work.
pub struct Controls {
    cancel: Option<CancellationToken>,
    call: Option<Arc<CallControls>>,
    progress: Option<Arc<Progress>>,
}

/// Which `filePath` a call takes, if any.
enum Sinks {
    None,
    File(SinkMode),
}

fn millis(v: Unknown, what: &str) -> ArgResult<Duration> {
    match count_value(v, what)? {
        0 => Err(WxError::invalid_param(format!(
            "{what} must be more than 0 ms"
        ))),
        n => Ok(Duration::from_millis(n)),
    }
}

/// `config.timeout` (every call) or `timeout` (the http calls).
fn call_timeout(obj: &Object) -> ArgResult<Option<Duration>> {
    if let Some(v) = prop(obj, "timeout")? {
        return millis(v, "timeout").map(Some);
    }
    match prop(obj, "config")? {
        None => Ok(None),
        Some(v) => {
            let config = object_arg(Some(v), "config as { env?, timeout? }")?;
            prop(&config, "timeout")?
                .map(|t| millis(t, "config.timeout"))
                .transpose()
        }
    }
}

/// The controls of an upload call: `signal`, `onProgress` (bytes sent) and
/// the timeout.
pub fn upload_controls(
    args: Option<&Unknown>,
    cancel: Cancel,
    on_progress: OnProgress,
) -> ArgResult<Controls> {
    call_controls(args, cancel, on_progress, Direction::Upload, Sinks::None)
}

/// The controls of a download call: `signal`, `onProgress` (bytes received),
/// the timeout and `filePath` (written as `mode` says); with its file sink,
/// when it has one.
pub fn download_controls(
    args: Option<&Unknown>,
    cancel: Cancel,
    on_progress: OnProgress,
    mode: SinkMode,
) -> (ArgResult<Controls>, Option<Arc<FileSink>>) {
    let sinks = Sinks::File(mode);
    let controls = call_controls(args, cancel, on_progress, Direction::Download, sinks);
    let sink = controls.as_ref().ok().and_then(Controls::sink);
    (controls, sink)
}

/// The controls of a call that moves no file (lookups, deletes, open-API
/// calls): `signal` and the timeout.
pub fn lookup_controls(args: Option<&Unknown>, cancel: Cancel) -> ArgResult<Controls> {
    call_controls(args, cancel, None, Direction::Download, Sinks::None)
}

/// Reads the controls of a call: its cancel handle and progress callback
/// (passed by lib/ beside the arguments), `config.timeout`, and `filePath`
/// when the call can write to a file.
fn call_controls(
    args: Option<&Unknown>,
    cancel: Cancel,
    on_progress: OnProgress,
    direction: Direction,
    sinks: Sinks,
) -> ArgResult<Controls> {
    // Cloned out here, on the JS thread, where the handle's reference is dropped.
    let cancel = cancel.map(|c| (*c).clone());
    let obj = match args {
        Some(v) if matches!(v.get_type(), Ok(ValueType::Object)) => {
            Some(Object::from_unknown(*v).map_err(|e| WxError::invalid_param(e.reason.clone()))?)
        }
        // A wrong argument is reported by the call's own parsing.
        _ => None,
    };
    let mut call = CallControls {
        cancel: cancel.clone(),
        ..Default::default()
    };
    if let Some(obj) = &obj {
        call.timeout = call_timeout(obj)?;
        if let Sinks::File(mode) = sinks {
            // `file_path`: the openapi path passes arguments snake_cased.
            let path = match string_prop(obj, "filePath", "filePath")? {
                Some(p) => Some(p),
                None => string_prop(obj, "file_path", "filePath")?,
            };
            call.sink = path
                .map(|path| {
                    if path.is_empty() {
                        return Err(WxError::invalid_param(
                            "filePath is empty: pass the path to write the download to",
                        ));
                    }
                    Ok(Arc::new(FileSink::new(PathBuf::from(path), mode)))
                })
                .transpose()?;
        }
    }
    let progress = match on_progress {
        None => None,
        Some(f) => {
            let tsfn = f
                .build_threadsafe_function::<serde_json::Value>()
                .callee_handled::<false>()
                .weak::<true>()
                .build()
                .map_err(|e| {
                    WxError::invalid_param(format!("cannot use onProgress: {}", e.reason))
                })?;
            let reporter = Arc::new(JsReporter {
                tsfn: Arc::new(tsfn),
            });
            Some(Arc::new(Progress::new(direction, reporter)))
        }
    };
    match direction {
        Direction::Upload => call.upload = progress.clone(),
        Direction::Download => call.download = progress.clone(),
    }
    Ok(Controls {
        cancel,
        call: (!call.is_empty()).then(|| Arc::new(call)),
        progress,
    })
}

impl Controls {
    /// The call's file sink, when it has a `filePath`.
    pub fn sink(&self) -> Option<Arc<FileSink>> {
        self.call.as_ref().and_then(|c| c.sink.clone())
    }
}

/// [`settle::spawn`] under the call's controls: the work sees the timeout,
/// progress and sink; an abort drops it and rejects `ABORTED`; on success the
/// final progress event is delivered before the promise settles.
pub fn spawn<'env, T, V, F, C>(
    env: &'env Env,
    api: &'static str,
    controls: ArgResult<Controls>,
    work: F,
    to_js: C,
) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: std::future::Future<Output = std::result::Result<T, WxError>> + Send + 'static,
    C: FnOnce(&Env, T) -> Result<V> + Send + 'static,
{
    settle::spawn(
        env,
        api,
        async move {
            let Controls {
                cancel,
                call,
                progress,
            } = controls?;
            let run = async move {
                let value = work.await?;
                if let Some(p) = &progress {
                    p.finish().await;
                }
                Ok(value)
            };
            transfer::guard(cancel, transfer::scope(call, run)).await
        },
        to_js,
    )
}

/// `onProgress` of an upload (seed 004's `onProgressUpdate`). At most one
/// event per percent or per 100 ms; the last has `progress: 100` and arrives
/// before the call settles. `retry: true` marks the first event of a request
/// sent again (a retry or a token replay), whose byte count starts over.
#[allow(dead_code)] // index.d.ts only
#[napi(object)]
pub struct UploadProgress {
    /// Whole percent, 0–100.
    pub progress: u32,
    pub total_bytes_sent: f64,
    pub total_bytes_expected_to_send: f64,
    pub retry: Option<bool>,
}

/// `onProgress` of a download; as [`UploadProgress`]. While the reply has
/// no length, `progress` is 0 and `totalBytesExpectedToWrite` 0.
#[allow(dead_code)] // index.d.ts only
#[napi(object)]
pub struct DownloadProgress {
    /// Whole percent, 0–100.
    pub progress: u32,
    pub total_bytes_written: f64,
    pub total_bytes_expected_to_write: f64,
    pub retry: Option<bool>,
}
