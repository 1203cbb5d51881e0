//! Request/response plumbing shared by the handlers: the buffered request,
//! reply builders (WeChat JSON, COS XML), random ids and percent-encoding.

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, StatusCode};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

/// `Content-Type` of every WeChat JSON answer (exactly what WeChat sends).
pub(crate) const WX_JSON: &str = "application/json; encoding=utf-8";

/// A request whose body has been read completely.
pub(crate) struct Incoming {
    pub(crate) method: Method,
    /// The raw (still percent-encoded) path, without the query.
    pub(crate) path: String,
    /// Query pairs in order, decoded.
    pub(crate) query: Vec<(String, String)>,
    /// The query exactly as sent (the gateway signs it raw).
    pub(crate) raw_query: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Incoming {
    pub(crate) fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn header(&self, name: impl hyper::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn content_type(&self) -> Option<&str> {
        self.header(CONTENT_TYPE)
    }

    pub(crate) fn content_length(&self) -> Option<u64> {
        self.header(CONTENT_LENGTH)
            .and_then(|v| v.trim().parse().ok())
    }

    /// A body sent with `Transfer-Encoding` and no `Content-Length`: the
    /// streamed uploads WeChat answers 412 and COS answers 411.
    pub(crate) fn is_length_unknown(&self) -> bool {
        self.headers.contains_key(hyper::header::TRANSFER_ENCODING)
            && !self.headers.contains_key(CONTENT_LENGTH)
    }

    /// The origin the client used to reach us, so that links we hand out
    /// (COS upload URL, download links, video URL) lead back here.
    pub(crate) fn origin(&self, fallback: &str) -> String {
        match self.header(hyper::header::HOST) {
            Some(host) if !host.is_empty() => format!("http://{host}"),
            _ => fallback.to_owned(),
        }
    }

    /// The path segments after `prefix`, percent-decoded and re-joined with `/`.
    pub(crate) fn decoded_path_after(&self, prefix: &str) -> Option<String> {
        let rest = self.path.strip_prefix(prefix)?;
        percent_decode_str(rest)
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    }
}

pub(crate) fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A complete answer, plus the errcode it carries (for the request log).
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Bytes,
    pub(crate) errcode: Option<i64>,
}

/// What the server does with a request: answer it, or drop the connection.
pub(crate) enum Outcome {
    Reply(Reply),
    Reset,
}

impl Reply {
    pub(crate) fn new(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Self {
        let mut reply = Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
            errcode: None,
        };
        reply.set_header(CONTENT_TYPE, content_type);
        reply
    }

    pub(crate) fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            errcode: None,
        }
    }

    /// HTTP 200 WeChat-style JSON; `errcode` is lifted for the request log.
    pub(crate) fn json(value: &Value) -> Self {
        Self::json_with_status(StatusCode::OK, value)
    }

    pub(crate) fn json_with_status(status: StatusCode, value: &Value) -> Self {
        let mut reply = Reply::new(status, WX_JSON, value.to_string());
        reply.errcode = value.get("errcode").and_then(Value::as_i64);
        reply
    }

    /// Sets a header; values that are not valid header text are skipped
    /// (they only come from our own formatting or from test-supplied faults).
    pub(crate) fn set_header(&mut self, name: HeaderName, value: &str) {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.retain(|(n, _)| n != name);
            self.headers.push((name, value));
        }
    }

    pub(crate) fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        self.set_header(name, value);
        self
    }
}

/// A WeChat business error: HTTP 200, `{errcode, errmsg: "<text> rid: <hex>"}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WxError {
    pub(crate) code: i64,
    pub(crate) msg: String,
}

impl WxError {
    pub(crate) fn new(code: i64, msg: impl Into<String>) -> Self {
        WxError {
            code,
            msg: msg.into(),
        }
    }

    pub(crate) fn body(&self) -> Value {
        json!({ "errcode": self.code, "errmsg": format!("{} rid: {}", self.msg, rid()) })
    }

    pub(crate) fn reply(&self) -> Reply {
        Reply::json(&self.body())
    }

    /// The same error labelled `text/plain`, as `/cgi-bin/media/get` does.
    pub(crate) fn reply_as_text(&self) -> Reply {
        let mut reply = self.reply();
        reply.set_header(CONTENT_TYPE, "text/plain");
        reply
    }
}

impl From<WxError> for Reply {
    fn from(err: WxError) -> Self {
        err.reply()
    }
}

/// A COS error answer: XML `<Error>` with the request id also in a header.
pub(crate) fn cos_error(status: StatusCode, code: &str, message: &str, resource: &str) -> Reply {
    let request_id = cos_request_id();
    let body = format!(
        "<?xml version='1.0' encoding='utf-8' ?>\n<Error>\n<Code>{}</Code>\n<Message>{}</Message>\n<Resource>{}</Resource>\n<RequestId>{}</RequestId>\n<TraceId>{}</TraceId>\n</Error>",
        xml_escape(code),
        xml_escape(message),
        xml_escape(resource),
        request_id,
        random_string(64, HEX_LOWER)
    );
    Reply::new(status, "application/xml", body)
        .with_header(HeaderName::from_static("x-cos-request-id"), &request_id)
}

pub(crate) fn cos_request_id() -> String {
    random_string(40, BASE64ISH)
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// WeChat's request id suffix, e.g. `6543a2b1-1f2e3d4c-5a6b7c8d`.
pub(crate) fn rid() -> String {
    format!(
        "{}-{}-{}",
        random_string(8, HEX_LOWER),
        random_string(8, HEX_LOWER),
        random_string(8, HEX_LOWER)
    )
}

pub(crate) const HEX_LOWER: &[u8] = b"0123456789abcdef";
/// The token alphabet of real access tokens and media ids.
pub(crate) const URL_SAFE: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const BASE64ISH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

pub(crate) fn random_string(len: usize, alphabet: &[u8]) -> String {
    (0..len)
        .map(|_| char::from(alphabet[fastrand::usize(..alphabet.len())]))
        .collect()
}

/// Everything but RFC 3986 unreserved characters is escaped.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes each `/`-separated segment of a cloud path, keeping the `/`.
pub(crate) fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|segment| utf8_percent_encode(segment, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_path_keeps_slashes_and_escapes_the_rest() {
        assert_eq!(encode_path("a b/中/x.png"), "a%20b/%E4%B8%AD/x.png");
        assert_eq!(encode_path("a/b%2F"), "a/b%252F");
    }

    #[test]
    fn wx_error_has_rid_suffix() {
        let body = WxError::new(40001, "invalid credential").body();
        let msg = body["errmsg"].as_str().unwrap_or_default();
        assert!(msg.starts_with("invalid credential rid: "), "{msg}");
        assert_eq!(body["errcode"], 40001);
    }

    #[test]
    fn cos_error_is_xml_with_request_id_header() {
        let reply = cos_error(StatusCode::FORBIDDEN, "AccessDenied", "a<b", "/r");
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        assert!(text.starts_with("<?xml version='1.0' encoding='utf-8' ?>\n<Error>\n<Code>AccessDenied</Code>\n<Message>a&lt;b</Message>"));
        assert!(reply.headers.iter().any(|(n, _)| n == "x-cos-request-id"));
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
}
