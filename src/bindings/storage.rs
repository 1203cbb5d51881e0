//! JS side of Cloud Base storage: argument shapes, result shapes.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::args::{
    count_value, describe, env_value, object_arg, prop, required_string, ArgResult, EnvValue,
};
use super::arrays::array_items;
use super::media::release_on_js_thread;
use super::source::source_value;
use super::transfer::{self, spawn, Cancel, OnProgress, Sinks};
use crate::backend::Backend;
use crate::client::Client;
use crate::config::{current_env, ProcessEnvironment};
use crate::error::WxError;
use crate::progress::Direction;
use crate::sink::SinkMode;
use crate::storage::{self, TempUrlItem, DEFAULT_MAX_AGE, MAX_MAX_AGE};

/// Per-call settings, as in wx-server-sdk.
#[allow(dead_code)] // index.d.ts only; read by hand in `call_env`
#[napi(object)]
pub struct CallConfig {
    /// Cloud Base environment for this call only.
    pub env: Option<String>,
    /// Milliseconds for each request of this call, instead of the client's timeout.
    pub timeout: Option<u32>,
}

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

#[allow(dead_code)] // index.d.ts only
#[napi(object)]
pub struct TempFileUrlRequestItem {
    #[napi(js_name = "fileID")]
    pub file_id: String,
    /// Link lifetime in seconds, 1 to 86400 (one day, the server's limit); default 86400.
    pub max_age: Option<u32>,
}

#[allow(dead_code)] // index.d.ts only
#[napi(object)]
pub struct GetTempFileUrlArgs {
    #[napi(ts_type = "Array<string | TempFileUrlRequestItem>")]
    pub file_list: Vec<String>,
    pub config: Option<CallConfig>,
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<serde_json::Value>,
}

#[napi(object)]
pub struct TempFileUrlItem {
    #[napi(js_name = "fileID")]
    pub file_id: String,
    /// `''` when `status` is not 0.
    #[napi(js_name = "tempFileURL")]
    pub temp_file_url: String,
    pub max_age: u32,
    /// 0, or the cloud error code (e.g. -503003 for a missing file).
    pub status: i32,
    pub err_msg: String,
}

#[napi(object)]
pub struct GetTempFileUrlResult {
    pub file_list: Vec<TempFileUrlItem>,
    #[napi(ts_type = "'getTempFileURL:ok'")]
    pub err_msg: String,
}

#[allow(dead_code)] // index.d.ts only
#[napi(object)]
pub struct DeleteFileArgs {
    pub file_list: Vec<String>,
    pub config: Option<CallConfig>,
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<serde_json::Value>,
}

#[napi(object)]
pub struct DeletedFileItem {
    #[napi(js_name = "fileID")]
    pub file_id: String,
    pub status: i32,
    pub err_msg: String,
}

#[napi(object)]
pub struct DeleteFileResult {
    pub file_list: Vec<DeletedFileItem>,
    #[napi(ts_type = "'deleteFile:ok'")]
    pub err_msg: String,
}

/// `config.env` of a call, if given.
fn call_env(obj: &Object) -> ArgResult<Option<String>> {
    match prop(obj, "config")? {
        None => Ok(None),
        Some(v) => {
            let config = object_arg(Some(v), "config as { env }")?;
            match prop(&config, "env")? {
                None => Ok(None),
                Some(v) => Ok(match env_value(v, "config.env")? {
                    EnvValue::Id(id) => Some(id),
                    // Read now: each call sees the function's env of the moment.
                    EnvValue::Current => current_env(&ProcessEnvironment),
                }),
            }
        }
    }
}

pub fn upload_file<'e>(
    env: &'e Env,
    client: ArgResult<Arc<Client>>,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
    on_progress: OnProgress<'e>,
) -> Result<PromiseRaw<'e, UploadFileResult>> {
    let controls = transfer::controls(
        args.as_ref(),
        cancel,
        on_progress,
        Direction::Upload,
        Sinks::None,
    );
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
            backend
                .upload_file(&client, env.as_deref(), &cloud_path, content)
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
    let controls = transfer::controls(
        args.as_ref(),
        cancel,
        on_progress,
        Direction::Download,
        Sinks::File(SinkMode::AnySuccess),
    );
    let sink = controls.as_ref().ok().and_then(|c| c.sink());
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

/// The `fileList` array of a batch call: anything `Array.isArray` accepts,
/// including a Proxy over an array (Vue's reactive arrays).
fn file_list<'e>(obj: &Object<'e>, usage: &str) -> ArgResult<Vec<Unknown<'e>>> {
    let list = prop(obj, "fileList")?
        .ok_or_else(|| WxError::invalid_param(format!("fileList is missing: pass {usage}")))?;
    let items = array_items(list, "fileList")?.ok_or_else(|| {
        WxError::invalid_param(format!(
            "fileList must be an array, got {}",
            describe(&list)
        ))
    })?;
    if items.is_empty() {
        return Err(WxError::invalid_param(format!(
            "fileList is empty: pass {usage}"
        )));
    }
    Ok(items)
}

fn temp_url_item(value: Unknown, index: usize) -> ArgResult<TempUrlItem> {
    let what = format!("fileList[{index}]");
    if matches!(value.get_type(), Ok(ValueType::String)) {
        let file_id =
            String::from_unknown(value).map_err(|e| WxError::invalid_param(e.reason.clone()))?;
        return Ok(TempUrlItem {
            file_id,
            max_age: DEFAULT_MAX_AGE,
        });
    }
    let obj = object_arg(
        Some(value),
        &format!("{what} as a fileID string or {{ fileID, maxAge? }}"),
    )?;
    let file_id = required_string(
        &obj,
        "fileID",
        &format!("{what}.fileID"),
        "pass the fileID uploadFile returned",
    )?;
    let max_age = match prop(&obj, "maxAge")? {
        None => DEFAULT_MAX_AGE,
        Some(v) => match count_value(v, &format!("{what}.maxAge"))? {
            0 => {
                return Err(WxError::invalid_param(format!(
                    "{what}.maxAge must be at least 1 second"
                )))
            }
            n if n > MAX_MAX_AGE => {
                return Err(WxError::invalid_param(format!(
                    "{what}.maxAge is {n} s, more than the server takes ({MAX_MAX_AGE} s, one day)"
                )))
            }
            n => n,
        },
    };
    Ok(TempUrlItem { file_id, max_age })
}

pub fn get_temp_file_url<'e>(
    env: &'e Env,
    client: ArgResult<Arc<Client>>,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
) -> Result<PromiseRaw<'e, GetTempFileUrlResult>> {
    let args_for_controls = args;
    const USAGE: &str = "{ fileList: [fileID or { fileID, maxAge }], config?: { env } }";
    let prepared = client.and_then(|client| {
        let obj = object_arg(args, USAGE)?;
        let items = file_list(&obj, USAGE)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| temp_url_item(v, i))
            .collect::<ArgResult<Vec<_>>>()?;
        let backend = Backend::for_call(&client);
        let env = backend.resolve_env(&client, call_env(&obj)?)?;
        Ok((client, backend, env, items))
    });
    spawn(
        env,
        storage::TEMP_URL_API,
        transfer::controls(
            args_for_controls.as_ref(),
            cancel,
            None,
            Direction::Download,
            Sinks::None,
        ),
        async move {
            let (client, backend, env, items) = prepared?;
            backend
                .get_temp_file_urls(&client, env.as_deref(), items)
                .await
        },
        |_, list| {
            Ok(GetTempFileUrlResult {
                file_list: list
                    .into_iter()
                    .map(|t| TempFileUrlItem {
                        file_id: t.file_id,
                        temp_file_url: t.temp_file_url,
                        max_age: u32::try_from(t.max_age).unwrap_or(u32::MAX),
                        status: clamp_i32(t.status),
                        err_msg: t.err_msg,
                    })
                    .collect(),
                err_msg: "getTempFileURL:ok".to_string(),
            })
        },
    )
}

fn clamp_i32(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX })
}

pub fn delete_file<'e>(
    env: &'e Env,
    client: ArgResult<Arc<Client>>,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
) -> Result<PromiseRaw<'e, DeleteFileResult>> {
    let args_for_controls = args;
    const USAGE: &str = "{ fileList: [fileID, …], config?: { env } }";
    let prepared = client.and_then(|client| {
        let obj = object_arg(args, USAGE)?;
        let ids = file_list(&obj, USAGE)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                if !matches!(v.get_type(), Ok(ValueType::String)) {
                    return Err(WxError::invalid_param(format!(
                        "fileList[{i}] must be a fileID string, got {}",
                        describe(&v)
                    )));
                }
                let id = String::from_unknown(v)
                    .map_err(|e| WxError::invalid_param(e.reason.clone()))?;
                Ok(id)
            })
            .collect::<ArgResult<Vec<_>>>()?;
        let backend = Backend::for_call(&client);
        let env = backend.resolve_env(&client, call_env(&obj)?)?;
        Ok((client, backend, env, ids))
    });
    spawn(
        env,
        storage::DELETE_API,
        transfer::controls(
            args_for_controls.as_ref(),
            cancel,
            None,
            Direction::Download,
            Sinks::None,
        ),
        async move {
            let (client, backend, env, ids) = prepared?;
            backend.delete_files(&client, env.as_deref(), ids).await
        },
        |_, list| {
            Ok(DeleteFileResult {
                file_list: list
                    .into_iter()
                    .map(|d| DeletedFileItem {
                        file_id: d.file_id,
                        status: clamp_i32(d.status),
                        err_msg: d.err_msg,
                    })
                    .collect(),
                err_msg: "deleteFile:ok".to_string(),
            })
        },
    )
}
