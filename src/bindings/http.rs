//! JS side of `http.uploadFile` / `http.downloadFile` (seed 004's
//! mini-program API for the caller's own servers).

use std::path::PathBuf;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::args::{
    count_prop, describe, object_arg, prop, required_string, string_prop, ArgResult,
};
use super::client::{default_client, WxClient};
use super::media::release_on_js_thread;
use super::source::source_value;
use super::transfer::{self, spawn, Cancel, OnProgress};
use crate::client::Client;
use crate::error::WxError;
use crate::http_transfer::{self, HttpDownload, HttpReply, HttpUpload};
use crate::sink::SinkMode;
use crate::source::Source;

#[allow(dead_code)] // index.d.ts only; read by hand below
#[napi(object)]
pub struct HttpUploadFileArgs {
    /// Your server's URL (http or https).
    pub url: String,
    /// The form field name of the file part.
    pub name: String,
    /// A file to send (streamed, never read into memory). Give this or `value`.
    pub file_path: Option<String>,
    /// Any upload source: a Buffer (not copied: do not modify it until the
    /// call settles), a stream, `{ url }`, `{ mediaId }`, `{ fileID }` …
    #[napi(ts_type = "UploadSource")]
    pub value: Option<Buffer>,
    /// The part's filename; default the basename of `filePath`, else `file.<sniffed extension>`.
    pub filename: Option<String>,
    /// Text fields sent before the file, in this order.
    #[napi(ts_type = "Record<string, string | number | boolean>")]
    pub form_data: Option<serde_json::Value>,
    #[napi(ts_type = "Record<string, string>")]
    pub header: Option<serde_json::Value>,
    /// Milliseconds for each request of this call, instead of the client's transfer timeout.
    pub timeout: Option<u32>,
    /// Redirects followed for this call; default the client's `maxRedirects` (5).
    pub max_redirects: Option<u32>,
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<serde_json::Value>,
    #[napi(ts_type = "(progress: UploadProgress) => void")]
    pub on_progress: Option<serde_json::Value>,
}

#[napi(object)]
pub struct HttpUploadFileResult {
    /// The reply body as text.
    pub data: String,
    pub status_code: u32,
    /// Reply headers, names in lower case, repeated ones joined with `, `.
    pub header: std::collections::HashMap<String, String>,
}

#[allow(dead_code)] // index.d.ts only; read by hand below
#[napi(object)]
pub struct HttpDownloadFileArgs {
    pub url: String,
    #[napi(ts_type = "Record<string, string>")]
    pub header: Option<serde_json::Value>,
    /// Stream the body to this file (through a temporary file in the same
    /// directory, renamed once complete) instead of into a Buffer.
    pub file_path: Option<String>,
    pub timeout: Option<u32>,
    pub max_redirects: Option<u32>,
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<serde_json::Value>,
    #[napi(ts_type = "(progress: DownloadProgress) => void")]
    pub on_progress: Option<serde_json::Value>,
}

#[napi(object)]
pub struct HttpDownloadFileResult {
    pub file_content: Buffer,
    pub status_code: u32,
    pub header: std::collections::HashMap<String, String>,
}

#[napi(object)]
pub struct HttpDownloadFileSaved {
    pub file_path: String,
    pub status_code: u32,
    pub header: std::collections::HashMap<String, String>,
}

/// A `{ name: value }` object of strings (numbers and booleans as text).
fn string_pairs(obj: &Object, name: &str) -> ArgResult<Vec<(String, String)>> {
    let Some(v) = prop(obj, name)? else {
        return Ok(Vec::new());
    };
    let map = object_arg(Some(v), &format!("{name} as {{ key: 'value' }}"))?;
    let keys = Object::keys(&map).map_err(|e| WxError::invalid_param(e.reason.clone()))?;
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let what = format!("{name}.{key}");
        let Some(value) = prop(&map, &key)? else {
            continue;
        };
        let text = match value.get_type() {
            Ok(ValueType::String) => String::from_unknown(value),
            Ok(ValueType::Number) => f64::from_unknown(value).map(|n| {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", n as i64)
                } else {
                    n.to_string()
                }
            }),
            Ok(ValueType::Boolean) => bool::from_unknown(value).map(|b| b.to_string()),
            _ => {
                return Err(WxError::invalid_param(format!(
                    "{what} must be a string, got {}",
                    describe(&value)
                )))
            }
        }
        .map_err(|e| WxError::invalid_param(e.reason.clone()))?;
        out.push((key, text));
    }
    Ok(out)
}

fn max_redirects(obj: &Object) -> ArgResult<Option<u32>> {
    Ok(count_prop(obj, "maxRedirects", "maxRedirects")?
        .map(|n| u32::try_from(n.min(100)).unwrap_or(100)))
}

fn upload_args(args: Option<Unknown>) -> ArgResult<HttpUpload> {
    const USAGE: &str = "{ url, name, filePath | value, formData?, header? }";
    let obj = object_arg(args, USAGE)?;
    let url = required_string(&obj, "url", "url", "pass your server's upload URL")?;
    let name = required_string(
        &obj,
        "name",
        "name",
        "pass the file's form field name, e.g. 'file'",
    )?;
    let content = match (
        string_prop(&obj, "filePath", "filePath")?,
        prop(&obj, "value")?,
    ) {
        (Some(_), Some(_)) => {
            return Err(WxError::invalid_param("pass filePath or value, not both"))
        }
        (Some(path), None) => Source::File {
            path: PathBuf::from(path),
            start: 0,
            end: None,
        },
        (None, Some(v)) => source_value(Some(v), "value")?,
        (None, None) => {
            return Err(WxError::invalid_param(format!(
                "the file is missing: pass filePath or value in {USAGE}"
            )))
        }
    };
    Ok(HttpUpload {
        url,
        name,
        content,
        filename: string_prop(&obj, "filename", "filename")?,
        form_data: string_pairs(&obj, "formData")?,
        headers: string_pairs(&obj, "header")?,
        max_redirects: max_redirects(&obj)?,
    })
}

fn download_args(args: Option<Unknown>) -> ArgResult<HttpDownload> {
    let obj = object_arg(args, "{ url, header?, filePath? }")?;
    Ok(HttpDownload {
        url: required_string(&obj, "url", "url", "pass the URL to download")?,
        headers: string_pairs(&obj, "header")?,
        max_redirects: max_redirects(&obj)?,
    })
}

fn header_object(headers: Vec<(String, String)>) -> std::collections::HashMap<String, String> {
    headers.into_iter().collect()
}

fn upload<'e>(
    env: &'e Env,
    client: ArgResult<Arc<Client>>,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
    on_progress: OnProgress<'e>,
) -> Result<PromiseRaw<'e, HttpUploadFileResult>> {
    let controls = transfer::upload_controls(args.as_ref(), cancel, on_progress);
    let prepared = client.and_then(|c| Ok((c, upload_args(args)?)));
    let payload = prepared
        .as_ref()
        .ok()
        .and_then(|(_, upload)| upload.content.lent_bytes());
    spawn(
        env,
        http_transfer::UPLOAD_API,
        controls,
        async move {
            let (client, upload) = prepared?;
            // The whole call, not only its requests, ends at close().
            let life = client.clone();
            life.run(async move { http_transfer::upload_file(&client, upload).await })
                .await
        },
        move |_, r: HttpReply| {
            release_on_js_thread(payload);
            Ok(HttpUploadFileResult {
                data: String::from_utf8_lossy(&r.body).into_owned(),
                status_code: u32::from(r.status),
                header: header_object(r.headers),
            })
        },
    )
}

type Downloaded = (HttpReply, Option<String>);

fn download<'e>(
    env: &'e Env,
    client: ArgResult<Arc<Client>>,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
    on_progress: OnProgress<'e>,
) -> Result<PromiseRaw<'e, Either<HttpDownloadFileResult, HttpDownloadFileSaved>>> {
    let (controls, sink) =
        transfer::download_controls(args.as_ref(), cancel, on_progress, SinkMode::AnySuccess);
    let prepared = client.and_then(|c| Ok((c, download_args(args)?)));
    spawn(
        env,
        http_transfer::DOWNLOAD_API,
        controls,
        async move {
            let (client, download) = prepared?;
            // The whole call, not only its requests, ends at close().
            let life = client.clone();
            life.run(async move {
                let reply = http_transfer::download_file(&client, download).await?;
                let saved = match &sink {
                    Some(sink) => Some(
                        sink.commit(reply.body.clone())
                            .await?
                            .to_string_lossy()
                            .into_owned(),
                    ),
                    None => None,
                };
                Ok::<Downloaded, WxError>((reply, saved))
            })
            .await
        },
        |_, (r, saved)| {
            let status_code = u32::from(r.status);
            let header = header_object(r.headers);
            Ok(match saved {
                Some(file_path) => Either::B(HttpDownloadFileSaved {
                    file_path,
                    status_code,
                    header,
                }),
                None => Either::A(HttpDownloadFileResult {
                    file_content: Buffer::from(Vec::<u8>::from(r.body)),
                    status_code,
                    header,
                }),
            })
        },
    )
}

/// `http.uploadFile` with the default client (lib/ exposes it as `http.uploadFile`).
#[napi(
    skip_typescript,
    ts_args_type = "args: HttpUploadFileArgs",
    ts_return_type = "Promise<HttpUploadFileResult>"
)]
pub fn http_upload_file<'e>(
    env: &'e Env,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
    on_progress: OnProgress<'e>,
) -> Result<PromiseRaw<'e, HttpUploadFileResult>> {
    upload(env, default_client(), args, cancel, on_progress)
}

/// `http.downloadFile` with the default client (lib/ exposes it as `http.downloadFile`).
#[napi(
    skip_typescript,
    ts_args_type = "args: HttpDownloadFileArgs",
    ts_return_type = "Promise<HttpDownloadFileResult | HttpDownloadFileSaved>"
)]
pub fn http_download_file<'e>(
    env: &'e Env,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
    on_progress: OnProgress<'e>,
) -> Result<PromiseRaw<'e, Either<HttpDownloadFileResult, HttpDownloadFileSaved>>> {
    download(env, default_client(), args, cancel, on_progress)
}

#[napi]
impl WxClient {
    /// `http.uploadFile` through this client (its pool, proxy, CA, maxConcurrency).
    #[napi(
        skip_typescript,
        ts_args_type = "args: HttpUploadFileArgs",
        ts_return_type = "Promise<HttpUploadFileResult>"
    )]
    pub fn http_upload_file<'e>(
        &self,
        env: &'e Env,
        args: Option<Unknown<'e>>,
        cancel: Cancel,
        on_progress: OnProgress<'e>,
    ) -> Result<PromiseRaw<'e, HttpUploadFileResult>> {
        upload(env, Ok(self.inner.clone()), args, cancel, on_progress)
    }

    /// `http.downloadFile` through this client.
    #[napi(
        skip_typescript,
        ts_args_type = "args: HttpDownloadFileArgs",
        ts_return_type = "Promise<HttpDownloadFileResult | HttpDownloadFileSaved>"
    )]
    pub fn http_download_file<'e>(
        &self,
        env: &'e Env,
        args: Option<Unknown<'e>>,
        cancel: Cancel,
        on_progress: OnProgress<'e>,
    ) -> Result<PromiseRaw<'e, Either<HttpDownloadFileResult, HttpDownloadFileSaved>>> {
        download(env, Ok(self.inner.clone()), args, cancel, on_progress)
    }
}
