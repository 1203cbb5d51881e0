//! `GET /cgi-bin/media/get` classification: media, a video link, or an error.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use wx_media::media::TempMedia;
use wx_media::media_get::classify_media_reply;

mod common;

fuzz_target!(|data: &[u8]| {
    let (meta, body) = common::split(data);
    // meta: "<content-type>\n<content-disposition>"
    let mut lines = meta.splitn(2, |&b| b == b'\n');
    let content_type = lines.next().unwrap_or_default();
    let disposition = lines.next().unwrap_or_default();
    let headers = common::headers(&[
        (CONTENT_TYPE, content_type),
        (CONTENT_DISPOSITION, disposition),
    ]);
    let body = Bytes::copy_from_slice(body);
    if let Ok(TempMedia::File { data, .. }) = classify_media_reply(200, &headers, Some(&body)) {
        assert_eq!(data, body, "media is the body, untouched");
    }
    let _ = classify_media_reply(200, &headers, None);
});
