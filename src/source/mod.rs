//! Where upload bytes come from (SPEC §10, issue 9 item 1).
//!
//! A [`Source`] is what the caller passed (a Buffer, a file, a JS stream, a
//! URL, a mediaId, a fileID). [`Source::open`] turns it into an [`Opened`]
//! source: its exact length, its first bytes (to sniff the content type) and
//! a [`Payload`] that the multipart builder sends with that exact length.
//! Every upload (media, storage, `http.uploadFile`) goes through this one
//! seam, so each source kind works everywhere bytes are expected.
//!
//! Lengths are always known before a byte is sent: memory and files are
//! measured, a URL with a Content-Length is streamed through with that
//! length, and anything else (a JS stream, a URL without a length) is
//! buffered up to the call's [`Limit`].

mod body;
mod chunks;
mod file;
mod remote;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;

use crate::client::Client;
use crate::error::WxError;

pub use body::{IoStream, StreamPayload};
pub use chunks::ChunkReader;
pub use file::FileSource;

/// How many leading bytes are kept for content sniffing.
pub const HEAD_BYTES: usize = 8192;

/// The bytes of an upload, as the caller gave them.
#[derive(Clone)]
pub enum Source {
    /// Bytes in memory (may alias a JS Buffer: not copied).
    Bytes(Bytes),
    /// A file on disk, streamed by Rust: bytes `start..=end` (end inclusive,
    /// as in `fs.createReadStream`).
    File {
        path: PathBuf,
        start: u64,
        end: Option<u64>,
    },
    /// A one-shot stream whose chunks JS hands over (a Node Readable or any
    /// async iterable); buffered up to the limit so the length is exact and a
    /// replay sends identical bytes.
    Chunks(Arc<dyn ChunkReader>),
    /// `{ url, headers? }`: fetched by Rust with the client's proxy, CA and timeouts.
    Url {
        url: String,
        headers: Vec<(String, String)>,
    },
    /// `{ mediaId }`: temporary media, fetched through `media/get`.
    MediaId(String),
    /// `{ fileID }`: a Cloud Base file, fetched through its download link.
    FileId {
        file_id: String,
        env: Option<String>,
    },
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Source::File { path, start, end } => {
                write!(f, "File({}, {start}..={end:?})", path.display())
            }
            Source::Chunks(_) => f.write_str("Chunks"),
            Source::Url { url, .. } => write!(f, "Url({})", remote::redacted_url(url)),
            Source::MediaId(id) => write!(f, "MediaId({id})"),
            Source::FileId { file_id, .. } => write!(f, "FileId({file_id})"),
        }
    }
}

/// The size limit of one call, and how to name it in messages.
#[derive(Debug, Clone)]
pub struct Limit {
    /// Largest accepted length in bytes.
    pub max: u64,
    /// The argument, e.g. `media.value` or `fileContent`.
    pub what: &'static str,
    /// The limit, e.g. `the image limit` or `maxUploadBytes`.
    pub name: String,
}

impl Limit {
    pub fn new(max: u64, what: &'static str, name: impl Into<String>) -> Self {
        Limit {
            max,
            what,
            name: name.into(),
        }
    }

    /// Refuses `len` bytes when over the limit (INVALID_PARAM: nothing was sent).
    pub fn check(&self, len: u64) -> Result<(), WxError> {
        if len > self.max {
            return Err(self.exceeded(&len.to_string()));
        }
        Ok(())
    }

    fn exceeded(&self, len: &str) -> WxError {
        WxError::invalid_param(format!(
            "{} is {len} bytes, over {} of {} bytes",
            self.what, self.name, self.max
        ))
    }
}

/// A source with its length known, ready to send (and to send again).
#[derive(Debug, Clone)]
pub struct Opened {
    pub len: u64,
    /// The first bytes (up to [`HEAD_BYTES`]), for the content type.
    pub head: Bytes,
    pub payload: Payload,
}

/// The body of the file part of an upload.
#[derive(Debug, Clone)]
pub enum Payload {
    /// All of it in memory.
    Memory(Bytes),
    /// A region of a file, streamed from disk on every send.
    File(FileSource),
    /// Streamed from a remote source; a replay re-opens it.
    Stream(Arc<StreamPayload>),
}

impl Payload {
    /// The bytes as a stream of exactly `len` bytes (not for `Memory`, which
    /// the multipart builder frames itself).
    pub fn stream(&self) -> IoStream {
        match self {
            Payload::Memory(data) => Box::pin(futures_util::stream::iter(std::iter::once(Ok(
                data.clone(),
            )))),
            Payload::File(file) => file::stream(file.clone()),
            Payload::Stream(stream) => stream.stream(),
        }
    }

    /// Why the last send of this payload failed, when the source (not the
    /// destination) was at fault.
    pub fn source_failure(&self) -> Option<WxError> {
        match self {
            Payload::Stream(stream) => stream.failure(),
            _ => None,
        }
    }
}

impl Source {
    /// Measures the source (reading only its first bytes, or buffering it when
    /// its length is unknown) and refuses it when over `limit`. Nothing is sent
    /// to the destination yet.
    pub async fn open(self, client: &Client, limit: &Limit) -> Result<Opened, WxError> {
        Ok(match self {
            Source::Bytes(data) => {
                limit.check(data.len() as u64)?;
                Opened {
                    len: data.len() as u64,
                    head: data.slice(..data.len().min(HEAD_BYTES)),
                    payload: Payload::Memory(data),
                }
            }
            Source::File { path, start, end } => file::open(path, start, end, limit).await?,
            Source::Chunks(reader) => chunks::read_all(reader.as_ref(), limit).await?,
            Source::Url { url, headers } => remote::open_url(client, url, headers, limit).await?,
            Source::MediaId(id) => remote::open_media(client, &id, limit).await?,
            Source::FileId { file_id, env } => {
                remote::open_cloud_file(client, &file_id, env, limit).await?
            }
        })
    }

    /// Bytes the caller's JS Buffer lends to this call (to release on the JS thread).
    pub fn lent_bytes(&self) -> Option<Bytes> {
        match self {
            Source::Bytes(data) => Some(data.clone()),
            _ => None,
        }
    }
}
