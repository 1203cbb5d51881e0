//! Downloads written to a `filePath`: the bytes go to a temporary file in the
//! same directory, which is renamed over `filePath` only once the whole call
//! has succeeded. A failed, aborted or retried download removes its temporary
//! file (on drop, so also when the call's future is dropped by an abort), and
//! `filePath` is never seen half-written.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use crate::error::WxError;

/// Which replies of a call go to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkMode {
    /// Every 2xx reply to the call's transfer request (COS and generic downloads).
    AnySuccess,
    /// 2xx replies that are not WeChat JSON (getTempMedia answers errors and
    /// video links as JSON, sometimes labelled text/plain).
    NotJson,
}

/// The target of one call's download.
#[derive(Debug)]
pub struct FileSink {
    target: PathBuf,
    mode: SinkMode,
    /// The complete temporary file of the attempt that succeeded.
    finished: Mutex<Option<TempFile>>,
}

/// A temporary file that is removed when dropped, unless persisted.
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
    persisted: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            // Best effort: it may never have been created.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> WxError {
    WxError::invalid_param(format!("cannot {what} {}: {e}", path.display()))
}

impl FileSink {
    pub fn new(target: PathBuf, mode: SinkMode) -> Self {
        FileSink {
            target,
            mode,
            finished: Mutex::new(None),
        }
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    pub fn mode(&self) -> SinkMode {
        self.mode
    }

    fn dir(&self) -> &Path {
        match self.target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    /// Checked before any request: the directory exists and the target is
    /// not a directory.
    pub async fn check(&self) -> Result<(), WxError> {
        let dir = self.dir();
        let meta = tokio::fs::metadata(dir)
            .await
            .map_err(|e| io_error("write to the directory of filePath", dir, e))?;
        if !meta.is_dir() {
            return Err(WxError::invalid_param(format!(
                "the parent of filePath {} is not a directory",
                self.target.display()
            )));
        }
        if tokio::fs::metadata(&self.target)
            .await
            .is_ok_and(|m| m.is_dir())
        {
            return Err(WxError::invalid_param(format!(
                "filePath {} is a directory: pass a file path",
                self.target.display()
            )));
        }
        Ok(())
    }

    /// A new, empty temporary file beside the target.
    ///
    /// Opened synchronously (one quick system call): with tokio's
    /// thread-pool `open`, an abort landing while the open was in flight
    /// would drop the guard before the file existed, and leave it behind.
    pub async fn create_temp(&self) -> Result<(TempFile, tokio::fs::File), WxError> {
        let base = self
            .target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "download".to_owned());
        for _ in 0..8 {
            let name = format!(".{base}.{:012x}.wxmedia-part", fastrand::u64(..1 << 48));
            let path = self.dir().join(name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    let temp = TempFile {
                        path,
                        persisted: false,
                    };
                    return Ok((temp, tokio::fs::File::from_std(file)));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_error("create a temporary file in", self.dir(), e)),
            }
        }
        Err(WxError::invalid_param(format!(
            "cannot create a temporary file in {}",
            self.dir().display()
        )))
    }

    /// The attempt that wrote `temp` completed: keep it for [`commit`].
    pub fn completed(&self, temp: TempFile) {
        let mut slot = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        // An earlier complete attempt (replaced by a retry) is removed on drop.
        *slot = Some(temp);
    }

    /// The call succeeded: move the downloaded file into place. `fallback` is
    /// the body when the reply was held in memory instead (not streamed).
    pub async fn commit(&self, fallback: Bytes) -> Result<PathBuf, WxError> {
        let done = self
            .finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let mut temp = match done {
            Some(temp) => temp,
            None => {
                let (temp, mut file) = self.create_temp().await?;
                let written = async {
                    file.write_all(&fallback).await?;
                    file.flush().await
                };
                written
                    .await
                    .map_err(|e| io_error("write", &temp.path, e))?;
                temp
            }
        };
        // Synchronous, like the open: an abort cannot land between the rename
        // and `persisted`, so an aborted call never leaves a file in place.
        std::fs::rename(&temp.path, &self.target)
            .map_err(|e| io_error("move the download to", &self.target, e))?;
        temp.persisted = true;
        Ok(self.target.clone())
    }
}

/// Writes a reply body into a fresh temporary file of `sink`, reporting
/// `on_chunk` for each piece; the finished file is handed to the sink.
pub async fn write_stream<S, E>(
    sink: &FileSink,
    mut chunks: S,
    mut on_chunk: impl FnMut(usize),
    read_error: impl Fn(E) -> WxError,
) -> Result<(), WxError>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
{
    use futures_util::StreamExt;
    let (temp, file) = sink.create_temp().await?;
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(&read_error)?;
        out.write_all(&chunk)
            .await
            .map_err(|e| io_error("write", &temp.path, e))?;
        on_chunk(chunk.len());
    }
    out.flush()
        .await
        .map_err(|e| io_error("write", &temp.path, e))?;
    out.into_inner()
        .sync_all()
        .await
        .map_err(|e| io_error("write", &temp.path, e))?;
    sink.completed(temp);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wxmedia-sink-{name}-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    #[tokio::test]
    async fn success_renames_and_failure_leaves_nothing() {
        let dir = scratch("ok");
        let sink = FileSink::new(dir.join("a.bin"), SinkMode::AnySuccess);
        sink.check().await.expect("check");
        let ok = futures_util::stream::iter(vec![
            Ok::<_, std::io::Error>(Bytes::from_static(b"ab")),
            Ok(Bytes::from_static(b"c")),
        ]);
        write_stream(&sink, ok, |_| {}, |e| WxError::network(e.to_string()))
            .await
            .expect("write");
        sink.commit(Bytes::new()).await.expect("commit");
        assert_eq!(std::fs::read(dir.join("a.bin")).expect("read"), b"abc");
        assert_eq!(dir_listing(&dir), vec!["a.bin".to_string()]);

        let failing = FileSink::new(dir.join("b.bin"), SinkMode::AnySuccess);
        let broken = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"ab")),
            Err(std::io::Error::other("reset")),
        ]);
        let e = write_stream(
            &failing,
            broken,
            |_| {},
            |e| WxError::network(e.to_string()),
        )
        .await
        .expect_err("broken");
        assert!(e.detail.contains("reset"));
        drop(failing);
        assert_eq!(dir_listing(&dir), vec!["a.bin".to_string()]);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[tokio::test]
    async fn a_missing_directory_is_refused_up_front() {
        let sink = FileSink::new(
            PathBuf::from("/nonexistent-wxmedia/x/y.bin"),
            SinkMode::AnySuccess,
        );
        assert!(sink.check().await.is_err());
    }
}
