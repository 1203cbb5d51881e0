//! The media types of `/cgi-bin/media/upload`, their size limits, and the
//! file formats told apart by their magic bytes.

use super::super::http::WxError;

const MIB: usize = 1024 * 1024;

/// Per-type size limits of `/cgi-bin/media/upload`, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    pub image: usize,
    pub voice: usize,
    pub video: usize,
    pub thumb: usize,
}

impl Default for MediaLimits {
    fn default() -> Self {
        MediaLimits {
            image: 10 * MIB,
            voice: 2 * MIB,
            video: 10 * MIB,
            thumb: 64 * 1024,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaType {
    Image,
    Voice,
    Video,
    Thumb,
}

impl MediaType {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "image" => Some(MediaType::Image),
            "voice" => Some(MediaType::Voice),
            "video" => Some(MediaType::Video),
            "thumb" => Some(MediaType::Thumb),
            _ => None,
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Voice => "voice",
            MediaType::Video => "video",
            MediaType::Thumb => "thumb",
        }
    }

    /// The format a (lower-case) file extension must hold for this type.
    pub(super) fn format_for_extension(self, ext: &str) -> Option<Format> {
        match (self, ext) {
            (MediaType::Image, "png") => Some(Format::Png),
            (MediaType::Image | MediaType::Thumb, "jpg" | "jpeg") => Some(Format::Jpeg),
            (MediaType::Image, "gif") => Some(Format::Gif),
            (MediaType::Voice, "amr") => Some(Format::Amr),
            (MediaType::Voice, "mp3") => Some(Format::Mp3),
            (MediaType::Video, "mp4") => Some(Format::Mp4),
            _ => None,
        }
    }

    pub(super) fn size_limit(self, limits: &MediaLimits) -> (usize, WxError) {
        match self {
            MediaType::Image => (limits.image, WxError::new(40009, "invalid image size")),
            MediaType::Voice => (limits.voice, WxError::new(40010, "invalid voice size")),
            MediaType::Video => (limits.video, WxError::new(40011, "invalid video size")),
            MediaType::Thumb => (limits.thumb, WxError::new(40012, "invalid thumb size")),
        }
    }
}

/// File formats told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Png,
    Jpeg,
    Gif,
    Amr,
    Mp3,
    Mp4,
}

impl Format {
    pub(crate) fn mime(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
            Format::Gif => "image/gif",
            Format::Amr => "audio/amr",
            Format::Mp3 => "audio/mpeg",
            Format::Mp4 => "video/mp4",
        }
    }
}

/// Recognises the formats WeChat accepts from their magic bytes.
pub(crate) fn sniff(data: &[u8]) -> Option<Format> {
    let is_mpeg_frame_sync = data.len() >= 2 && data[0] == 0xFF && data[1] & 0xE0 == 0xE0;
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some(Format::Gif)
    } else if data.starts_with(b"#!AMR") {
        Some(Format::Amr)
    } else if data.starts_with(b"ID3") || is_mpeg_frame_sync {
        Some(Format::Mp3)
    } else if data.get(4..8) == Some(b"ftyp") {
        Some(Format::Mp4)
    } else {
        None
    }
}
