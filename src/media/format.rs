//! Media formats: what the bytes are (magic numbers) and whether a type takes them.

use super::MediaType;
use crate::error::WxError;

/// A media format WeChat accepts: its MIME type and the extension the
/// filename must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    pub mime: &'static str,
    pub ext: &'static str,
}

impl Format {
    pub const PNG: Format = Format {
        mime: "image/png",
        ext: "png",
    };
    pub const JPEG: Format = Format {
        mime: "image/jpeg",
        ext: "jpg",
    };
    pub const GIF: Format = Format {
        mime: "image/gif",
        ext: "gif",
    };
    pub const AMR: Format = Format {
        mime: "audio/amr",
        ext: "amr",
    };
    pub const MP3: Format = Format {
        mime: "audio/mpeg",
        ext: "mp3",
    };
    pub const MP4: Format = Format {
        mime: "video/mp4",
        ext: "mp4",
    };

    const ALL: [Format; 6] = [
        Self::PNG,
        Self::JPEG,
        Self::GIF,
        Self::AMR,
        Self::MP3,
        Self::MP4,
    ];

    /// The format of a MIME type, accepting common aliases.
    pub fn from_mime(content_type: &str) -> Option<Format> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let canonical = match essence.as_str() {
            "image/jpg" | "image/pjpeg" => "image/jpeg",
            "audio/mp3" | "audio/mpeg3" | "audio/x-mpeg" => "audio/mpeg",
            "audio/amr-wb" | "audio/x-amr" => "audio/amr",
            other => other,
        };
        Self::ALL.into_iter().find(|f| f.mime == canonical)
    }
}

/// The format the bytes really are, from their magic numbers.
pub fn sniff(data: &[u8]) -> Option<Format> {
    let kind = infer::get(data)?;
    Format::from_mime(kind.mime_type())
}

fn allowed_names(media_type: MediaType) -> String {
    media_type
        .allowed()
        .iter()
        .map(|f| f.mime)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn declared_format(media_type: MediaType, ct: &str) -> Result<Format, WxError> {
    Format::from_mime(ct).ok_or_else(|| {
        WxError::invalid_param(format!(
            "media.contentType '{ct}' is not accepted for type '{}': use one of {}",
            media_type.as_str(),
            allowed_names(media_type)
        ))
    })
}

/// The format of the bytes (from their first bytes `head`): one the type
/// allows, and the one `content_type` says when given.
pub fn check_content(
    media_type: MediaType,
    content_type: Option<&str>,
    len: u64,
    head: &[u8],
) -> Result<Format, WxError> {
    if len == 0 {
        return Err(WxError::invalid_param(
            "media.value is empty: pass the file's bytes as a non-empty Buffer",
        ));
    }
    let names = allowed_names(media_type);
    let sniffed = sniff(head);
    let declared = content_type
        .map(|ct| declared_format(media_type, ct))
        .transpose()?;
    let format = match (declared, sniffed) {
        (Some(d), Some(s)) if d != s => {
            return Err(WxError::invalid_param(format!(
                "media.contentType says '{}' but the bytes are {}: pass the real type ('{}') or the right file",
                d.mime, s.mime, s.mime
            )))
        }
        (_, Some(s)) => s,
        (Some(d), None) => {
            return Err(WxError::invalid_param(format!(
                "media.value does not look like {} (its first bytes match no known {} file): check the data",
                d.mime,
                media_type.as_str()
            )))
        }
        (None, None) => {
            return Err(WxError::invalid_param(format!(
                "cannot tell the format of media.value: pass a {} file (one of {names})",
                media_type.as_str()
            )))
        }
    };
    if !media_type.allowed().contains(&format) {
        return Err(WxError::invalid_param(format!(
            "a {} file cannot be uploaded as type '{}': use one of {names}",
            format.mime,
            media_type.as_str()
        )));
    }
    Ok(format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MediaLimits;
    use crate::media::MediaUpload;
    use crate::source::Source;
    use bytes::Bytes;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0";
    const GIF: &[u8] = b"GIF89a\x01\0\x01\0";

    fn upload(t: MediaType, ct: Option<&str>, data: &'static [u8]) -> Result<Format, WxError> {
        MediaUpload::new(
            t,
            ct,
            Source::Bytes(Bytes::from_static(data)),
            &MediaLimits::default(),
        )?;
        check_content(t, ct, data.len() as u64, data)
    }

    #[test]
    fn sniffs_the_formats_wechat_takes() {
        assert_eq!(sniff(PNG), Some(Format::PNG));
        assert_eq!(sniff(JPEG), Some(Format::JPEG));
        assert_eq!(sniff(GIF), Some(Format::GIF));
        assert_eq!(sniff(b"#!AMR\n\0\0\0\0\0\0\0"), Some(Format::AMR));
        assert_eq!(sniff(b"ID3\x03\0\0\0\0\0\0"), Some(Format::MP3));
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom"),
            Some(Format::MP4)
        );
        assert_eq!(sniff(b"hello"), None);
    }

    #[test]
    fn content_type_must_agree_with_bytes() {
        let e = upload(MediaType::Image, Some("image/png"), JPEG).expect_err("mismatch");
        assert!(
            e.detail.contains("'image/png'") && e.detail.contains("image/jpeg"),
            "{}",
            e.detail
        );
        let ok = upload(MediaType::Image, Some("image/jpg"), JPEG).expect("alias");
        assert_eq!(ok, Format::JPEG);
        let ok = upload(MediaType::Image, None, GIF).expect("sniffed");
        assert_eq!(ok, Format::GIF);
    }

    #[test]
    fn type_rules() {
        assert!(MediaType::parse("file").is_err());
        assert!(upload(MediaType::Thumb, None, PNG).is_err());
        assert!(upload(MediaType::Voice, None, PNG).is_err());
        assert!(upload(MediaType::Image, None, b"").is_err());
        assert!(upload(MediaType::Image, Some("image/png"), b"not an image").is_err());
        let limits = MediaLimits {
            image: 4,
            ..Default::default()
        };
        let e = MediaUpload::new(
            MediaType::Image,
            None,
            Source::Bytes(Bytes::from_static(PNG)),
            &limits,
        )
        .expect_err("big");
        assert!(e.detail.contains("limit"));
    }
}
