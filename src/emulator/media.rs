//! Temporary media: `/cgi-bin/media/upload`, `/cgi-bin/media/get`, and the
//! video download path that `media/get` points video media at.

use std::convert::Infallible;

use bytes::Bytes;
use futures_util::stream::{self, Stream};
use hyper::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use hyper::{Method, StatusCode};
use serde_json::{json, Value};

use super::http::{random_string, Incoming, Reply, WxError, URL_SAFE};
use super::state::{lock, Shared, StoredLen};
use super::tokens::{authorize, Caller};

/// "媒体文件在微信后台保存时间为3天" — media ids die after 3 days.
pub(crate) const MEDIA_TTL_MS: u64 = 3 * 86_400_000;
/// Path prefix of the video download link `media/get` hands out.
pub(crate) const VIDEO_PREFIX: &str = "/__emulator/video/";
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

    fn as_str(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Voice => "voice",
            MediaType::Video => "video",
            MediaType::Thumb => "thumb",
        }
    }

    /// The format a (lower-case) file extension must hold for this type.
    fn format_for_extension(self, ext: &str) -> Option<Format> {
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

    fn size_limit(self, limits: &MediaLimits) -> (usize, WxError) {
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

/// The type of a live media `media_id` the caller may use, if there is one.
pub(crate) fn media_type_of(shared: &Shared, caller: &Caller, media_id: &str) -> Option<MediaType> {
    let now = shared.clock.now_ms();
    let store = lock(&shared.media);
    store
        .get(media_id)
        .filter(|entry| entry.is_live(now) && entry.readable_by(caller))
        .map(|entry| entry.media_type)
}

/// A stored temporary media.
pub(crate) struct MediaEntry {
    data: Bytes,
    content_type: String,
    media_type: MediaType,
    extension: String,
    created_at_ms: u64,
    /// The app whose token uploaded it; other apps cannot read it.
    owner: Option<String>,
}

impl StoredLen for MediaEntry {
    fn stored_len(&self) -> usize {
        self.data.len()
    }
}

impl MediaEntry {
    fn is_live(&self, now_ms: u64) -> bool {
        now_ms < self.created_at_ms + MEDIA_TTL_MS
    }

    fn readable_by(&self, caller: &Caller) -> bool {
        match (self.owner.as_deref(), caller.appid()) {
            (Some(owner), Some(appid)) => owner == appid,
            _ => true,
        }
    }
}

/// The `media` part of an upload, as read off the wire.
#[derive(Debug)]
pub(crate) struct MediaPart {
    /// The raw Content-Disposition header, to spot RFC 2231 `filename*=`.
    disposition: String,
    filename: Option<String>,
    content_type: Option<String>,
    data: Bytes,
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

/// Checks and keeps one upload; the `media/upload` reply.
pub(crate) fn store_upload(
    shared: &Shared,
    media_type: MediaType,
    part: MediaPart,
    owner: Option<String>,
) -> Result<Value, WxError> {
    let extension = check_media(media_type, &part, &shared.opts.media_limits)?;
    let now = shared.clock.now_ms();
    let media_id = random_string(64, URL_SAFE);
    // Lean mode (benchmarks): validate everything, keep nothing.
    if !shared.opts.lean {
        let content_type = part
            .content_type
            .or_else(|| sniff(&part.data).map(|f| f.mime().to_owned()))
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let entry = MediaEntry {
            content_type,
            data: part.data,
            media_type,
            extension,
            created_at_ms: now,
            owner,
        };
        store_media(shared, media_id.clone(), entry, now);
    }
    let id_key = match media_type {
        MediaType::Thumb => "thumb_media_id",
        _ => "media_id",
    };
    Ok(json!({
        "errcode": 0,
        "errmsg": "ok",
        "type": media_type.as_str(),
        id_key: media_id,
        "created_at": now / 1000,
    }))
}

/// A live media readable by `appid`: (bytes, content type, is video).
pub(crate) fn lookup_media(
    shared: &Shared,
    media_id: &str,
    appid: Option<&str>,
) -> Result<(Bytes, String, bool), WxError> {
    let now = shared.clock.now_ms();
    let store = lock(&shared.media);
    let caller = match appid {
        Some(appid) => Caller::App {
            appid: appid.to_owned(),
        },
        None => Caller::OpenApiService,
    };
    let entry = store
        .get(media_id)
        .filter(|entry| entry.is_live(now) && entry.readable_by(&caller))
        .ok_or_else(|| WxError::new(40007, "invalid media_id"))?;
    Ok((
        entry.data.clone(),
        entry.content_type.clone(),
        entry.media_type == MediaType::Video,
    ))
}

fn store_media(shared: &Shared, media_id: String, entry: MediaEntry, now_ms: u64) {
    let mut store = lock(&shared.media);
    // Insertion order is creation order, so expired media sit at the front.
    while store.oldest().is_some_and(|oldest| !oldest.is_live(now_ms)) {
        store.evict_oldest();
    }
    store.insert(media_id, entry);
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

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10];

    fn part(filename: Option<&str>, data: &[u8]) -> MediaPart {
        MediaPart {
            disposition: match filename {
                Some(name) => format!("form-data; name=\"media\"; filename=\"{name}\""),
                None => "form-data; name=\"media\"".to_owned(),
            },
            filename: filename.map(str::to_owned),
            content_type: None,
            data: Bytes::copy_from_slice(data),
        }
    }

    fn code(result: Result<String, WxError>) -> i64 {
        result.map(|_| 0).unwrap_or_else(|e| e.code)
    }

    #[test]
    fn sniffs_every_accepted_format() {
        assert_eq!(sniff(PNG), Some(Format::Png));
        assert_eq!(sniff(JPEG), Some(Format::Jpeg));
        assert_eq!(sniff(b"GIF89a..."), Some(Format::Gif));
        assert_eq!(sniff(b"#!AMR\n"), Some(Format::Amr));
        assert_eq!(sniff(b"ID3\x04"), Some(Format::Mp3));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x00]), Some(Format::Mp3));
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), Some(Format::Mp4));
        assert_eq!(sniff(b"hello"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn extension_and_magic_must_agree_with_type() {
        let limits = MediaLimits::default();
        assert_eq!(
            code(check_media(
                MediaType::Image,
                &part(Some("a.png"), PNG),
                &limits
            )),
            0
        );
        assert_eq!(
            code(check_media(
                MediaType::Image,
                &part(Some("a.JPG"), JPEG),
                &limits
            )),
            0
        );
        // Wrong extension for the type, magic of another format, no extension.
        assert_eq!(
            code(check_media(
                MediaType::Voice,
                &part(Some("a.png"), PNG),
                &limits
            )),
            40005
        );
        assert_eq!(
            code(check_media(
                MediaType::Image,
                &part(Some("a.png"), JPEG),
                &limits
            )),
            40005
        );
        assert_eq!(
            code(check_media(
                MediaType::Image,
                &part(Some("media"), PNG),
                &limits
            )),
            40005
        );
        assert_eq!(
            code(check_media(
                MediaType::Thumb,
                &part(Some("a.png"), PNG),
                &limits
            )),
            40005
        );
    }

    #[test]
    fn filename_must_be_plain_ascii_and_data_non_empty() {
        let limits = MediaLimits::default();
        assert_eq!(
            code(check_media(MediaType::Image, &part(None, PNG), &limits)),
            41005
        );
        assert_eq!(
            code(check_media(
                MediaType::Image,
                &part(Some("图.png"), PNG),
                &limits
            )),
            41005
        );
        assert_eq!(
            code(check_media(
                MediaType::Image,
                &part(Some("a.png"), b""),
                &limits
            )),
            41005
        );
        let mut rfc2231 = part(Some("a.png"), PNG);
        rfc2231.disposition.push_str("; filename*=UTF-8''a.png");
        assert_eq!(
            code(check_media(MediaType::Image, &rfc2231, &limits)),
            41005
        );
    }

    #[test]
    fn size_limits_per_type() {
        let limits = MediaLimits {
            thumb: 8,
            ..MediaLimits::default()
        };
        let big_jpeg = [JPEG, &[0u8; 8]].concat();
        assert_eq!(
            code(check_media(
                MediaType::Thumb,
                &part(Some("t.jpg"), &big_jpeg),
                &limits
            )),
            40012
        );
        assert_eq!(
            code(check_media(
                MediaType::Image,
                &part(Some("t.jpg"), &big_jpeg),
                &limits
            )),
            0
        );
    }

    fn multipart_body(boundary: &str, parts: &[(&str, &str)]) -> Bytes {
        let mut body = String::new();
        for (disposition, data) in parts {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: image/png\r\n\r\n{data}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        Bytes::from(body)
    }

    #[tokio::test]
    async fn reads_the_media_part_with_multer() {
        let ct = "multipart/form-data; boundary=XyZ";
        let body = multipart_body(
            "XyZ",
            &[
                ("form-data; name=\"other\"", "x"),
                ("form-data; name=\"media\"; filename=\"a.png\"", "DATA"),
            ],
        );
        let part = read_media_part(Some(ct), body).await.expect("media part");
        assert_eq!(part.filename.as_deref(), Some("a.png"));
        assert_eq!(part.content_type.as_deref(), Some("image/png"));
        assert_eq!(&part.data[..], b"DATA");
    }

    #[tokio::test]
    async fn refuses_missing_or_broken_multipart() {
        let ct = "multipart/form-data; boundary=XyZ";
        let wrong_name = multipart_body(
            "XyZ",
            &[("form-data; name=\"file\"; filename=\"a.png\"", "D")],
        );
        let truncated = Bytes::from(
            "--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.png\"\r\n\r\nDA",
        );
        for (content_type, body) in [
            (Some(ct), wrong_name),
            (Some(ct), truncated),
            (Some("application/json"), Bytes::from("{}")),
            (Some("multipart/form-data"), Bytes::from("x")),
            (None, Bytes::new()),
        ] {
            let err = read_media_part(content_type, body).await.err();
            assert_eq!(err.map(|e| e.code), Some(41005), "{content_type:?}");
        }
    }
}
