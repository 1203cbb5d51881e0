//! The emulator's multipart parsing: the COS POST Object form and the parts
//! its request log records. Half the inputs get a fixed boundary so the
//! fuzzer reaches the part parser without having to guess one.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wx_media::emulator::fuzzing::{cos_form, logged_parts};

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let (meta, body) = common::split(rest);
    let content_type = if first & 1 == 0 {
        "multipart/form-data; boundary=fuzzboundary".to_string()
    } else {
        String::from_utf8_lossy(meta).into_owned()
    };
    if let Some((_, file_len)) = cos_form(Some(&content_type), body) {
        assert!(
            file_len <= body.len(),
            "a part is never larger than the body"
        );
    }
    let _ = logged_parts(&content_type, body);
});
