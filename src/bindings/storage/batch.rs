//! The batch calls `getTempFileURL` and `deleteFile`: their argument and
//! result shapes and the reading of `fileList` items.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::super::args::{count_value, describe, object_arg, prop, required_string, ArgResult};
use super::super::arrays::array_items;
use super::super::transfer::{self, spawn, Cancel};
use super::{call_env, CallConfig};
use crate::backend::Backend;
use crate::client::Client;
use crate::error::WxError;
use crate::storage::{self, TempUrlItem, DEFAULT_MAX_AGE, MAX_MAX_AGE};

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
        transfer::lookup_controls(args_for_controls.as_ref(), cancel),
        async move {
            let (client, backend, env, items) = prepared?;
            // The whole call, not only its requests, ends at close().
            let life = client.clone();
            life.run(async move {
                backend
                    .get_temp_file_urls(&client, env.as_deref(), items)
                    .await
            })
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
        transfer::lookup_controls(args_for_controls.as_ref(), cancel),
        async move {
            let (client, backend, env, ids) = prepared?;
            // The whole call, not only its requests, ends at close().
            let life = client.clone();
            life.run(async move { backend.delete_files(&client, env.as_deref(), ids).await })
                .await
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
