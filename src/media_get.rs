//! Classifying a `GET /cgi-bin/media/get` reply strictly: only what is
//! clearly media is media. A JSON reply is a video link only when it has a
//! non-empty string `video_url` and no non-zero `errcode` (in any form);
//! bytes are media only when labelled so (an `image/`, `audio/` or `video/`
//! type, or an attachment that is not text) and not shaped like JSON, XML or
//! HTML. Everything else (an HTML error page, truncated JSON, an empty body)
//! is an error.

use reqwest::header::{HeaderMap, CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::Value;

use crate::client::errcode_of;
use crate::error::WxError;
use crate::media::TempMedia;

/// The media in a 2xx reply of `media/get`, or why it is not media. `body`
/// is `None` when the bytes were streamed to the caller's file: then only the
/// headers decide. Pure, for any headers and bytes (a fuzz target).
pub fn classify_media_reply(
    status: u16,
    headers: &HeaderMap,
    body: Option<&bytes::Bytes>,
) -> Result<TempMedia, WxError> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let content_type = header(CONTENT_TYPE);
    let essence = content_type
        .as_deref()
        .and_then(|ct| ct.split(';').next())
        .unwrap_or("")
        .trim()
        .to_string();
    let not_media = |why: &str| {
        WxError::http_status(
            status,
            format!(
                "media/get answered HTTP {status} with {}, which is not media: {why}",
                if essence.is_empty() {
                    "no content type"
                } else {
                    &essence
                }
            ),
        )
    };
    let streamed = body.is_none();
    let bytes = body.cloned().unwrap_or_default();
    let body = &bytes[..];
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'{') {
        return match serde_json::from_slice::<Value>(body) {
            Ok(json) => video_link(&json).map_err(|why| not_media(why).or_wechat(&json)),
            Err(_) => Err(not_media("unreadable JSON")),
        };
    }
    if body.is_empty() && !streamed {
        return Err(not_media("an empty body"));
    }
    if matches!(first, Some(b'[' | b'<')) {
        return Err(not_media("the body is shaped like JSON, XML or HTML"));
    }
    let labelled_media = ["image/", "audio/", "video/"]
        .iter()
        .any(|p| essence.starts_with(p));
    let textual = essence.starts_with("text/")
        || essence.contains("json")
        || essence.contains("xml")
        || essence.contains("html");
    let attachment = header(CONTENT_DISPOSITION).is_some_and(|d| d.starts_with("attachment"));
    if labelled_media || (attachment && !textual) {
        let content_type = match content_type {
            Some(_) if !essence.is_empty() => headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map_or(essence.clone(), |v| v.trim().to_string()),
            _ => "application/octet-stream".to_string(),
        };
        return Ok(TempMedia::File {
            content_type,
            data: bytes.clone(),
            status_code: status,
        });
    }
    Err(not_media("neither an attachment nor a media type"))
}

/// A JSON reply: a video link, or why not.
fn video_link(json: &Value) -> Result<TempMedia, &'static str> {
    if errcode_of(Some(json)).is_some() {
        return Err("an errcode");
    }
    match json.get("video_url") {
        Some(Value::String(url)) if !url.trim().is_empty() => {
            Ok(TempMedia::Video { url: url.clone() })
        }
        Some(_) => Err("video_url is not a non-empty string"),
        None => Err("JSON without video_url"),
    }
}

trait OrWechat {
    /// The WeChat error a JSON `errcode` names, in place of `self`.
    fn or_wechat(self, json: &Value) -> WxError;
}

impl OrWechat for WxError {
    fn or_wechat(self, json: &Value) -> WxError {
        match errcode_of(Some(json)) {
            Some(code) => {
                let msg = json.get("errmsg").and_then(Value::as_str).unwrap_or("");
                let status = self.status.unwrap_or(200);
                WxError::wechat(code, msg).with_status(status)
            }
            None => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use reqwest::header::HeaderValue;

    fn classify(
        headers: &[(&'static str, &'static str)],
        body: &[u8],
    ) -> Result<TempMedia, WxError> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_static(v));
        }
        classify_media_reply(200, &map, Some(&bytes::Bytes::copy_from_slice(body)))
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn errors_are_not_media() {
        let html = classify(&[("content-type", "text/html")], b"<html>error</html>");
        assert_eq!(html.expect_err("html").kind, ErrorKind::HttpStatus);
        let truncated = classify(
            &[("content-type", "text/plain")],
            b"{\"errcode\":40007,\"errm",
        );
        assert_eq!(truncated.expect_err("cut").kind, ErrorKind::HttpStatus);
        for body in [&b"{\"errcode\":\"40007\"}"[..], b"{\"errcode\":40007.0}"] {
            let e = classify(&[("content-type", "application/json")], body).expect_err("errcode");
            assert_eq!((e.kind, e.err_code), (ErrorKind::WxApi, 40007));
        }
        assert!(classify(&[], b"{\"errcode\":0}").is_err());
        assert!(classify(&[], b"{\"video_url\":42}").is_err());
        assert!(classify(&[("content-type", "image/png")], b"").is_err());
        assert!(classify(&[("content-type", "image/png")], b"  <html>").is_err());
        assert!(classify(&[("content-type", "application/octet-stream")], PNG).is_err());
        let labelled_text = [
            ("content-type", "text/plain"),
            ("content-disposition", "attachment"),
        ];
        assert!(classify(&labelled_text, PNG).is_err());
        let html: HeaderMap = [(CONTENT_TYPE, HeaderValue::from_static("text/html"))]
            .into_iter()
            .collect();
        assert!(classify_media_reply(200, &html, None).is_err());
    }

    #[test]
    fn media_and_videos_are_recognised() {
        let png = classify(&[("content-type", "image/png")], PNG).expect("png");
        assert!(
            matches!(png, TempMedia::File { ref content_type, .. } if content_type == "image/png")
        );
        let attached = [("content-disposition", "attachment; filename=\"v.amr\"")];
        let amr = classify(&attached, b"#!AMR\n").expect("attachment");
        assert!(
            matches!(amr, TempMedia::File { ref content_type, .. } if content_type == "application/octet-stream")
        );
        let video = classify(
            &[("content-type", "text/plain")],
            b"{\"video_url\":\"http://v/1.mp4\"}",
        );
        assert_eq!(
            video.expect("video"),
            TempMedia::Video {
                url: "http://v/1.mp4".into()
            }
        );
        assert!(classify(&[], b"{\"errcode\":0,\"video_url\":\"http://v\"}").is_ok());
        let png: HeaderMap = [(CONTENT_TYPE, HeaderValue::from_static("image/png"))]
            .into_iter()
            .collect();
        assert!(classify_media_reply(200, &png, None).is_ok());
    }
}
