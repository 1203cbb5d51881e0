//! multipart/form-data bodies with an exact length, built without copying
//! the payload.
//!
//! WeChat answers 412 to chunked uploads and COS rejects some streamed forms,
//! so every body here knows its length up front. Part headers are small
//! `Bytes`; the payload is a [`Payload`] from `crate::source`: the caller's
//! `Bytes` (which may alias a JS Buffer), a file streamed from disk or a
//! remote source streamed through. The same body can be sent again byte for
//! byte (same boundary), which the token refresh-and-replay relies on.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body::{Frame, SizeHint};

/// Largest body frame handed to the connection at once.
const MAX_FRAME: usize = 256 * 1024;

/// Bodies at least this large yield the CPU every `YIELD_EVERY` bytes (see `ChunksBody`).
const YIELDING_BODY: u64 = 4 * 1024 * 1024;
const YIELD_EVERY: u64 = 1024 * 1024;

use crate::error::WxError;
use crate::source::Payload;

/// A complete multipart body: in-memory chunks, then optionally a streamed
/// payload (a file or a remote source) and the closing chunks.
#[derive(Debug, Clone)]
pub struct MultipartBody {
    boundary: String,
    head: Vec<Bytes>,
    file: Option<(Payload, Bytes)>,
    len: u64,
}

/// Builds a [`MultipartBody`] part by part, in wire order.
pub struct MultipartBuilder {
    boundary: String,
    chunks: Vec<Bytes>,
    len: u64,
}

impl Default for MultipartBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl MultipartBuilder {
    pub fn new() -> Self {
        Self::with_boundary(random_boundary())
    }

    /// A fixed boundary, for tests.
    pub fn with_boundary(boundary: String) -> Self {
        MultipartBuilder {
            boundary,
            chunks: Vec::with_capacity(4),
            len: 0,
        }
    }

    fn push(&mut self, chunk: Bytes) {
        self.len += chunk.len() as u64;
        if !chunk.is_empty() {
            self.chunks.push(chunk);
        }
    }

    /// A plain text field.
    pub fn text(mut self, name: &str, value: &str) -> Self {
        let head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{}\r\n",
            self.boundary,
            escape_quoted(name),
            value
        );
        self.push(Bytes::from(head));
        self
    }

    /// A binary field with a Content-Type and no filename, as form-data
    /// writes a Buffer appended without options (wx.openApi `requestData`).
    pub fn binary(mut self, name: &str, content_type: &str, data: Bytes) -> Self {
        let head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            self.boundary,
            escape_quoted(name),
            content_type
        );
        self.push(Bytes::from(head));
        self.push(data);
        self.push(Bytes::from_static(b"\r\n"));
        self
    }

    /// A file part whose content is already in memory (not copied).
    pub fn bytes(mut self, name: &str, filename: &str, content_type: &str, data: Bytes) -> Self {
        let head = self.file_part_head(name, filename, content_type);
        self.push(Bytes::from(head));
        // Zero-copy slices: a large payload goes out in several writes
        // instead of one long system call, so the I/O thread yields the CPU
        // to the event loop between them on a busy core.
        let mut rest = data;
        while rest.len() > MAX_FRAME {
            let frame = rest.split_to(MAX_FRAME);
            self.push(frame);
        }
        self.push(rest);
        self.push(Bytes::from_static(b"\r\n"));
        self
    }

    /// Closes the body after the parts added so far.
    pub fn finish(mut self) -> MultipartBody {
        let tail = format!("--{}--\r\n", self.boundary);
        self.push(Bytes::from(tail));
        MultipartBody {
            boundary: self.boundary,
            head: self.chunks,
            file: None,
            len: self.len,
        }
    }

    /// Adds `payload` (of `len` bytes) as the last part and closes the body:
    /// bytes in memory are framed without copying, streams are streamed.
    pub fn finish_with(
        self,
        name: &str,
        filename: &str,
        content_type: &str,
        payload: Payload,
        len: u64,
    ) -> MultipartBody {
        match payload {
            Payload::Memory(data) => self.bytes(name, filename, content_type, data).finish(),
            streamed => self.finish_with_stream(name, filename, content_type, streamed, len),
        }
    }

    fn finish_with_stream(
        mut self,
        name: &str,
        filename: &str,
        content_type: &str,
        file: Payload,
        file_len: u64,
    ) -> MultipartBody {
        let head = self.file_part_head(name, filename, content_type);
        self.push(Bytes::from(head));
        let tail = Bytes::from(format!("\r\n--{}--\r\n", self.boundary));
        let len = self.len + file_len + tail.len() as u64;
        MultipartBody {
            boundary: self.boundary,
            head: self.chunks,
            file: Some((file, tail)),
            len,
        }
    }

    fn file_part_head(&self, name: &str, filename: &str, content_type: &str) -> String {
        format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            self.boundary,
            escape_quoted(name),
            escape_quoted(filename),
            content_type
        )
    }
}

impl MultipartBody {
    /// The `Content-Type` header value; the boundary is not quoted (a quoted
    /// boundary has broken uploads to object stores).
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// Exact byte length of the body.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A fresh request body; cheap (reference-counted chunks), so it can be
    /// called again for a replay.
    pub fn to_body(&self) -> reqwest::Body {
        match &self.file {
            None => reqwest::Body::wrap(ChunksBody::new(self.head.iter().cloned(), self.len)),
            Some((file, tail)) => {
                let head = futures_util::stream::iter(self.head.clone().into_iter().map(Ok));
                let tail = futures_util::stream::iter(std::iter::once(Ok(tail.clone())));
                let stream = head.chain(file.stream()).chain(tail);
                reqwest::Body::wrap(SizedStream::new(stream, self.len))
            }
        }
    }

    /// Why the last send failed, when its source (not the destination) was
    /// at fault: such a failure is not retried.
    pub fn source_failure(&self) -> Option<WxError> {
        self.file.as_ref().and_then(|(p, _)| p.source_failure())
    }

    /// The in-memory chunks, concatenated (for tests).
    #[cfg(test)]
    fn head_bytes(&self) -> Vec<u8> {
        self.head.iter().flat_map(|c| c.iter().copied()).collect()
    }
}

/// A raw (not multipart) request body of exactly `len` bytes (COS PUT
/// Object): memory in frames like a multipart body, anything else streamed.
pub fn raw_body(payload: &crate::source::Payload, len: u64) -> reqwest::Body {
    match payload {
        crate::source::Payload::Memory(data) => {
            reqwest::Body::wrap(ChunksBody::new(std::iter::once(data.clone()), len))
        }
        other => reqwest::Body::wrap(SizedStream::new(other.stream(), len)),
    }
}

/// `----wxmedia` + 24 random hex digits: no characters that need quoting.
fn random_boundary() -> String {
    format!(
        "----wxmedia{:016x}{:08x}",
        fastrand::u64(..),
        fastrand::u32(..)
    )
}

/// Quotes are not allowed inside a quoted-string header parameter.
fn escape_quoted(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace(['\r', '\n'], " ")
}

/// A body of ready chunks with an exact size hint, so hyper sends a
/// Content-Length and never chunked encoding.
struct ChunksBody {
    chunks: VecDeque<Bytes>,
    remaining: u64,
    total: u64,
    /// Bytes handed out since the last yield.
    unyielded: u64,
}

impl ChunksBody {
    fn new(chunks: impl Iterator<Item = Bytes>, len: u64) -> Self {
        ChunksBody {
            chunks: chunks.collect(),
            remaining: len,
            total: len,
            unyielded: 0,
        }
    }
}

impl http_body::Body for ChunksBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.chunks.pop_front() {
            Some(chunk) => {
                if self.total >= YIELDING_BODY && self.unyielded >= YIELD_EVERY {
                    self.unyielded = 0;
                    // A multi-megabyte body is one long burst of socket
                    // writes; between its frames, let an event loop waiting
                    // for this core run first (it otherwise waits for the
                    // scheduler's time slice, milliseconds on a busy core).
                    std::thread::yield_now();
                }
                self.unyielded += chunk.len() as u64;
                self.remaining = self.remaining.saturating_sub(chunk.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// A byte stream announced with its exact total length. The stream sits in
/// a `Mutex` only to make the body `Sync` (reqwest requires it); it is
/// polled through `get_mut`, so the lock is never taken.
struct SizedStream<S> {
    inner: std::sync::Mutex<S>,
    remaining: u64,
}

impl<S> SizedStream<S> {
    fn new(inner: S, len: u64) -> Self {
        SizedStream {
            inner: std::sync::Mutex::new(inner),
            remaining: len,
        }
    }
}

impl<S> http_body::Body for SizedStream<S>
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin + Send,
{
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let inner = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        match inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.remaining = self.remaining.saturating_sub(chunk.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests;
