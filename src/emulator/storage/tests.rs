//! Unit tests of the COS form checks, cloud paths and ticket signatures.

use std::collections::HashMap;

use bytes::Bytes;

use super::cos_form::{check_form, read_cos_form, CosForm};
use super::tickets::cos_authorization;
use super::*;

fn form(fields: &[(&str, &str)]) -> CosForm {
    CosForm {
        fields: fields
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        file_content_type: None,
        file: Bytes::from_static(b"x"),
    }
}

fn tickets() -> HashMap<String, Ticket> {
    let ticket = Ticket {
        bucket: "b".into(),
        path: "dir/a.txt".into(),
        token: "tok".into(),
        cos_file_id: "cfid".into(),
        issued_at_ms: 1000,
    };
    HashMap::from([("sig".to_owned(), ticket)])
}

fn check(fields: &[(&str, &str)], bucket: &str, now: u64) -> Result<(), &'static str> {
    let tickets = tickets();
    check_form(&tickets, bucket, &form(fields), now)
        .map(|_| ())
        .map_err(|(code, _)| code)
}

const GOOD: [(&str, &str); 4] = [
    ("key", "dir/a.txt"),
    ("Signature", "sig"),
    ("x-cos-security-token", "tok"),
    ("x-cos-meta-fileid", "cfid"),
];

#[test]
fn ticket_checks() {
    assert_eq!(check(&GOOD, "b", 2000), Ok(()));
    assert_eq!(check(&GOOD, "other", 2000), Err("SignatureDoesNotMatch"));
    assert_eq!(check(&GOOD, "b", 1000 + TICKET_TTL_MS), Err("AccessDenied"));
    let mut bad_sig = GOOD;
    bad_sig[1].1 = "nope";
    assert_eq!(check(&bad_sig, "b", 2000), Err("SignatureDoesNotMatch"));
    for (missing, _) in GOOD {
        let fields: Vec<_> = GOOD.into_iter().filter(|(n, _)| *n != missing).collect();
        assert!(check(&fields, "b", 2000).is_err(), "without {missing}");
    }
    let mut wrong_key = GOOD;
    wrong_key[0].1 = "dir/b.txt";
    assert_eq!(check(&wrong_key, "b", 2000), Err("AccessDenied"));
}

fn body(parts: &[&str]) -> Bytes {
    let mut body = String::new();
    for name in parts {
        body.push_str(&format!(
            "--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\nv\r\n"
        ));
    }
    body.push_str("--B--\r\n");
    Bytes::from(body)
}

#[tokio::test]
async fn file_must_be_present_and_last() {
    let ct = Some("multipart/form-data; boundary=B");
    assert!(read_cos_form(ct, body(&["key", "Signature", "file"]))
        .await
        .is_ok());
    assert!(read_cos_form(ct, body(&["key", "file", "Signature"]))
        .await
        .is_err());
    assert!(read_cos_form(ct, body(&["key", "Signature"]))
        .await
        .is_err());
    assert!(read_cos_form(Some("text/plain"), body(&["file"]))
        .await
        .is_err());
    assert!(read_cos_form(ct, Bytes::from("--B\r\nbroken"))
        .await
        .is_err());
}

#[test]
fn cloud_path_rules() {
    assert!(is_valid_cloud_path("a/b.png"));
    assert!(!is_valid_cloud_path(""));
    assert!(!is_valid_cloud_path("/a.png"));
    assert!(!is_valid_cloud_path("a\nb"));
    assert!(!is_valid_cloud_path(&"x".repeat(851)));
    assert!(!is_valid_cloud_path("x/../victim.bin"));
    assert!(!is_valid_cloud_path("./a.png"));
    assert!(!is_valid_cloud_path("a\u{202E}b"));
}

#[test]
fn authorization_looks_like_cos() {
    let auth = cos_authorization(1_700_000_000);
    assert!(auth.starts_with("q-sign-algorithm=sha1&q-ak=AKIDemu"));
    assert!(auth.contains("&q-sign-time=1700000000;1700003600&q-key-time=1700000000;1700003600&q-header-list=&q-url-param-list=&q-signature="));
}
