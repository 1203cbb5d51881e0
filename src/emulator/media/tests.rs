//! Unit tests of format sniffing, the `media` part checks and multipart reading.

use bytes::Bytes;

use super::kinds::Format;
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
