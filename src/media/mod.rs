//! Temporary media: `uploadTempMedia` and `getTempMedia` (SPEC §3, §6).

use bytes::Bytes;
use reqwest::Method;
use serde_json::Value;

use crate::client::{Client, Request, RequestBody, Target, TimeoutClass, MAX_JSON_REPLY_BYTES};
use crate::config::MediaLimits;
use crate::error::WxError;
use crate::multipart::{MultipartBody, MultipartBuilder};
use crate::retry::Retry;
use crate::source::{Limit, Opened, Source};

mod format;

use format::declared_format;
pub use format::{check_content, sniff, Format};

pub const UPLOAD_API: &str = "openapi.customerServiceMessage.uploadTempMedia";
pub const GET_API: &str = "openapi.customerServiceMessage.getTempMedia";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Image,
    Voice,
    Video,
    Thumb,
}

impl MediaType {
    pub fn parse(s: &str) -> Result<Self, WxError> {
        match s {
            "image" => Ok(MediaType::Image),
            "voice" => Ok(MediaType::Voice),
            "video" => Ok(MediaType::Video),
            "thumb" => Ok(MediaType::Thumb),
            other => Err(WxError::invalid_param(format!(
                "type must be one of 'image', 'voice', 'video', 'thumb', got '{other}'"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Voice => "voice",
            MediaType::Video => "video",
            MediaType::Thumb => "thumb",
        }
    }

    fn allowed(self) -> &'static [Format] {
        match self {
            MediaType::Image => &[Format::PNG, Format::JPEG, Format::GIF],
            MediaType::Voice => &[Format::AMR, Format::MP3],
            MediaType::Video => &[Format::MP4],
            MediaType::Thumb => &[Format::JPEG],
        }
    }

    fn limit(self, limits: &MediaLimits) -> u64 {
        match self {
            MediaType::Image => limits.image,
            MediaType::Voice => limits.voice,
            MediaType::Video => limits.video,
            MediaType::Thumb => limits.thumb,
        }
    }
}

/// An upload whose arguments are checked; its bytes are checked once its
/// source is open (at once for bytes in memory).
#[derive(Debug, Clone)]
pub struct MediaUpload {
    pub media_type: MediaType,
    pub content_type: Option<String>,
    pub source: Source,
}

impl MediaUpload {
    /// Checks type, size and content before anything is sent. Bytes in memory
    /// are checked here; other sources when opened (still before any request
    /// to WeChat).
    pub fn new(
        media_type: MediaType,
        content_type: Option<&str>,
        source: Source,
        limits: &MediaLimits,
    ) -> Result<Self, WxError> {
        let content_type = content_type
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if let Some(ct) = &content_type {
            declared_format(media_type, ct)?;
        }
        if let Source::Bytes(data) = &source {
            media_type.limit_of(limits).check(data.len() as u64)?;
            check_content(media_type, content_type.as_deref(), data.len() as u64, data)?;
        }
        Ok(MediaUpload {
            media_type,
            content_type,
            source,
        })
    }
}

impl MediaType {
    fn limit_of(self, limits: &MediaLimits) -> Limit {
        Limit::new(
            self.limit(limits),
            "media.value",
            format!("the {} limit", self.as_str()),
        )
    }
}

/// Media whose source is open and whose bytes are checked.
#[derive(Debug, Clone)]
pub struct ReadyMedia {
    pub media_type: MediaType,
    pub format: Format,
    pub opened: Opened,
}

impl MediaUpload {
    /// Opens the source (refused over the type's limit) and checks its
    /// bytes; nothing is sent to WeChat yet.
    pub async fn open(self, client: &Client) -> Result<ReadyMedia, WxError> {
        let limit = self.media_type.limit_of(&client.config().media_limits);
        let opened = self.source.open(client, &limit).await?;
        let format = check_content(
            self.media_type,
            self.content_type.as_deref(),
            opened.len,
            &opened.head,
        )?;
        Ok(ReadyMedia {
            media_type: self.media_type,
            format,
            opened,
        })
    }
}

impl ReadyMedia {
    /// One part `media` named `media.<ext>` (ASCII, extension matching the
    /// content), with an exact length.
    pub fn multipart(self) -> MultipartBody {
        let filename = format!("media.{}", self.format.ext);
        MultipartBuilder::new().finish_with(
            "media",
            &filename,
            self.format.mime,
            self.opened.payload,
            self.opened.len,
        )
    }
}

/// `POST /cgi-bin/media/upload?type=…`.
fn upload_request(ready: ReadyMedia) -> Request {
    Request {
        method: Method::POST,
        target: Target::Api("/cgi-bin/media/upload"),
        query: vec![("type", ready.media_type.as_str().to_string())],
        body: RequestBody::Multipart(ready.multipart()),
        timeout: TimeoutClass::Transfer,
        max_reply_bytes: MAX_JSON_REPLY_BYTES,
        // A second upload would store a second media: repeated only when
        // the first provably did not reach WeChat.
        retry: Retry::UnsentOnly,
    }
}

/// What `uploadTempMedia` resolves with (beside errCode/errMsg).
#[derive(Debug, Clone, PartialEq)]
pub struct UploadedMedia {
    pub media_type: String,
    pub media_id: String,
    pub created_at: i64,
}

pub async fn upload_temp_media(
    client: &Client,
    upload: MediaUpload,
) -> Result<UploadedMedia, WxError> {
    let ready = upload.open(client).await?;
    let media_type = ready.media_type;
    let reply = client.call_api(upload_request(ready)).await?;
    parse_upload_reply(reply.json.as_ref(), media_type)
}

/// `media_id` (or `thumb_media_id` for thumbs), and `created_at` as a number
/// even when WeChat sends it as a string.
/// Pure, for any JSON (a fuzz target).
pub fn parse_upload_reply(
    json: Option<&Value>,
    requested: MediaType,
) -> Result<UploadedMedia, WxError> {
    let json =
        json.ok_or_else(|| WxError::http_status(200, "media/upload replied without JSON"))?;
    let media_id = ["media_id", "thumb_media_id"]
        .iter()
        .find_map(|k| json.get(*k).and_then(Value::as_str))
        .filter(|id| !id.is_empty())
        .ok_or_else(|| WxError::http_status(200, "media/upload reply has no media_id"))?;
    let created_at = match json.get("created_at") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    };
    let media_type = json
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or(requested.as_str())
        .to_string();
    Ok(UploadedMedia {
        media_type,
        media_id: media_id.to_string(),
        created_at,
    })
}

/// What `getTempMedia` gives back.
#[derive(Debug, Clone, PartialEq)]
pub enum TempMedia {
    /// `data` is empty when the call streamed it to its `filePath`.
    File {
        content_type: String,
        data: Bytes,
        status_code: u16,
    },
    Video {
        url: String,
    },
}

pub fn check_media_id(media_id: &str) -> Result<(), WxError> {
    if media_id.trim().is_empty() {
        return Err(WxError::invalid_param(
            "mediaId is empty: pass the mediaId that uploadTempMedia returned",
        ));
    }
    if media_id.chars().any(|c| c.is_control()) {
        return Err(WxError::invalid_param(
            "mediaId contains control characters",
        ));
    }
    Ok(())
}

/// `GET /cgi-bin/media/get`: binary (attachment), or JSON with `video_url`,
/// or a JSON error that may be labelled text/plain; classified strictly by
/// [`crate::media_get::classify_media_reply`].
pub async fn get_temp_media(
    client: &Client,
    media_id: &str,
    max_bytes: u64,
) -> Result<TempMedia, WxError> {
    check_media_id(media_id)?;
    let request = Request {
        method: Method::GET,
        target: Target::Api("/cgi-bin/media/get"),
        query: vec![("media_id", media_id.to_string())],
        body: RequestBody::Empty,
        timeout: TimeoutClass::Transfer,
        max_reply_bytes: max_bytes,
        retry: Retry::Idempotent,
    };
    let reply = client.call_api(request.clone()).await?;
    // With filePath the bytes went to the file: only the headers can tell.
    let streamed =
        crate::transfer::sink_for(&request, reply.reply.status, &reply.reply.headers).is_some();
    crate::media_get::classify_media_reply(
        reply.reply.status,
        &reply.reply.headers,
        (!streamed).then_some(&reply.reply.body),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_shapes() {
        let j: Value =
            serde_json::from_str(r#"{"type":"thumb","thumb_media_id":"T","created_at":"123"}"#)
                .expect("json");
        let r = parse_upload_reply(Some(&j), MediaType::Thumb).expect("ok");
        assert_eq!(r.media_id, "T");
        assert_eq!(r.created_at, 123);
        let j: Value = serde_json::from_str(r#"{"type":"image","media_id":"M","created_at":5}"#)
            .expect("json");
        assert_eq!(
            parse_upload_reply(Some(&j), MediaType::Image)
                .expect("ok")
                .created_at,
            5
        );
        assert!(parse_upload_reply(Some(&serde_json::json!({})), MediaType::Image).is_err());
    }
}
