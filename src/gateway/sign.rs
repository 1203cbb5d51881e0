//! TC3-HMAC-SHA256, the TCB gateway flavour (research cloud-function.md §3).
//!
//! It is not the CloudAPI v3 canonical form: the method is the lower-case
//! `post`, the URI is `//host/path`, the query is raw, header values are
//! lower-cased (content-type loses its boundary), and the payload hash covers
//! the parsed top-level body params, not the body bytes. The same code signs
//! (client) and verifies (emulator).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// `X-Signature-Expires` as node-sdk sends it.
pub const SIGNATURE_EXPIRES: u64 = 600;

/// One top-level body parameter, as the signer sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue<'a> {
    /// A string, or the JSON text of a nested value: trimmed as JS `trim()`
    /// does, and left out of the hash when that leaves it empty.
    Text(&'a str),
    /// A binary multipart part: raw, never trimmed, included even when empty.
    Bytes(&'a [u8]),
}

/// What is signed.
#[derive(Debug, Clone)]
pub struct SignInput<'a> {
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    /// `url.host`, with the port when the URL has one.
    pub host: &'a str,
    pub path: &'a str,
    /// The raw query, without `?`.
    pub query: &'a str,
    /// Every signed header (name as sent, value as sent); `host` included.
    pub headers: &'a [(&'a str, &'a str)],
    /// Top-level body params in any order.
    pub params: &'a [(&'a str, ParamValue<'a>)],
    /// Unix seconds, sent as `X-Timestamp`.
    pub timestamp: u64,
}

/// The signature and everything derived on the way (for tests and verification).
#[derive(Debug, Clone, PartialEq)]
pub struct Signed {
    pub canonical_request: String,
    pub payload_hash_input: Vec<u8>,
    pub signed_params: String,
    pub signed_headers: String,
    pub credential_date: String,
    pub signature: String,
    pub authorization: String,
}

pub fn sign(input: &SignInput) -> Signed {
    let (payload_hash_input, signed_params) = payload(input.params);
    let (canonical_headers, signed_headers) = canonical_headers(input.headers);
    let payload_hash = hex::encode(Sha256::digest(&payload_hash_input));
    let canonical_request = format!(
        "post\n//{}{}\n{}\n{}\n{}\n{}",
        input.host, input.path, input.query, canonical_headers, signed_headers, payload_hash
    );
    let date = utc_date(input.timestamp);
    let scope = format!("{date}/tcb/tc3_request");
    let string_to_sign = format!(
        "TC3-HMAC-SHA256\n{}\n{scope}\n{}",
        input.timestamp,
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(
        format!("TC3{}", input.secret_key).as_bytes(),
        date.as_bytes(),
    );
    let k_service = hmac(&k_date, b"tcb");
    let k_signing = hmac(&k_service, b"tc3_request");
    let signature = hex::encode(hmac(&k_signing, string_to_sign.as_bytes()));
    let authorization = format!(
        "TC3-HMAC-SHA256 Credential={}/{scope}, SignedParams={signed_params}, SignedHeaders={signed_headers}, Signature={signature}",
        input.secret_id
    );
    Signed {
        canonical_request,
        payload_hash_input,
        signed_params,
        signed_headers,
        credential_date: date,
        signature,
        authorization,
    }
}

fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length: `new_from_slice` cannot fail here.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// The hashed bytes `Σ "&"+key+"="+value+"\r\n"` and the `SignedParams` list.
fn payload(params: &[(&str, ParamValue)]) -> (Vec<u8>, String) {
    let mut entries: Vec<(String, &[u8])> = params
        .iter()
        .filter_map(|(key, value)| {
            let bytes: &[u8] = match value {
                ParamValue::Text(text) => js_trim(text).as_bytes(),
                ParamValue::Bytes(bytes) => bytes,
            };
            let empty_text = matches!(value, ParamValue::Text(_)) && bytes.is_empty();
            (!empty_text).then(|| (cam_safe_encode(&key.trim().to_lowercase()), bytes))
        })
        .collect();
    entries.sort_by(|a, b| icu_cmp(&a.0, &b.0));
    let mut hashed = Vec::new();
    let mut keys = Vec::with_capacity(entries.len());
    for (key, value) in &entries {
        hashed.extend_from_slice(b"&");
        hashed.extend_from_slice(key.as_bytes());
        hashed.extend_from_slice(b"=");
        hashed.extend_from_slice(value);
        hashed.extend_from_slice(b"\r\n");
        keys.push(key.as_str());
    }
    (hashed, keys.join(";"))
}

/// `CanonicalHeaders` (ends with `\n`) and `SignedHeaders`.
fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut entries: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| {
            let key = cam_safe_encode(&name.trim().to_lowercase());
            let value = if key == "content-type" {
                if value.starts_with("multipart/form-data") {
                    "multipart/form-data".to_string()
                } else {
                    value.to_string()
                }
            } else {
                js_trim(value).to_lowercase()
            };
            (key, value)
        })
        .collect();
    entries.sort_by(|a, b| icu_cmp(&a.0, &b.0));
    let canonical: String = entries.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed = entries
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (canonical, signed)
}

/// JS `String.prototype.trim`: WhiteSpace and LineTerminators.
pub fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| {
        matches!(
            c,
            '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
                ..='\u{200a}'
                    | '\u{2028}'
                    | '\u{2029}'
                    | '\u{202f}'
                    | '\u{205f}'
                    | '\u{3000}'
                    | '\u{feff}'
        )
    })
}

/// `encodeURIComponent` plus `! ' ( ) *`: everything but `A-Za-z0-9-_.~`.
fn cam_safe_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `localeCompare` order (ICU root collation) for the printable ASCII that
/// keys are made of, as measured on Node 20 (research §3.4); other
/// characters sort after, by code point.
const ICU_ORDER: &str = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz";

fn icu_rank(c: char) -> u32 {
    ICU_ORDER.find(c).map_or(1000 + c as u32, |i| i as u32)
}

fn icu_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.chars().map(icu_rank).cmp(b.chars().map(icu_rank))
}

/// `yyyy-mm-dd` (UTC) of a Unix time.
pub fn utc_date(unix_secs: u64) -> String {
    // Howard Hinnant's civil_from_days.
    let days = (unix_secs / 86_400) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The parts of an `Authorization: TC3-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedAuthorization {
    pub secret_id: String,
    pub date: String,
    pub signed_params: Option<String>,
    pub signed_headers: String,
    pub signature: String,
}

/// Parses exactly `TC3-HMAC-SHA256 Credential=<id>/<date>/tcb/tc3_request,
/// [SignedParams=<…>, ]SignedHeaders=<…>, Signature=<64 hex>`.
pub fn parse_authorization(header: &str) -> Option<ParsedAuthorization> {
    let rest = header.strip_prefix("TC3-HMAC-SHA256 Credential=")?;
    let (credential, rest) = rest.split_once(", ")?;
    let (secret_id, scope) = credential.split_once('/')?;
    let date = scope.strip_suffix("/tcb/tc3_request")?;
    let (signed_params, rest) = match rest.strip_prefix("SignedParams=") {
        Some(r) => {
            let (p, r) = r.split_once(", ")?;
            (Some(p.to_string()), r)
        }
        None => (None, rest),
    };
    let (headers, rest) = rest.strip_prefix("SignedHeaders=")?.split_once(", ")?;
    let signature = rest.strip_prefix("Signature=")?;
    let hex_ok = signature.len() == 64
        && signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if secret_id.is_empty() || date.len() != 10 || !hex_ok {
        return None;
    }
    Some(ParsedAuthorization {
        secret_id: secret_id.to_string(),
        date: date.to_string(),
        signed_params,
        signed_headers: headers.to_string(),
        signature: signature.to_string(),
    })
}

/// Constant-time comparison of two signatures.
pub fn same_signature(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
#[path = "sign_tests.rs"]
mod tests;
