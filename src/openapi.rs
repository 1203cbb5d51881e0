//! wx-server-sdk's generic `openapi.<namespace>.<api>(params)` over the
//! WeChat HTTP API: the table of names this transport knows, and the calls
//! that media.rs does not already make (`send`, `imgSecCheck`).
//!
//! Params arrive in WeChat's snake_case (the JS layer converts them as
//! wx-server-sdk does); replies are WeChat's JSON, camelCased by the JS layer.

use bytes::Bytes;
use reqwest::Method;
use serde_json::Value;

use crate::client::{Client, Request, RequestBody, Target, TimeoutClass, MAX_JSON_REPLY_BYTES};
use crate::error::WxError;
use crate::media::{MediaUpload, ReadyMedia};

/// How a name is carried over WeChat HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `uploadTempMedia`: has its own binding (media.rs).
    UploadTempMedia,
    /// `getTempMedia`: has its own binding (media.rs).
    GetTempMedia,
    /// `POST <path>` with the params as a JSON body.
    Json(&'static str),
    /// `POST <path>` with one multipart part `media` (an image), checked
    /// with the rules of `uploadTempMedia`.
    ImageUpload(&'static str),
}

/// One supported name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// `customerServiceMessage.send`
    pub name: &'static str,
    /// `openapi.customerServiceMessage.send`, as used in `errMsg`.
    pub api: &'static str,
    pub route: Route,
    /// False when sending it twice can act twice (a message delivered twice):
    /// such a call is never retried once it may have reached WeChat.
    pub idempotent: bool,
}

/// Whether a request to `path` may be sent again after it may have reached
/// WeChat (retries after a 5xx, a network error or errcode -1).
pub fn is_idempotent_path(path: &str) -> bool {
    !TABLE.iter().any(|e| {
        !e.idempotent && matches!(e.route, Route::Json(p) | Route::ImageUpload(p) if p == path)
    })
}

/// Every name the WeChat HTTP transport knows.
pub const TABLE: &[Entry] = &[
    Entry {
        name: "customerServiceMessage.uploadTempMedia",
        api: crate::media::UPLOAD_API,
        route: Route::UploadTempMedia,
        idempotent: true,
    },
    Entry {
        name: "customerServiceMessage.getTempMedia",
        api: crate::media::GET_API,
        route: Route::GetTempMedia,
        idempotent: true,
    },
    Entry {
        name: "customerServiceMessage.send",
        api: "openapi.customerServiceMessage.send",
        route: Route::Json("/cgi-bin/message/custom/send"),
        idempotent: false,
    },
    Entry {
        name: "security.imgSecCheck",
        api: "openapi.security.imgSecCheck",
        route: Route::ImageUpload("/wxa/img_sec_check"),
        idempotent: true,
    },
];

/// The API name used in errors about a name that is not in the table.
pub const GENERIC_API: &str = "openapi";

/// The supported names, for messages.
pub fn supported_names() -> String {
    TABLE.iter().map(|e| e.name).collect::<Vec<_>>().join(", ")
}

/// The table entry of `name` (`namespace.api`, without `openapi.`).
pub fn lookup(name: &str) -> Result<&'static Entry, WxError> {
    let name = name.strip_prefix("openapi.").unwrap_or(name);
    TABLE.iter().find(|e| e.name == name).ok_or_else(|| {
        WxError::invalid_param(format!(
            "openapi.{name} is not supported over the WeChat HTTP API; supported: {} (in a cloud function every name works)",
            supported_names()
        ))
        .with_api(GENERIC_API)
    })
}

/// Checks the params of a JSON call before anything is sent.
pub fn check_json_params(entry: &Entry, params: &Value) -> Result<(), WxError> {
    let Some(obj) = params.as_object() else {
        return Err(WxError::invalid_param(format!(
            "expected the params of {} as an object",
            entry.api
        )));
    };
    if entry.name == "customerServiceMessage.send" {
        for key in ["touser", "msgtype"] {
            match obj.get(key) {
                Some(Value::String(s)) if !s.trim().is_empty() => {}
                Some(_) => {
                    return Err(WxError::invalid_param(format!(
                        "{key} must be a non-empty string"
                    )))
                }
                None => {
                    return Err(WxError::invalid_param(format!(
                        "{key} is missing: pass {{ touser: openid, msgtype: 'image', image: {{ mediaId }} }}"
                    )))
                }
            }
        }
    }
    Ok(())
}

/// `POST <path>` with a JSON body; resolves with WeChat's JSON reply
/// (errcode 0 or absent; any other errcode rejects).
pub async fn call_json(client: &Client, entry: &Entry, params: &Value) -> Result<Value, WxError> {
    let Route::Json(path) = entry.route else {
        return Err(WxError::invalid_param(format!(
            "{} takes no JSON body",
            entry.api
        )));
    };
    check_json_params(entry, params)?;
    let body = serde_json::to_vec(params)
        .map_err(|e| WxError::invalid_param(format!("params cannot be sent as JSON: {e}")))?;
    let mut request = Request::post_json(path, Bytes::from(body));
    if entry.idempotent {
        request = request.idempotent();
    }
    json_of(client.call_api(request).await?, path)
}

/// The multipart request of an image check: one part `media`, named
/// `media.<ext>` after the sniffed format, exact Content-Length.
pub fn image_request(path: &'static str, upload: ReadyMedia) -> Request {
    let form = upload.multipart();
    Request {
        method: Method::POST,
        target: Target::Api(path),
        query: Vec::new(),
        body: RequestBody::Multipart(form),
        timeout: TimeoutClass::Transfer,
        max_reply_bytes: MAX_JSON_REPLY_BYTES,
        retry: if is_idempotent_path(path) {
            crate::retry::Retry::Idempotent
        } else {
            crate::retry::Retry::UnsentOnly
        },
    }
}

/// `security.imgSecCheck` and other image-upload routes.
pub async fn call_image(
    client: &Client,
    entry: &Entry,
    upload: MediaUpload,
) -> Result<Value, WxError> {
    let Route::ImageUpload(path) = entry.route else {
        return Err(WxError::invalid_param(format!(
            "{} takes no media",
            entry.api
        )));
    };
    let ready = upload.open(client).await?;
    json_of(client.call_api(image_request(path, ready)).await?, path)
}

fn json_of(reply: crate::client::ApiReply, path: &str) -> Result<Value, WxError> {
    match reply.json {
        Some(json @ Value::Object(_)) => Ok(json),
        _ => Err(WxError::http_status(
            reply.reply.status,
            format!("{path} replied without a JSON object"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_lookups() {
        assert_eq!(
            lookup("customerServiceMessage.send").expect("known").route,
            Route::Json("/cgi-bin/message/custom/send")
        );
        assert_eq!(
            lookup("openapi.security.imgSecCheck").expect("prefix").api,
            "openapi.security.imgSecCheck"
        );
        let e = lookup("wxacode.getUnlimited").expect_err("unknown");
        assert_eq!(e.kind, crate::error::ErrorKind::InvalidParam);
        for entry in TABLE {
            assert!(e.detail.contains(entry.name), "{}", e.detail);
            assert_eq!(entry.api, format!("openapi.{}", entry.name));
        }
        assert!(e.detail.contains("openapi.wxacode.getUnlimited"));
        assert!(
            !lookup("customerServiceMessage.send")
                .expect("known")
                .idempotent
        );
        assert!(!is_idempotent_path("/cgi-bin/message/custom/send"));
        assert!(is_idempotent_path("/wxa/img_sec_check"));
        assert!(is_idempotent_path("/cgi-bin/media/upload"));
    }

    #[test]
    fn send_params_are_checked() {
        let send = lookup("customerServiceMessage.send").expect("known");
        let ok = json!({"touser": "o1", "msgtype": "image", "image": {"media_id": "M"}});
        assert!(check_json_params(send, &ok).is_ok());
        let e = check_json_params(send, &json!({"msgtype": "text"})).expect_err("no touser");
        assert!(e.detail.starts_with("touser is missing"), "{}", e.detail);
        let e = check_json_params(send, &json!({"touser": "o", "msgtype": 1})).expect_err("type");
        assert!(e.detail.contains("msgtype must be"), "{}", e.detail);
        assert!(check_json_params(send, &json!([1])).is_err());
    }
}
