//! Redaction of secrets from everything wx-media reports.
//!
//! Every client registers what it knows that must never be shown: the
//! appsecret, the tokens it used (the current one and a few before it), the
//! COS credentials of its upload tickets and the user/password of its proxy.
//! [`scrub`] masks all of them, from every live client, in every encoding a
//! server could echo them in (raw, percent-encoded, form-encoded, double
//! encoded, JSON-escaped, HTML/XML-escaped, base64 at any alignment), ASCII
//! case-insensitively, including a secret cut short at the end of a quoted
//! snippet. Values of well-known parameter names (`access_token=…`,
//! `"access_token":"…"`) and the user-info of URLs (`http://user:pass@…`) are
//! masked even when the secret itself is unknown.

use std::collections::VecDeque;
use std::sync::{Arc, RwLock, Weak};

use base64::Engine;

/// What a masked value is replaced with.
pub const MASK: &str = "***";
/// Shorter strings are not masked on their own (they would mangle ordinary
/// words); the parameter-name and URL rules still apply to them.
pub const MIN_SECRET_LEN: usize = 6;
/// A secret cut short at the end of a text is masked from this many characters on.
const MIN_TAIL_LEN: usize = 6;
/// Tokens and COS credentials remembered per client (older ones rotate out).
const RECENT_CAPACITY: usize = 32;

/// The encoded forms of one secret, lower-cased (matching ignores ASCII case).
struct Forms(Vec<String>);

/// The secrets one client knows.
#[derive(Default)]
pub struct Secrets {
    permanent: RwLock<Vec<Arc<Forms>>>,
    recent: RwLock<VecDeque<(String, Arc<Forms>)>>,
}

static REGISTRY: RwLock<Vec<Weak<Secrets>>> = RwLock::new(Vec::new());

impl Secrets {
    /// A new set, registered so that [`scrub`] masks its secrets.
    pub fn new() -> Arc<Self> {
        let set = Arc::new(Secrets::default());
        let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        registry.retain(|w| w.strong_count() > 0);
        registry.push(Arc::downgrade(&set));
        set
    }

    /// A secret for the client's lifetime (appsecret, static token, proxy credentials).
    pub fn add_permanent(&self, secret: &str) {
        if let Some(forms) = forms_of(secret) {
            self.permanent
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .push(Arc::new(forms));
        }
    }

    /// A secret that rotates (tokens, COS ticket credentials): the last
    /// [`RECENT_CAPACITY`] are kept.
    pub fn add_recent(&self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        {
            let recent = self.recent.read().unwrap_or_else(|e| e.into_inner());
            if recent.iter().any(|(s, _)| s == secret) {
                return;
            }
        }
        let Some(forms) = forms_of(secret) else {
            return;
        };
        let mut recent = self.recent.write().unwrap_or_else(|e| e.into_inner());
        if recent.len() >= RECENT_CAPACITY {
            recent.pop_front();
        }
        recent.push_back((secret.to_string(), Arc::new(forms)));
    }

    fn all_forms(&self, out: &mut Vec<Arc<Forms>>) {
        out.extend(
            self.permanent
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned(),
        );
        out.extend(
            self.recent
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(_, f)| f.clone()),
        );
    }
}

/// Masks every known secret, secret-looking parameter value and URL user-info in `text`.
pub fn scrub(text: &str) -> String {
    let mut forms = Vec::new();
    for set in REGISTRY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter_map(Weak::upgrade)
    {
        set.all_forms(&mut forms);
    }
    let known: Vec<&str> = forms
        .iter()
        .flat_map(|f| f.0.iter().map(String::as_str))
        .collect();
    scrub_with(text, &known)
}

/// [`scrub`] with an explicit list of lower-cased secret forms (pure; for tests and fuzzing).
pub fn scrub_with(text: &str, known: &[&str]) -> String {
    let text = mask_known(text, known);
    let text = mask_named_values(&text);
    mask_url_userinfo(&text)
}

/// Every form a secret could be echoed in, lower-cased and deduplicated.
fn forms_of(secret: &str) -> Option<Forms> {
    if secret.len() < MIN_SECRET_LEN {
        return None;
    }
    let mut forms = vec![secret.to_string()];
    let form = form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>();
    forms.push(form.replace('%', "%25"));
    forms.push(form);
    forms.push(percent_encoding::utf8_percent_encode(secret, URI_COMPONENT).to_string());
    forms.push(secret.bytes().map(|b| format!("%{b:02X}")).collect());
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    forms.push(json.replace('/', "\\/"));
    forms.push(json.replace('\\', "\\\\").replace('"', "\\\""));
    forms.push(json);
    forms.push(
        secret
            .encode_utf16()
            .map(|u| format!("\\u{u:04x}"))
            .collect(),
    );
    forms.push(html_escape(secret));
    for engine in [
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        for shift in 0..3 {
            forms.push(base64_core(&engine, secret.as_bytes(), shift));
        }
    }
    let mut forms: Vec<String> = forms
        .into_iter()
        .filter(|f| f.len() >= MIN_SECRET_LEN)
        .map(|f| f.to_ascii_lowercase())
        .collect();
    forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    forms.dedup();
    Some(Forms(forms))
}

/// Characters `encodeURIComponent` keeps.
const URI_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The base64 characters that depend only on `bytes` when they sit `shift`
/// bytes (0–2) after a 3-byte boundary of a longer encoded text.
fn base64_core(engine: &impl Engine, bytes: &[u8], shift: usize) -> String {
    let mut padded = vec![0u8; shift];
    padded.extend_from_slice(bytes);
    let encoded = engine.encode(&padded);
    let first = (8 * shift).div_ceil(6);
    let last = 8 * (shift + bytes.len()) / 6;
    encoded.get(first..last).unwrap_or("").to_string()
}

/// Byte ranges of `text` to mask, merged.
fn merge(mut ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

fn apply(text: &str, ranges: Vec<(usize, usize)>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in merge(ranges) {
        // Ranges come from ASCII-case-folded matches of whole UTF-8 strings,
        // so they fall on char boundaries; `get` keeps that from panicking anyway.
        if let Some(keep) = text.get(at..start) {
            out.push_str(keep);
            out.push_str(MASK);
            at = end;
        }
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn mask_known(text: &str, known: &[&str]) -> String {
    if known.is_empty() {
        return text.to_string();
    }
    // The text as written, then with `%XX` decoded once and twice, so a
    // secret percent-encoded in any mix of characters and hex case is found.
    let mut views = vec![(
        text.to_ascii_lowercase(),
        (0..text.len()).map(|i| (i, i + 1)).collect::<Vec<_>>(),
    )];
    for _ in 0..2 {
        let Some(last) = views.last() else { break };
        let Some(next) = percent_decoded(&last.0, &last.1) else {
            break;
        };
        views.push(next);
    }
    let mut ranges = Vec::new();
    for (lower, spans) in &views {
        let to_text = |from: usize, to: usize| {
            (
                floor_boundary(text, spans[from].0),
                ceil_boundary(text, spans[to - 1].1),
            )
        };
        for form in known {
            let mut from = 0;
            while let Some(pos) = lower.get(from..).and_then(|rest| rest.find(form)) {
                ranges.push(to_text(from + pos, from + pos + form.len()));
                from += pos + form.len().max(1);
            }
            // A secret cut short by a length limit at the very end of the text.
            let window = lower.len().saturating_sub(form.len() - 1);
            let tail_start = (window..lower.len().saturating_sub(MIN_TAIL_LEN - 1))
                .find(|&p| form.as_bytes().starts_with(&lower.as_bytes()[p..]));
            if let Some(p) = tail_start {
                ranges.push(to_text(p, lower.len()));
            }
        }
    }
    apply(text, ranges)
}

/// `text` with every `%XX` of a printable ASCII byte decoded (so the result
/// stays UTF-8), and for each of its bytes the span of the original it came
/// from; `None` when there is nothing to decode.
fn percent_decoded(text: &str, spans: &[(usize, usize)]) -> Option<(String, Vec<(usize, usize)>)> {
    if !text.contains('%') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut out_spans = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .filter(|b| (0x20..0x7f).contains(b));
        match decoded {
            Some(b) => {
                out.push(b.to_ascii_lowercase());
                out_spans.push((spans[i].0, spans[i + 2].1));
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                out_spans.push(spans[i]);
                i += 1;
            }
        }
    }
    // Only ASCII bytes were substituted for ASCII sequences: still UTF-8.
    String::from_utf8(out).ok().map(|s| (s, out_spans))
}

fn ceil_boundary(text: &str, mut at: usize) -> usize {
    while at < text.len() && !text.is_char_boundary(at) {
        at += 1;
    }
    at.min(text.len())
}

/// Parameter names whose values are secret whatever their value, and
/// whether they also appear as headers (`Name: value`).
const SECRET_NAMES: [(&str, bool); 7] = [
    ("access_token", false),
    ("cloudbase_access_token", false),
    ("secret", false),
    ("x-cos-security-token", true),
    ("authorization", true),
    ("signature", false),
    ("token", false),
];
/// How a name is followed by its value: query, percent-encoded query, JSON
/// (plain, spaced, and escaped inside another JSON string).
const SEPARATORS: [&str; 5] = ["=", "%3d", "\":\"", "\":", "\\\":\\\""];
/// Where a masked value ends.
const VALUE_END: [char; 14] = [
    '&', ' ', ')', '"', '\'', '\n', '\r', '#', ',', ';', '<', '\\', '}', ']',
];

fn mask_named_values(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut ranges = Vec::new();
    for (name, header) in SECRET_NAMES {
        let mut search = 0;
        while let Some(pos) = lower.get(search..).and_then(|rest| rest.find(name)) {
            let name_start = search + pos;
            let after = name_start + name.len();
            search = after;
            // `mytoken=` is another name; `x_token=`, `"token"` are not.
            if name_start > 0 && bytes[name_start - 1].is_ascii_alphanumeric() {
                continue;
            }
            let rest = lower.get(after..).unwrap_or("");
            let mut start = if let Some(sep) = SEPARATORS.iter().find(|s| rest.starts_with(**s)) {
                after + sep.len()
            } else if header && rest.starts_with(": ") {
                after + 2
            } else {
                continue;
            };
            // `"name": "value"`: skip the space and the opening quote; a
            // number or object after `":` is nothing string-like to mask.
            if lower[after..start].ends_with("\":") {
                let tail = &lower[start..];
                start += tail.len() - tail.trim_start().len();
                if !lower[start..].starts_with('"') {
                    continue;
                }
                start += 1;
            }
            let value_len = lower[start..]
                .find(VALUE_END)
                .unwrap_or(lower.len() - start);
            if value_len > 0 {
                ranges.push((start, start + value_len));
            }
        }
    }
    apply(text, ranges)
}

/// `scheme://user:pass@host` → `scheme://***@host`.
pub fn mask_url_userinfo(text: &str) -> String {
    let mut ranges = Vec::new();
    let mut from = 0;
    while let Some(pos) = text.get(from..).and_then(|r| r.find("://")) {
        let start = from + pos + 3;
        from = start;
        let rest = text.get(start..).unwrap_or("");
        let authority_len = rest
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>') || c.is_whitespace()
            })
            .unwrap_or(rest.len());
        if let Some(at) = rest[..authority_len].rfind('@') {
            ranges.push((start, start + at));
        }
    }
    apply(text, ranges)
}

#[cfg(test)]
mod tests;
