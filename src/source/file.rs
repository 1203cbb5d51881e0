//! A file on disk (an `fs.ReadStream`'s path): measured with `stat`, its first
//! bytes read to sniff the type, and streamed from disk on every send.

use std::path::PathBuf;

use bytes::Bytes;
use futures_util::StreamExt;

use super::{IoStream, Limit, Opened, Payload, HEAD_BYTES};
use crate::error::WxError;

/// `len` bytes of a file from `offset`.
#[derive(Debug, Clone)]
pub struct FileSource {
    pub path: PathBuf,
    pub offset: u64,
    pub len: u64,
}

pub(super) async fn open(
    path: PathBuf,
    start: u64,
    end: Option<u64>,
    limit: &Limit,
) -> Result<Opened, WxError> {
    let what = limit.what;
    let unreadable = |e: std::io::Error| {
        WxError::invalid_param(format!("cannot read {what}'s file {}: {e}", path.display()))
    };
    let meta = tokio::fs::metadata(&path).await.map_err(unreadable)?;
    if !meta.is_file() {
        return Err(WxError::invalid_param(format!(
            "{what}'s path {} is not a regular file",
            path.display()
        )));
    }
    let stop = end.map_or(meta.len(), |e| e.saturating_add(1).min(meta.len()));
    let len = stop.saturating_sub(start);
    limit.check(len)?;
    let head = read_head(&path, start, len.min(HEAD_BYTES as u64))
        .await
        .map_err(unreadable)?;
    Ok(Opened {
        len,
        head,
        payload: Payload::File(FileSource {
            path,
            offset: start,
            len,
        }),
    })
}

async fn read_head(path: &std::path::Path, start: u64, len: u64) -> std::io::Result<Bytes> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(std::io::SeekFrom::Start(start)).await?;
    let mut buf = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut buf).await?;
    Ok(Bytes::from(buf))
}

/// Streams `len` bytes of a file from `offset`, in 256 KiB reads, and fails if
/// the file turns out shorter than announced (the length is on the wire already).
pub(super) fn stream(src: FileSource) -> IoStream {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let opened = async move {
        let mut file = tokio::fs::File::open(&src.path).await?;
        if src.offset > 0 {
            file.seek(std::io::SeekFrom::Start(src.offset)).await?;
        }
        Ok::<_, std::io::Error>(tokio_util::io::ReaderStream::with_capacity(
            file.take(src.len),
            256 * 1024,
        ))
    };
    let expected = src.len;
    let stream = futures_util::stream::once(opened)
        .map(|r| match r {
            Ok(s) => s.boxed(),
            Err(e) => futures_util::stream::once(async move { Err(e) }).boxed(),
        })
        .flatten();
    let mut seen = 0u64;
    let checked = stream
        .chain(futures_util::stream::once(async { Ok(Bytes::new()) }))
        .filter_map(move |item| {
            let out = match item {
                Ok(chunk) if chunk.is_empty() => {
                    // End marker: the file must have delivered every byte.
                    if seen < expected {
                        Some(Err(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!("file ended after {seen} of {expected} bytes"),
                        )))
                    } else {
                        None
                    }
                }
                Ok(chunk) => {
                    seen += chunk.len() as u64;
                    Some(Ok(chunk))
                }
                Err(e) => Some(Err(e)),
            };
            std::future::ready(out)
        });
    Box::pin(checked)
}
