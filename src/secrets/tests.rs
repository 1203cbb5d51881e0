//! Unit tests of redaction: every encoding of a secret is masked.

use super::*;

const TOKEN: &str = "86_AbC/def+ghi=jkl&mno\"pq";

fn scrubbed(text: &str, secret: &str) -> String {
    let forms = forms_of(secret).expect("long enough");
    let known: Vec<&str> = forms.0.iter().map(String::as_str).collect();
    scrub_with(text, &known)
}

#[test]
fn every_encoding_is_masked() {
    let encodings = [
        TOKEN.to_string(),
        TOKEN.to_uppercase(),
        form_urlencoded::byte_serialize(TOKEN.as_bytes()).collect::<String>(),
        form_urlencoded::byte_serialize(TOKEN.as_bytes())
            .collect::<String>()
            .to_lowercase(),
        percent_encoding::utf8_percent_encode(TOKEN, percent_encoding::NON_ALPHANUMERIC)
            .to_string(),
        serde_json::to_string(TOKEN).expect("json"),
        serde_json::to_string(&serde_json::to_string(TOKEN).expect("json")).expect("json"),
        html_escape(TOKEN),
        base64::engine::general_purpose::STANDARD.encode(TOKEN),
        base64::engine::general_purpose::STANDARD.encode(format!("x{TOKEN}")),
        base64::engine::general_purpose::URL_SAFE.encode(format!("xy{TOKEN}")),
    ];
    for enc in encodings {
        let out = scrubbed(&format!("server said <{enc}> ok"), TOKEN);
        assert!(out.contains(MASK), "{enc} → {out}");
        assert!(!out.to_lowercase().contains("def+ghi"), "{enc} → {out}");
        assert!(!out.contains("jkl"), "{enc} → {out}");
        assert!(
            out.starts_with("server said <") && out.ends_with("> ok"),
            "{out}"
        );
    }
}

#[test]
fn a_secret_cut_short_at_the_end_is_masked() {
    let out = scrubbed("reply: {\"t\":\"86_AbC/def+gh", TOKEN);
    assert_eq!(out, "reply: {\"t\":\"***");
    // A short accidental overlap is kept.
    assert_eq!(scrubbed("ends with 86_A", TOKEN), "ends with 86_A");
}

#[test]
fn named_values_are_masked_without_knowing_them() {
    let cases = [
        (
            "GET /x?access_token=ABC&type=image",
            "GET /x?access_token=***&type=image",
        ),
        ("q access_token%3DABC%26x", "q access_token%3D***"),
        (
            r#"{"access_token":"ABC","x":1}"#,
            r#"{"access_token":"***","x":1}"#,
        ),
        (r#"{"secret": "S3"}"#, r#"{"secret": "***"}"#),
        (r#""{\"token\":\"T\"}""#, r#""{\"token\":\"***\"}""#),
        ("Authorization: q-sign-algorithm=sha1", "Authorization: ***"),
        ("tokens=5 mytoken=x", "tokens=5 mytoken=x"),
        (r#"{"expires_in":7200}"#, r#"{"expires_in":7200}"#),
    ];
    for (input, want) in cases {
        assert_eq!(scrub_with(input, &[]), want, "{input}");
    }
}

#[test]
fn url_userinfo_is_masked() {
    assert_eq!(
        mask_url_userinfo("bad 'http://user:p%40ss@proxy:3128/x' and https://h/a@b"),
        "bad 'http://***@proxy:3128/x' and https://h/a@b"
    );
    assert_eq!(mask_url_userinfo("socks5://u@h"), "socks5://***@h");
}

#[test]
fn short_and_unicode_inputs_are_safe() {
    assert!(forms_of("abc").is_none());
    let out = scrubbed("é秘密的令牌值é", "秘密的令牌值");
    assert_eq!(out, "é***é");
    let out = scrubbed("x 秘密的令", "秘密的令牌值");
    assert_eq!(out, "x ***");
}

#[test]
fn random_texts_never_panic_and_never_keep_the_secret() {
    const PIECES: [&str; 14] = [
        "%",
        "%2",
        "%2F",
        "%e4%b8",
        "秘",
        "é",
        "\\",
        "\"",
        "=",
        "access_token",
        "\":",
        " ",
        "@",
        "://",
    ];
    let forms = forms_of(TOKEN).expect("long enough");
    let known: Vec<&str> = forms.0.iter().map(String::as_str).collect();
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..2000 {
        let mut text = String::new();
        for _ in 0..rng.usize(0..12) {
            match rng.u8(0..4) {
                0 => text.push_str(TOKEN),
                1 => text.push_str(&TOKEN[..rng.usize(0..TOKEN.len())]),
                _ => text.push_str(PIECES[rng.usize(0..PIECES.len())]),
            }
        }
        let out = scrub_with(&text, &known);
        assert!(!out.contains(TOKEN), "{text:?} → {out:?}");
    }
}

#[test]
fn registered_secrets_are_masked_everywhere() {
    let set = Secrets::new();
    set.add_permanent("perm-secret-value");
    set.add_recent("recent-token-value");
    let out = scrub("a perm-secret-value b recent%2Dtoken%2Dvalue");
    assert_eq!(out, "a *** b ***");
    drop(set);
    assert_eq!(scrub("perm-secret-value"), "perm-secret-value");
}
