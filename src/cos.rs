//! Tencent COS replies: its `<Error>` XML documents.

use serde::Deserialize;

use crate::client::Reply;
use crate::error::{ErrorKind, WxError, STORAGE_REQUEST_FAIL};

/// A COS `<Error>` document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CosErrorDoc {
    #[serde(rename = "Code")]
    pub code: Option<String>,
    #[serde(rename = "Message")]
    pub message: Option<String>,
    #[serde(rename = "RequestId")]
    pub request_id: Option<String>,
}

/// The `<Error>` document in `body`, if the body is one: the root element
/// must be `Error` (a `<PostResponse>` with a `<Code>` is not an error).
/// Pure, for any bytes (a fuzz target).
pub fn parse_cos_error(body: &[u8]) -> Option<CosErrorDoc> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) | Event::Empty(e) => {
                if e.local_name().as_ref() != b"Error" {
                    return None;
                }
                break;
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
            _ => return None,
        }
        buf.clear();
    }
    let text = std::str::from_utf8(body).ok()?;
    let doc: CosErrorDoc = quick_xml::de::from_str(text).ok()?;
    // An <Error> without a Code is still an error document.
    Some(doc)
}

/// A COS failure: `COS_ERROR` with `[Code]: Message` and the RequestId when the
/// body is COS's `<Error>` XML, else `HTTP_STATUS`.
pub fn cos_error(reply: &Reply, step: &str) -> WxError {
    match parse_cos_error(&reply.body) {
        Some(doc) => {
            let code = doc.code.unwrap_or_else(|| "UnknownError".to_string());
            let mut err = WxError::new(
                ErrorKind::Cos,
                STORAGE_REQUEST_FAIL,
                format!(
                    "[{code}]: {} (HTTP {}{})",
                    doc.message.unwrap_or_default(),
                    reply.status,
                    doc.request_id
                        .as_deref()
                        .map(|id| format!(", RequestId {id}"))
                        .unwrap_or_default()
                ),
            )
            .with_status(reply.status);
            err.request_id = doc.request_id;
            err
        }
        None => WxError::http_status(
            reply.status,
            format!("{step} answered HTTP {}", reply.status),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn reply(status: u16, body: &'static [u8]) -> Reply {
        Reply {
            status,
            headers: Default::default(),
            body: Bytes::from_static(body),
        }
    }

    #[test]
    fn cos_xml_errors_are_parsed() {
        let e = cos_error(
            &reply(403, b"<?xml version='1.0' encoding='utf-8' ?>\n<Error>\n<Code>AccessDenied</Code>\n<Message>Request has expired</Message>\n<Resource>/b/k</Resource>\n<RequestId>RID1</RequestId>\n<TraceId>T</TraceId>\n</Error>"),
            "x",
        );
        assert_eq!(e.kind, ErrorKind::Cos);
        assert!(
            e.detail.starts_with("[AccessDenied]: Request has expired"),
            "{}",
            e.detail
        );
        assert_eq!(e.request_id.as_deref(), Some("RID1"));
        assert_eq!(
            cos_error(&reply(502, b"bad gateway"), "x").kind,
            ErrorKind::HttpStatus
        );
    }

    #[test]
    fn only_an_error_root_is_an_error() {
        assert!(parse_cos_error(b"<Error><Code>InternalError</Code></Error>").is_some());
        assert!(parse_cos_error(b"  <Error/>").is_some());
        assert!(parse_cos_error(b"<PostResponse><Code>x</Code></PostResponse>").is_none());
        assert!(parse_cos_error(b"").is_none());
        assert!(parse_cos_error(b"plain <Error>").is_none());
        assert!(parse_cos_error(b"\xff\xfe<Error>").is_none());
    }
}
