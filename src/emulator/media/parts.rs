//! The multipart `media` part of an upload: reading it off the wire (with
//! multer) and WeChat's checks on its filename, format and size.

use std::convert::Infallible;

use bytes::Bytes;
use futures_util::stream::{self, Stream};
use hyper::header::{CONTENT_DISPOSITION, CONTENT_TYPE};

use super::super::http::WxError;
use super::kinds::{sniff, MediaLimits, MediaType};

/// The `media` part of an upload, as read off the wire.
#[derive(Debug)]
pub(crate) struct MediaPart {
    /// The raw Content-Disposition header, to spot RFC 2231 `filename*=`.
    pub(super) disposition: String,
    pub(super) filename: Option<String>,
    pub(super) content_type: Option<String>,
    pub(super) data: Bytes,
}

impl MediaPart {
    pub(crate) fn data(&self) -> &[u8] {
        &self.data
    }

    /// A media entry of a `wx.openApi` call: a filename and bytes, no headers.
    pub(crate) fn from_pair(filename: Option<String>, data: Bytes) -> Self {
        MediaPart {
            disposition: String::new(),
            filename,
            content_type: None,
            data,
        }
    }
}

/// Feeds an in-memory body to multer.
pub(crate) fn once_stream(body: Bytes) -> impl Stream<Item = Result<Bytes, Infallible>> {
    stream::iter([Ok(body)])
}

/// The part's Content-Type header exactly as the client sent it.
pub(crate) fn part_content_type(field: &multer::Field<'_>) -> Option<String> {
    field
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn media_data_missing() -> WxError {
    WxError::new(41005, "media data missing")
}

fn invalid_file_type() -> WxError {
    WxError::new(40005, "invalid file type")
}

/// Parses the multipart body (with multer) and returns its first `media` part.
pub(crate) async fn read_media_part(
    content_type: Option<&str>,
    body: Bytes,
) -> Result<MediaPart, WxError> {
    let content_type = content_type.ok_or_else(media_data_missing)?;
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Err(media_data_missing());
    }
    let boundary = multer::parse_boundary(content_type).map_err(|_| media_data_missing())?;
    let mut multipart = multer::Multipart::new(once_stream(body), boundary);
    let mut found = None;
    // Read to the end so that a truncated or garbled body is refused even
    // when the `media` part itself came through whole.
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| media_data_missing())?
    {
        let wanted = found.is_none() && field.name() == Some("media");
        let disposition = field
            .headers()
            .get(CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let filename = field.file_name().map(str::to_owned);
        let part_type = part_content_type(&field);
        let data = field.bytes().await.map_err(|_| media_data_missing())?;
        if wanted {
            found = Some(MediaPart {
                disposition,
                filename,
                content_type: part_type,
                data,
            });
        }
    }
    found.ok_or_else(media_data_missing)
}

/// WeChat's checks on the `media` part; returns the lower-case extension.
pub(crate) fn check_media(
    media_type: MediaType,
    part: &MediaPart,
    limits: &MediaLimits,
) -> Result<String, WxError> {
    let filename = part.filename.as_deref().ok_or_else(media_data_missing)?;
    // WeChat only understands a plain ASCII `filename=`.
    let has_rfc2231_name = part.disposition.to_ascii_lowercase().contains("filename*");
    if filename.is_empty() || !filename.is_ascii() || has_rfc2231_name {
        return Err(media_data_missing());
    }
    if part.data.is_empty() {
        return Err(media_data_missing());
    }
    let extension = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .filter(|ext| !ext.is_empty())
        .ok_or_else(invalid_file_type)?;
    let expected = media_type
        .format_for_extension(&extension)
        .ok_or_else(invalid_file_type)?;
    if sniff(&part.data) != Some(expected) {
        return Err(invalid_file_type());
    }
    let (limit, too_big) = media_type.size_limit(limits);
    if part.data.len() > limit {
        return Err(too_big);
    }
    Ok(extension)
}
