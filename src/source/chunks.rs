//! A one-shot stream whose chunks JS hands over (a Node `Readable` or any
//! async iterable). It is read to the end before anything is sent, so the
//! Content-Length is exact and a replay sends identical bytes; going over
//! the limit stops (and destroys) the stream and refuses the call.

use bytes::{Bytes, BytesMut};
use futures_util::future::BoxFuture;

use super::{Limit, Opened, Payload, HEAD_BYTES};
use crate::error::WxError;

/// The next chunk of a JS stream (`None` at its end); `stop` tells the
/// stream to destroy itself and release what it holds.
pub trait ChunkReader: Send + Sync {
    fn next(&self) -> BoxFuture<'_, Result<Option<Bytes>, WxError>>;
    fn stop(&self);
}

pub(super) async fn read_all(reader: &dyn ChunkReader, limit: &Limit) -> Result<Opened, WxError> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = reader.next().await? {
        let total = buf.len() as u64 + chunk.len() as u64;
        if total > limit.max {
            reader.stop();
            return Err(limit.exceeded(&format!("more than {}", limit.max)));
        }
        buf.extend_from_slice(&chunk);
    }
    let data = buf.freeze();
    Ok(Opened {
        len: data.len() as u64,
        head: data.slice(..data.len().min(HEAD_BYTES)),
        payload: Payload::Memory(data),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    struct Parts {
        parts: Vec<&'static [u8]>,
        at: AtomicUsize,
        stopped: AtomicBool,
    }

    impl ChunkReader for Parts {
        fn next(&self) -> BoxFuture<'_, Result<Option<Bytes>, WxError>> {
            let i = self.at.fetch_add(1, Ordering::SeqCst);
            let part = self.parts.get(i).map(|p| Bytes::from_static(p));
            Box::pin(async move { Ok(part) })
        }
        fn stop(&self) {
            self.stopped.store(true, Ordering::SeqCst);
        }
    }

    fn parts(p: Vec<&'static [u8]>) -> Parts {
        Parts {
            parts: p,
            at: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
        }
    }

    #[tokio::test]
    async fn buffers_up_to_the_limit() {
        let limit = Limit::new(5, "fileContent", "maxUploadBytes");
        let ok = read_all(&parts(vec![b"ab", b"cde"]), &limit)
            .await
            .expect("fits");
        assert_eq!(ok.len, 5);
        assert_eq!(&ok.head[..], b"abcde");
        let big = parts(vec![b"abc", b"def"]);
        let e = read_all(&big, &limit).await.expect_err("over");
        assert!(e.detail.contains("maxUploadBytes"), "{}", e.detail);
        assert!(big.stopped.load(Ordering::SeqCst));
    }
}
