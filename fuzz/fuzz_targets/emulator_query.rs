//! Query strings as the emulator decodes them, and the cloudPath rule that
//! client and emulator share.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wx_media::cloud_path;
use wx_media::emulator::fuzzing::query;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for (k, v) in query(&text) {
        assert!(
            k.len() + v.len() <= data.len() * 3,
            "decoding never grows past the input"
        );
    }
    if cloud_path::check(&text).is_ok() {
        assert!(!text.is_empty() && !text.starts_with('/'));
        assert!(text.split('/').all(|seg| seg != "." && seg != ".."));
    }
});
