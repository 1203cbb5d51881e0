//! WeChat JSON replies: recognising JSON, reading `errcode` in any form, and
//! the errors a reply turns into. Pure functions over bytes (fuzz targets).

use reqwest::header::{HeaderMap, CONTENT_DISPOSITION};
use serde_json::Value;

use crate::client::{Reply, Request};
use crate::error::WxError;

/// Parses a reply as JSON when it looks like JSON and is not an attachment
/// (WeChat sometimes labels JSON as text/plain, so the label is not trusted).
pub fn parse_json_reply(reply: &Reply) -> Option<Value> {
    parse_json(&reply.headers, &reply.body)
}

/// [`parse_json_reply`] over raw headers and bytes. Pure, for any input (a fuzz target).
pub fn parse_json(headers: &HeaderMap, body: &[u8]) -> Option<Value> {
    let attachment = headers
        .get(CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("attachment"));
    if attachment {
        return None;
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    serde_json::from_slice(body).ok()
}

/// The non-zero `errcode` of a reply, in whatever form a server writes it
/// (`40007`, `40007.0`, `"40007"`); an errcode that is no number at all is
/// reported as -1 rather than taken for success.
pub fn errcode_of(json: Option<&Value>) -> Option<i64> {
    let code = json?.get("errcode")?;
    let parsed = match code {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        Value::Null => Some(0),
        _ => None,
    };
    match parsed {
        Some(0) => None,
        Some(code) => Some(code),
        None => Some(crate::error::LOCAL_ERR_CODE),
    }
}

pub fn wechat_error(code: i64, json: Option<&Value>, reply: &Reply) -> WxError {
    let msg = json
        .and_then(|j| j.get("errmsg"))
        .and_then(Value::as_str)
        .unwrap_or("");
    WxError::wechat(code, msg).with_status(reply.status)
}

pub fn unexpected_status(request: &Request, reply: &Reply) -> WxError {
    // Secrets are masked before the body is cut to a snippet (a secret cut
    // at the edge of the scrubbed part is masked as a cut-short tail).
    let head = &reply.body[..reply.body.len().min(2048)];
    let body = crate::secrets::scrub(&String::from_utf8_lossy(head));
    let snippet: String = body.chars().filter(|c| !c.is_control()).take(200).collect();
    WxError::http_status(
        reply.status,
        format!(
            "{} answered HTTP {}{}",
            request.path(),
            reply.status,
            if snippet.is_empty() {
                String::new()
            } else {
                format!(": {snippet}")
            }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn reply(headers: &[(&'static str, &'static str)], body: &'static [u8]) -> Reply {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, reqwest::header::HeaderValue::from_static(v));
        }
        Reply {
            status: 200,
            headers: map,
            body: Bytes::from_static(body),
        }
    }

    #[test]
    fn json_is_recognised_whatever_the_label() {
        let r = reply(&[("content-type", "text/plain")], b" {\"errcode\":40007}");
        assert_eq!(errcode_of(parse_json_reply(&r).as_ref()), Some(40007));
        let r = reply(
            &[("content-disposition", "attachment; filename=\"a.json\"")],
            b"{\"a\":1}",
        );
        assert!(parse_json_reply(&r).is_none());
        let r = reply(&[("content-type", "image/png")], b"\x89PNG");
        assert!(parse_json_reply(&r).is_none());
    }

    #[test]
    fn errcodes_in_any_numeric_form() {
        let code = |text: &str| errcode_of(serde_json::from_str::<Value>(text).ok().as_ref());
        assert_eq!(code(r#"{"errcode":40007}"#), Some(40007));
        assert_eq!(code(r#"{"errcode":40007.0}"#), Some(40007));
        assert_eq!(code(r#"{"errcode":"40007"}"#), Some(40007));
        assert_eq!(code(r#"{"errcode":"oops"}"#), Some(-1));
        assert_eq!(code(r#"{"errcode":0.5}"#), Some(-1));
        assert_eq!(code(r#"{"errcode":0}"#), None);
        assert_eq!(code(r#"{"errcode":"0"}"#), None);
        assert_eq!(code(r#"{"media_id":"m"}"#), None);
    }
}
