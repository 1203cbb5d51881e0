//! Reads an upload source from JS (SPEC §10): a Buffer / Uint8Array, an
//! `fs.ReadStream` (Rust streams its file), a JS stream adapted by
//! `lib/sources.js` into a `pull` function, `{ url, headers? }`,
//! `{ mediaId }` or `{ fileID }`. Every upload argument that takes bytes
//! (`media.value`, `fileContent`, `value` of `http.uploadFile`) uses
//! [`source_value`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};

use super::args::{bytes_value, count_value, describe, prop, string_prop, ArgResult};
use super::bytes::is_binary;
use crate::error::WxError;
use crate::source::{ChunkReader, Source};

/// The property `lib/sources.js` puts the pull function of a JS stream under.
const PULL_KEY: &str = "__wxMediaPull";

/// What the messages say a source may be.
pub const SOURCE_KINDS: &str = "a Buffer or Uint8Array, an fs.ReadStream, a Readable or async iterable of Buffers, { url, headers? }, a URL, { mediaId } or { fileID }";

pub fn source_value(value: Option<Unknown>, what: &'static str) -> ArgResult<Source> {
    let Some(value) = value else {
        return Err(WxError::invalid_param(format!(
            "{what} is missing: pass {SOURCE_KINDS}"
        )));
    };
    if is_binary(&value) {
        return bytes_value(value, what).map(Source::Bytes);
    }
    let kind = match describe(&value) {
        "an object" => "an object with none of url, mediaId, fileID",
        other => other,
    };
    if !matches!(value.get_type(), Ok(ValueType::Object)) {
        return Err(WxError::invalid_param(format!(
            "{what} must be {SOURCE_KINDS}, got {}",
            describe(&value)
        )));
    }
    let obj = Object::from_unknown(value).map_err(|e| WxError::invalid_param(e.reason.clone()))?;
    if has_type(&obj, PULL_KEY, ValueType::Function) {
        return pull_source(&obj, what);
    }
    if is_fs_stream(&obj) {
        return read_stream_source(&obj, what);
    }
    if let Some(url) = string_prop(&obj, "url", &format!("{what}.url"))? {
        return Ok(Source::Url {
            url,
            headers: headers(&obj, what)?,
        });
    }
    if let Some(id) = string_prop(&obj, "mediaId", &format!("{what}.mediaId"))? {
        return Ok(Source::MediaId(id));
    }
    if let Some(file_id) = string_prop(&obj, "fileID", &format!("{what}.fileID"))? {
        return Ok(Source::FileId { file_id, env: None });
    }
    Err(WxError::invalid_param(format!(
        "{what} must be {SOURCE_KINDS}, got {kind}"
    )))
}

fn has_type(obj: &Object, name: &str, ty: ValueType) -> bool {
    matches!(obj.get::<Unknown>(name), Ok(Some(v)) if v.get_type().ok() == Some(ty))
}

/// `headers` of a `{ url, headers }` source: an object of strings.
fn headers(obj: &Object, what: &str) -> ArgResult<Vec<(String, String)>> {
    let Some(v) = prop(obj, "headers")? else {
        return Ok(Vec::new());
    };
    let bad = || WxError::invalid_param(format!("{what}.headers must be an object of strings"));
    if !matches!(v.get_type(), Ok(ValueType::Object)) {
        return Err(bad());
    }
    let h = Object::from_unknown(v).map_err(|_| bad())?;
    let mut out = Vec::new();
    for name in Object::keys(&h).map_err(|_| bad())? {
        let value = string_prop(&h, &name, &format!("{what}.headers.{name}"))?.ok_or_else(bad)?;
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err()
            || reqwest::header::HeaderValue::from_str(&value).is_err()
        {
            return Err(WxError::invalid_param(format!(
                "{what}.headers.{name} is not a valid HTTP header"
            )));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// `true` when `stream` looks like an `fs.ReadStream` (`path`, `bytesRead`, `pipe`).
fn is_fs_stream(stream: &Object) -> bool {
    has_type(stream, "bytesRead", ValueType::Number)
        && has_type(stream, "pipe", ValueType::Function)
        && stream.get::<Unknown>("path").ok().flatten().is_some()
}

/// An `fs.ReadStream`: Rust reads its file (start/end honoured); the JS
/// stream is destroyed so it does not hold a descriptor.
fn read_stream_source(stream: &Object, what: &'static str) -> ArgResult<Source> {
    let path = match prop(stream, "path")? {
        Some(p) if matches!(p.get_type(), Ok(ValueType::String)) => {
            String::from_unknown(p).map_err(|e| WxError::invalid_param(e.reason.clone()))?
        }
        Some(p) if p.is_buffer().unwrap_or(false) => {
            let bytes = bytes_value(p, "the stream's path")?;
            String::from_utf8(bytes.to_vec()).map_err(|_| {
                WxError::invalid_param(format!("{what}'s path is not valid UTF-8"))
            })?
        }
        _ => {
            return Err(WxError::invalid_param(format!(
                "{what} is an fs.ReadStream without a readable path: pass fs.createReadStream(path) or a Buffer"
            )))
        }
    };
    let already_read = prop(stream, "bytesRead")?
        .map(|v| count_value(v, "the stream's bytesRead"))
        .transpose()?
        .unwrap_or(0);
    if already_read > 0 {
        return Err(WxError::invalid_param(format!(
            "{what} is an fs.ReadStream that has already been read from: pass a fresh stream"
        )));
    }
    let start = prop(stream, "start")?
        .map(|v| count_value(v, "the stream's start"))
        .transpose()?
        .unwrap_or(0);
    let end = match prop(stream, "end")? {
        Some(v) if matches!(v.get_type(), Ok(ValueType::Number)) => {
            let n = f64::from_unknown(v).map_err(|e| WxError::invalid_param(e.reason.clone()))?;
            // fs.ReadStream uses Infinity for "to the end".
            n.is_finite().then(|| n.max(0.0) as u64)
        }
        _ => None,
    };
    destroy_stream(stream);
    Ok(Source::File {
        path: PathBuf::from(path),
        start,
        end,
    })
}

/// The stream opened a descriptor that nobody will read through: close it.
fn destroy_stream(stream: &Object) {
    if let Ok(Some(destroy)) = stream.get::<Function<(), Unknown>>("destroy") {
        // A failure to close is not the caller's upload failing; ignore it.
        let _ = destroy.apply(stream, ());
    }
}

/// `pull(stop)` of `lib/sources.js`: resolves the next chunk as a Buffer, or
/// null at the end; `pull(true)` destroys the stream.
type PullFn = ThreadsafeFunction<bool, Promise<Option<Buffer>>, bool, Status, false>;

fn pull_source(obj: &Object, what: &'static str) -> ArgResult<Source> {
    let func: Function<bool, Promise<Option<Buffer>>> = obj
        .get_named_property(PULL_KEY)
        .map_err(|e| WxError::invalid_param(format!("cannot read {what}: {}", e.reason)))?;
    let tsfn = func
        .build_threadsafe_function::<bool>()
        .callee_handled::<false>()
        .build()
        .map_err(|e| WxError::invalid_param(format!("cannot read {what}: {}", e.reason)))?;
    Ok(Source::Chunks(Arc::new(JsChunks {
        pull: tsfn,
        finished: AtomicBool::new(false),
        what,
    })))
}

/// A JS stream read through its pull function; stopped when dropped early
/// (the call failed before reading it all), so it never holds its resources.
struct JsChunks {
    pull: PullFn,
    finished: AtomicBool,
    what: &'static str,
}

/// `lib/sources.js` rejects with this prefix when the caller's stream yields
/// something that is not bytes.
const INVALID_PREFIX: &str = "INVALID_PARAM: ";

impl ChunkReader for JsChunks {
    fn next(&self) -> BoxFuture<'_, std::result::Result<Option<Bytes>, WxError>> {
        Box::pin(async move {
            let failed = |e: Error| match e.reason.strip_prefix(INVALID_PREFIX) {
                Some(detail) => WxError::invalid_param(detail.to_string()),
                None => WxError::source(None, format!("{} failed: {}", self.what, e.reason)),
            };
            let result = match self.pull.call_async(false).await {
                Ok(promise) => promise.await,
                Err(e) => Err(e),
            };
            match result {
                // lib/sources.js hands over a private copy that no JS can
                // reach, detach or resize, and `chunk` keeps it alive: it is
                // safe to read here, off the JS thread, without copying again.
                Ok(Some(chunk)) => Ok(Some(Bytes::from_owner(chunk))),
                Ok(None) => {
                    self.finished.store(true, Ordering::SeqCst);
                    Ok(None)
                }
                Err(e) => {
                    self.finished.store(true, Ordering::SeqCst);
                    Err(failed(e))
                }
            }
        })
    }

    fn stop(&self) {
        if !self.finished.swap(true, Ordering::SeqCst) {
            let _ = self
                .pull
                .call(true, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

impl Drop for JsChunks {
    fn drop(&mut self) {
        self.stop();
    }
}
