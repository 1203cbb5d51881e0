//! JS side of Cloud Base storage: argument shapes, result shapes.
//!
//! This module owns what every storage call shares (the per-call `config`);
//! `files` shapes `uploadFile`/`downloadFile`, `batch` shapes the batch calls
//! `getTempFileURL`/`deleteFile`.

mod batch;
mod files;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::args::{env_value, object_arg, prop, ArgResult, EnvValue};
use crate::config::{current_env, ProcessEnvironment};

pub use batch::{delete_file, get_temp_file_url, DeleteFileResult, GetTempFileUrlResult};
pub use files::{
    download_file, upload_file, DownloadFileResult, DownloadFileSaved, UploadFileResult,
};

/// Per-call settings, as in wx-server-sdk.
#[allow(dead_code)] // index.d.ts only; read by hand in `call_env`
#[napi(object)]
pub struct CallConfig {
    /// Cloud Base environment for this call only.
    pub env: Option<String>,
    /// Milliseconds for each request of this call, instead of the client's timeout.
    pub timeout: Option<u32>,
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
