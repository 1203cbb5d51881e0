//! COS replies: only a document whose root element is <Error> is an error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wx_media::cos::parse_cos_error;

fuzz_target!(|data: &[u8]| {
    let _ = parse_cos_error(data);
});
