//! Redaction: whatever text a server echoes, a known secret never survives
//! `scrub_with` in its raw form.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wx_media::secrets::scrub_with;

mod common;

fuzz_target!(|data: &[u8]| {
    let (secret, text) = common::split(data);
    let Ok(secret) = std::str::from_utf8(secret) else {
        return;
    };
    if secret.len() < 8 || !secret.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return;
    }
    let text = String::from_utf8_lossy(text);
    // scrub_with takes the secret's forms lower-cased, as the registry keeps them.
    let known = secret.to_ascii_lowercase();
    let out = scrub_with(&text, &[&known]).to_ascii_lowercase();
    assert!(!out.contains(&known), "the secret survived redaction");
});
