//! Temporary media: `/cgi-bin/media/upload`, `/cgi-bin/media/get`, and the
//! video download path that `media/get` points video media at.
//!
//! This module owns the HTTP handlers; the media types and formats, the
//! multipart `media` part and the media store live in submodules.

mod kinds;
mod parts;
mod store;

#[cfg(test)]
mod tests;

use hyper::header::{CACHE_CONTROL, CONTENT_DISPOSITION};
use hyper::{Method, StatusCode};
use serde_json::{json, Value};

use super::http::{Incoming, Reply, WxError};
use super::state::{lock, Shared};
use super::tokens::authorize;

pub use kinds::MediaLimits;
pub(crate) use kinds::{sniff, MediaType};
pub(crate) use parts::{check_media, once_stream, part_content_type, read_media_part, MediaPart};
pub(crate) use store::{lookup_media, media_type_of, store_upload, MediaEntry};

/// "媒体文件在微信后台保存时间为3天" — media ids die after 3 days.
pub(crate) const MEDIA_TTL_MS: u64 = 3 * 86_400_000;
/// Path prefix of the video download link `media/get` hands out.
pub(crate) const VIDEO_PREFIX: &str = "/__emulator/video/";

/// `POST /cgi-bin/media/upload?access_token=&type=`
pub(crate) async fn handle_upload(shared: &Shared, req: &Incoming) -> Reply {
    if req.method != Method::POST {
        return WxError::new(43002, "require POST method").reply();
    }
    // WeChat's front end refuses streamed uploads before looking at anything else.
    if req.is_length_unknown() {
        return Reply::new(
            StatusCode::PRECONDITION_FAILED,
            "text/html",
            "<html><body><h1>412 Precondition Failed</h1></body></html>",
        );
    }
    match upload(shared, req).await {
        Ok(body) => Reply::json(&body),
        Err(err) => err.reply(),
    }
}

async fn upload(shared: &Shared, req: &Incoming) -> Result<Value, WxError> {
    let caller = authorize(shared, req)?;
    let media_type = req
        .query_param("type")
        .and_then(MediaType::parse)
        .ok_or_else(|| WxError::new(40004, "invalid media type"))?;
    let part = read_media_part(req.content_type(), req.body.clone()).await?;
    store_upload(shared, media_type, part, caller.appid().map(str::to_owned))
}

/// `GET /cgi-bin/media/get?access_token=&media_id=`
pub(crate) fn handle_get(shared: &Shared, req: &Incoming) -> Reply {
    if req.method != Method::GET {
        return WxError::new(43001, "require GET method").reply_as_text();
    }
    // WeChat labels media/get errors text/plain although they are JSON.
    get_media(shared, req).unwrap_or_else(|err| err.reply_as_text())
}

fn get_media(shared: &Shared, req: &Incoming) -> Result<Reply, WxError> {
    let caller = authorize(shared, req)?;
    let media_id = req
        .query_param("media_id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| WxError::new(41006, "media_id missing"))?;
    let now = shared.clock.now_ms();
    let store = lock(&shared.media);
    let entry = store
        .get(media_id)
        .filter(|entry| entry.is_live(now) && entry.readable_by(&caller))
        .ok_or_else(|| WxError::new(40007, "invalid media_id"))?;
    if entry.media_type == MediaType::Video {
        let url = format!("{}{VIDEO_PREFIX}{media_id}", req.origin(&shared.base_url));
        return Ok(Reply::json(&json!({ "video_url": url })));
    }
    let disposition = format!("attachment; filename=\"{media_id}.{}\"", entry.extension);
    Ok(
        Reply::new(StatusCode::OK, &entry.content_type, entry.data.clone())
            .with_header(CONTENT_DISPOSITION, &disposition)
            .with_header(CACHE_CONTROL, "no-cache, must-revalidate"),
    )
}

/// `GET /__emulator/video/<media_id>`: the bytes behind a `video_url`.
pub(crate) fn handle_video(shared: &Shared, req: &Incoming) -> Reply {
    let media_id = req.path.strip_prefix(VIDEO_PREFIX).unwrap_or_default();
    let now = shared.clock.now_ms();
    let store = lock(&shared.media);
    match store.get(media_id) {
        Some(entry) if entry.is_live(now) && entry.media_type == MediaType::Video => {
            Reply::new(StatusCode::OK, &entry.content_type, entry.data.clone())
        }
        _ => Reply::new(StatusCode::NOT_FOUND, "text/plain", "not found"),
    }
}
