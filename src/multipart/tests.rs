//! Unit tests of the multipart body: exact layout and length, no payload copies, escaped names, streamed file parts.

use super::*;

#[test]
fn layout_and_length_are_exact() {
    let payload = Bytes::from_static(b"\x89PNGdata");
    let body = MultipartBuilder::with_boundary("B".into())
        .text("key", "a/b.png")
        .bytes("media", "media.png", "image/png", payload)
        .finish();
    let mut want = Vec::new();
    want.extend_from_slice(
        b"--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\na/b.png\r\n",
    );
    want.extend_from_slice(b"--B\r\nContent-Disposition: form-data; name=\"media\"; filename=\"media.png\"\r\nContent-Type: image/png\r\n\r\n");
    want.extend_from_slice(b"\x89PNGdata\r\n--B--\r\n");
    assert_eq!(body.head_bytes(), want);
    assert_eq!(body.len(), want.len() as u64);
    assert_eq!(body.content_type(), "multipart/form-data; boundary=B");
}

#[test]
fn payload_is_not_copied() {
    let payload = Bytes::from(vec![7u8; 4096]);
    let ptr = payload.as_ptr();
    let body = MultipartBuilder::new()
        .bytes("media", "m.png", "image/png", payload)
        .finish();
    assert!(body.head.iter().any(|c| c.as_ptr() == ptr));
}

#[test]
fn large_payloads_are_framed_without_copying() {
    let payload = Bytes::from(vec![1u8; MAX_FRAME * 2 + 10]);
    let start = payload.as_ptr();
    let body = MultipartBuilder::with_boundary("B".into())
        .bytes("f", "f.bin", "application/octet-stream", payload.clone())
        .finish();
    let frames: Vec<&Bytes> = body
        .head
        .iter()
        .filter(|c| c.len() >= 10 && c[0] == 1)
        .collect();
    assert_eq!(
        frames.iter().map(|c| c.len()).collect::<Vec<_>>(),
        vec![MAX_FRAME, MAX_FRAME, 10]
    );
    assert_eq!(frames[0].as_ptr(), start);
    assert_eq!(
        body.head_bytes()
            .windows(payload.len())
            .filter(|w| *w == &payload[..])
            .count(),
        1
    );
}

#[test]
fn quotes_in_names_are_escaped() {
    assert_eq!(escape_quoted("a\"b\r\nc"), "a\\\"b  c");
}

#[tokio::test]
async fn file_part_streams_exact_length() {
    use crate::source::FileSource;
    use http_body_util::BodyExt;
    let dir = std::env::temp_dir().join(format!("wxm-mp-{}", fastrand::u64(..)));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join("f.bin");
    std::fs::write(&path, b"0123456789").expect("write");
    let body = MultipartBuilder::with_boundary("B".into())
        .text("key", "k")
        .finish_with(
            "file",
            "f.bin",
            "application/octet-stream",
            Payload::File(FileSource {
                path: path.clone(),
                offset: 2,
                len: 5,
            }),
            5,
        );
    let bytes = body.to_body().collect().await.expect("body").to_bytes();
    assert_eq!(bytes.len() as u64, body.len());
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("\r\n\r\n23456\r\n--B--\r\n"), "{text}");

    let short = MultipartBuilder::with_boundary("B".into()).finish_with(
        "file",
        "f.bin",
        "application/octet-stream",
        Payload::File(FileSource {
            path,
            offset: 0,
            len: 50,
        }),
        50,
    );
    assert!(short.to_body().collect().await.is_err());
    let _ = std::fs::remove_dir_all(dir);
}
