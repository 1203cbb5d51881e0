//! JS side of temporary media: argument shapes, result shapes.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::args::{bool_prop, object_arg, prop, required_string, string_prop, ArgResult};
use super::source::source_value;
use super::transfer::{self, spawn, Cancel, OnProgress};
use crate::backend::Backend;
use crate::client::Client;
use crate::error::WxError;
use crate::media::{MediaType, MediaUpload, TempMedia, GET_API, UPLOAD_API};
use crate::media_cache;
use crate::sink::SinkMode;

/// `media` of `uploadTempMedia`. `value` is sent without being copied: do not
/// modify the Buffer until the call settles.
// Declares the argument type in index.d.ts; arguments are read by hand
// (bindings::args) so that bad input gets a precise INVALID_PARAM.
#[allow(dead_code)]
#[napi(object)]
pub struct MediaInput {
    /// MIME type; checked against the bytes. Sniffed when omitted.
    pub content_type: Option<String>,
    /// The bytes: any [`UploadSource`]. A Buffer is copied when the call is made
    /// (a view over a SharedArrayBuffer is shared, not copied).
    #[napi(ts_type = "UploadSource")]
    pub value: Buffer,
}

// (signal/onProgress of the upload are declared on UploadTempMediaArgs.)

// Declares the argument type in index.d.ts; arguments are read by hand
// (bindings::args) so that bad input gets a precise INVALID_PARAM.
#[allow(dead_code)]
#[napi(object)]
pub struct UploadTempMediaArgs {
    #[napi(ts_type = "'image' | 'voice' | 'video' | 'thumb'")]
    pub r#type: String,
    pub media: MediaInput,
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<serde_json::Value>,
    #[napi(ts_type = "(progress: UploadProgress) => void")]
    pub on_progress: Option<serde_json::Value>,
    pub config: Option<TransferConfig>,
    /// Upload even when `mediaCache` holds a `mediaId` for these bytes (the
    /// new one is not cached either).
    pub bypass_cache: Option<bool>,
}

#[napi(object)]
pub struct UploadTempMediaResult {
    #[napi(ts_type = "0")]
    pub err_code: i32,
    #[napi(ts_type = "`${'' | 'openapi.customerServiceMessage.'}uploadTempMedia:ok`")]
    pub err_msg: String,
    #[napi(ts_type = "'image' | 'voice' | 'video' | 'thumb'")]
    pub r#type: String,
    pub media_id: String,
    /// Unix seconds, always a number.
    pub created_at: i64,
    /// `true` when `mediaCache` answered with the `mediaId` of an earlier
    /// upload of the same bytes (no request was made); absent otherwise.
    #[napi(ts_type = "true")]
    pub cached: Option<bool>,
}

// Declares the argument type in index.d.ts; arguments are read by hand
// (bindings::args) so that bad input gets a precise INVALID_PARAM.
#[allow(dead_code)]
#[napi(object)]
pub struct GetTempMediaArgs {
    pub media_id: String,
    /// Stream the media to this file (through a temporary file in the same
    /// directory, renamed once complete) instead of into a Buffer.
    pub file_path: Option<String>,
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<serde_json::Value>,
    #[napi(ts_type = "(progress: DownloadProgress) => void")]
    pub on_progress: Option<serde_json::Value>,
    pub config: Option<TransferConfig>,
}

/// Per-call settings of every call.
#[allow(dead_code)] // index.d.ts only
#[napi(object)]
pub struct TransferConfig {
    /// Milliseconds for each request of this call, instead of the client's timeout.
    pub timeout: Option<u32>,
}

/// An image, voice or thumb saved to `filePath`.
#[napi(object)]
pub struct TempMediaSaved {
    #[napi(ts_type = "0")]
    pub err_code: i32,
    pub err_msg: String,
    pub content_type: String,
    pub file_path: String,
    pub status_code: u32,
}

/// An image, voice or thumb fetched back.
#[napi(object)]
pub struct TempMediaFile {
    #[napi(ts_type = "0")]
    pub err_code: i32,
    pub err_msg: String,
    pub content_type: String,
    pub buffer: Buffer,
}

/// A video: WeChat hands out a download URL instead of the bytes.
#[napi(object)]
pub struct TempMediaVideo {
    #[napi(ts_type = "0")]
    pub err_code: i32,
    pub err_msg: String,
    pub video_url: String,
}

const UPLOAD_USAGE: &str = "{ type: 'image', media: { contentType: 'image/png', value: Buffer } }";

/// The upload, and whether `bypassCache: true` skips `mediaCache` for it.
fn upload_args(client: &Client, args: Option<Unknown>) -> ArgResult<(MediaUpload, bool)> {
    let obj = object_arg(args, UPLOAD_USAGE)?;
    // `bypass_cache` is how the wx-server-sdk-shaped `openapi.*` path (which
    // snake-cases parameters) hands it over.
    let bypass = match bool_prop(&obj, "bypassCache", "bypassCache")? {
        Some(b) => b,
        None => bool_prop(&obj, "bypass_cache", "bypassCache")?.unwrap_or(false),
    };
    let kind = required_string(
        &obj,
        "type",
        "type",
        "pass type: 'image' (or 'voice', 'video', 'thumb')",
    )?;
    let media_type = MediaType::parse(&kind)?;
    let media = match prop(&obj, "media")? {
        Some(m) => object_arg(Some(m), "media as { contentType, value: Buffer }")?,
        None => {
            return Err(WxError::invalid_param(format!(
                "media is missing: pass {UPLOAD_USAGE}"
            )))
        }
    };
    let content_type = match string_prop(&media, "contentType", "media.contentType")? {
        Some(ct) => Some(ct),
        None => string_prop(&media, "content_type", "media.content_type")?,
    };
    let source = source_value(prop(&media, "value")?, "media.value")?;
    let upload = MediaUpload::new(
        media_type,
        content_type.as_deref(),
        source,
        &client.config().media_limits,
    )?;
    Ok((upload, bypass))
}

pub fn upload_temp_media<'e>(
    env: &'e Env,
    client: ArgResult<Arc<Client>>,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
    on_progress: OnProgress<'e>,
) -> Result<PromiseRaw<'e, UploadTempMediaResult>> {
    let controls = transfer::upload_controls(args.as_ref(), cancel, on_progress);
    let prepared =
        client.and_then(|c| upload_args(&c, args).map(|u| (Backend::for_call(&c), c, u)));
    let payload = prepared
        .as_ref()
        .ok()
        .and_then(|(_, _, (upload, _))| upload.source.lent_bytes());
    spawn(
        env,
        UPLOAD_API,
        controls,
        async move {
            let (backend, client, (upload, bypass)) = prepared?;
            // The whole call, not only its requests, ends at close().
            client
                .run(media_cache::upload_temp_media(
                    &backend, &client, upload, bypass,
                ))
                .await
        },
        move |_, outcome| {
            release_on_js_thread(payload);
            let r = outcome.media;
            Ok(UploadTempMediaResult {
                err_code: 0,
                err_msg: format!("{UPLOAD_API}:ok"),
                r#type: r.media_type,
                media_id: r.media_id,
                created_at: r.created_at,
                cached: outcome.cached.then_some(true),
            })
        },
    )
}

/// Drops the last reference to a caller's Buffer here, on the JS thread,
/// where napi releases it directly; dropped on a tokio thread it would cost
/// a cross-thread hop back to the event loop for every upload.
pub fn release_on_js_thread(payload: Option<bytes::Bytes>) {
    drop(payload);
}

fn media_id_arg(args: Option<Unknown>) -> ArgResult<String> {
    let obj = object_arg(args, "{ mediaId }")?;
    match string_prop(&obj, "mediaId", "mediaId")? {
        Some(id) => Ok(id),
        None => required_string(
            &obj,
            "media_id",
            "mediaId",
            "pass { mediaId } as returned by uploadTempMedia",
        ),
    }
}

/// What `getTempMedia` fetched: in memory, saved to `filePath`, or a video link.
pub enum Fetched {
    Media(TempMedia),
    Saved {
        content_type: String,
        path: String,
        status_code: u16,
    },
}

pub fn get_temp_media<'e>(
    env: &'e Env,
    client: ArgResult<Arc<Client>>,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
    on_progress: OnProgress<'e>,
) -> Result<PromiseRaw<'e, Either3<TempMediaFile, TempMediaVideo, TempMediaSaved>>> {
    let (controls, sink) =
        transfer::download_controls(args.as_ref(), cancel, on_progress, SinkMode::NotJson);
    let prepared = client.and_then(|c| Ok((Backend::for_call(&c), c, media_id_arg(args)?)));
    spawn(
        env,
        GET_API,
        controls,
        async move {
            let (backend, client, id) = prepared?;
            // The whole call, not only its requests, ends at close().
            let life = client.clone();
            life.run(async move {
                if let Some(sink) = &sink {
                    sink.check().await?;
                }
                let max = client.config().max_download_bytes;
                let media = backend.get_temp_media(&client, &id, max).await?;
                match (sink, media) {
                    (
                        Some(sink),
                        TempMedia::File {
                            content_type,
                            data,
                            status_code,
                        },
                    ) => {
                        let path = sink.commit(data).await?;
                        Ok(Fetched::Saved {
                            content_type,
                            path: path.to_string_lossy().into_owned(),
                            status_code,
                        })
                    }
                    (_, media) => Ok(Fetched::Media(media)),
                }
            })
            .await
        },
        |_, fetched| {
            let err_msg = format!("{GET_API}:ok");
            Ok(match fetched {
                Fetched::Media(TempMedia::File {
                    content_type, data, ..
                }) => Either3::A(TempMediaFile {
                    err_code: 0,
                    err_msg,
                    content_type,
                    // Vec from Bytes reuses the allocation when it is not shared.
                    buffer: Buffer::from(Vec::<u8>::from(data)),
                }),
                Fetched::Media(TempMedia::Video { url }) => Either3::B(TempMediaVideo {
                    err_code: 0,
                    err_msg,
                    video_url: url,
                }),
                Fetched::Saved {
                    content_type,
                    path,
                    status_code,
                } => Either3::C(TempMediaSaved {
                    err_code: 0,
                    err_msg,
                    content_type,
                    file_path: path,
                    status_code: u32::from(status_code),
                }),
            })
        },
    )
}
