//! `uploadFile` and `downloadFile`: their argument and result shapes, and
//! the reading of `cloudPath`, `fileContent`, `fileID` and `filePath`.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::super::args::{describe, object_arg, prop, required_string, ArgResult};
use super::super::media::release_on_js_thread;
use super::super::source::source_value;
use super::super::transfer::{self, spawn, Cancel, OnProgress};
use super::{call_env, CallConfig};
use crate::backend::Backend;
use crate::client::Client;
use crate::error::WxError;
use crate::sink::SinkMode;
use crate::storage;

#[allow(dead_code)] // index.d.ts only
#[napi(object)]
pub struct UploadFileArgs {
    /// Path in the bucket, e.g. `images/a.png`: no leading `/`, at most 850 bytes.
    pub cloud_path: String,
    /// Any [`UploadSource`]: a Buffer or Uint8Array (copied when the call is
    /// made; a view over a SharedArrayBuffer is shared, not copied), an
    /// `fs.ReadStream` (the file is streamed by Rust; the stream itself is
    /// closed), a Readable or async iterable, `{ url }`, `{ mediaId }`, `{ fileID }`.
    #[napi(ts_type = "UploadSource")]
    pub file_content: Buffer,
    pub config: Option<CallConfig>,
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<serde_json::Value>,
    #[napi(ts_type = "(progress: UploadProgress) => void")]
    pub on_progress: Option<serde_json::Value>,
}

#[napi(object)]
pub struct UploadFileResult {
    #[napi(js_name = "fileID")]
    pub file_id: String,
    /// The real COS HTTP status (204 normally).
    pub status_code: u32,
    #[napi(ts_type = "'uploadFile:ok'")]
    pub err_msg: String,
}

#[allow(dead_code)] // index.d.ts only
#[napi(object)]
pub struct DownloadFileArgs {
    #[napi(js_name = "fileID")]
    pub file_id: String,
    /// Stream the file to this path (through a temporary file in the same
    /// directory, renamed once complete) instead of into a Buffer; no
    /// `maxDownloadBytes` limit then.
    pub file_path: Option<String>,
    pub config: Option<CallConfig>,
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<serde_json::Value>,
    #[napi(ts_type = "(progress: DownloadProgress) => void")]
    pub on_progress: Option<serde_json::Value>,
}

/// `downloadFile({ fileID, filePath })`: the file is in place.
#[napi(object)]
pub struct DownloadFileSaved {
    pub file_path: String,
    /// The real HTTP status of the download.
    pub status_code: u32,
    #[napi(ts_type = "'downloadFile:ok'")]
    pub err_msg: String,
}

#[napi(object)]
pub struct DownloadFileResult {
    pub file_content: Buffer,
    /// The real HTTP status of the download.
    pub status_code: u32,
    #[napi(ts_type = "'downloadFile:ok'")]
    pub err_msg: String,
}

pub fn upload_file<'e>(
    env: &'e Env,
    client: ArgResult<Arc<Client>>,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
    on_progress: OnProgress<'e>,
) -> Result<PromiseRaw<'e, UploadFileResult>> {
    let controls = transfer::upload_controls(args.as_ref(), cancel, on_progress);
    let prepared = client.and_then(|client| {
        let obj = object_arg(args, "{ cloudPath, fileContent, config?: { env } }")?;
        let cloud_path = cloud_path_arg(&obj)?;
        // Checked here as well as in the core: before `fileContent` is read,
        // so a bad path does not close the caller's ReadStream.
        storage::check_cloud_path(&cloud_path)?;
        let backend = Backend::for_call(&client);
        let env = backend.resolve_env(&client, call_env(&obj)?)?;
        let content = source_value(prop(&obj, "fileContent")?, "fileContent")?;
        Ok((client, backend, env, cloud_path, content))
    });
    let payload = prepared
        .as_ref()
        .ok()
        .and_then(|(_, _, _, _, content)| content.lent_bytes());
    spawn(
        env,
        storage::UPLOAD_API,
        controls,
        async move {
            let (client, backend, env, cloud_path, content) = prepared?;
            // The whole call, not only its requests, ends at close().
            let life = client.clone();
            life.run(async move {
                backend
                    .upload_file(&client, env.as_deref(), &cloud_path, content)
                    .await
            })
            .await
        },
        move |_, r| {
            release_on_js_thread(payload);
            Ok(UploadFileResult {
                file_id: r.file_id,
                status_code: u32::from(r.status_code),
                err_msg: "uploadFile:ok".to_string(),
            })
        },
    )
}

pub fn download_file<'e>(
    env: &'e Env,
    client: ArgResult<Arc<Client>>,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
    on_progress: OnProgress<'e>,
) -> Result<PromiseRaw<'e, Either<DownloadFileResult, DownloadFileSaved>>> {
    let (controls, sink) =
        transfer::download_controls(args.as_ref(), cancel, on_progress, SinkMode::AnySuccess);
    let prepared = client.and_then(|client| {
        let obj = object_arg(args, "{ fileID, filePath?, config?: { env } }")?;
        let file_id = required_string(
            &obj,
            "fileID",
            "fileID",
            "pass the fileID uploadFile returned",
        )?;
        let backend = Backend::for_call(&client);
        let env = backend.resolve_env(&client, call_env(&obj)?)?;
        Ok((client, backend, env, file_id))
    });
    spawn(
        env,
        storage::DOWNLOAD_API,
        controls,
        async move {
            let (client, backend, env, file_id) = prepared?;
            // The whole call, not only its requests, ends at close().
            let life = client.clone();
            life.run(async move {
                if let Some(sink) = &sink {
                    sink.check().await?;
                }
                let r = backend
                    .download_file(&client, env.as_deref(), &file_id)
                    .await?;
                match sink {
                    Some(sink) => {
                        let path = sink.commit(r.content).await?;
                        Ok((r.status_code, Err(path.to_string_lossy().into_owned())))
                    }
                    None => Ok((r.status_code, Ok(r.content))),
                }
            })
            .await
        },
        |_, (status_code, content)| {
            let status_code = u32::from(status_code);
            let err_msg = "downloadFile:ok".to_string();
            Ok(match content {
                Ok(content) => Either::A(DownloadFileResult {
                    file_content: Buffer::from(Vec::<u8>::from(content)),
                    status_code,
                    err_msg,
                }),
                Err(file_path) => Either::B(DownloadFileSaved {
                    file_path,
                    status_code,
                    err_msg,
                }),
            })
        },
    )
}

/// `cloudPath`, read as UTF-16 so that a lone surrogate is refused rather
/// than silently turned into U+FFFD.
fn cloud_path_arg(obj: &Object) -> ArgResult<String> {
    match prop(obj, "cloudPath")? {
        Some(v) if matches!(v.get_type(), Ok(ValueType::String)) => {
            let units = Utf16String::from_unknown(v).map_err(|e| {
                WxError::invalid_param(format!("cannot read cloudPath: {}", e.reason))
            })?;
            crate::cloud_path::from_utf16(&units)
        }
        Some(v) => Err(WxError::invalid_param(format!(
            "cloudPath must be a string, got {}",
            describe(&v)
        ))),
        None => Err(WxError::invalid_param(
            "cloudPath is missing: pass a path such as 'images/a.png'",
        )),
    }
}
