//! The TCB gateway's `wx.openApi` reply: a protobuf CommOpenApiResp, or the
//! gateway's own JSON error.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wx_media::gateway::openapi::parse_reply;

mod common;

fuzz_target!(|data: &[u8]| {
    let (meta, body) = common::split(data);
    let content_type = match meta.first() {
        Some(0x01) => "application/json; charset=utf-8".to_string(),
        Some(0x02) => "application/octet-stream".to_string(),
        _ => String::from_utf8_lossy(meta).into_owned(),
    };
    let _ = parse_reply(
        "customerServiceMessage.send",
        200,
        &content_type,
        &Bytes::copy_from_slice(body),
    );
});
