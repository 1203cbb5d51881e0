//! Cloud calls through `wx.openApi` (research §4.5): any `namespace.api`,
//! with the protobuf `CommApiData` request and `CommOpenApiResp` reply.

use bytes::Bytes;
use prost::Message;
use serde_json::{Map, Value};

use super::admin::{content_type, gateway_error, send, Encoding};
use super::context::Invocation;
use super::params::{Param, Params};
use super::proto::{encode_request, CommOpenApiResp, KeyValuePair};
use crate::client::Client;
use crate::error::{ErrorKind, WxError};
use crate::media::{parse_upload_reply, MediaUpload, TempMedia, UploadedMedia};
use crate::source::Payload;

/// One top-level param of a cloud call.
#[derive(Debug, Clone, PartialEq)]
pub enum OpenApiParam {
    /// Sent as its JSON text (a string with its quotes).
    Json(Value),
    /// Sent as raw bytes with a filename whose extension fits the bytes.
    Media {
        data: Bytes,
        content_type: Option<String>,
    },
}

/// What a cloud call gives back.
#[derive(Debug, Clone, PartialEq)]
pub enum OpenApiResult {
    /// A JSON reply without `errcode`/`errmsg`, keys as WeChat sent them (snake_case).
    Json(Map<String, Value>),
    /// Anything else: the bytes and their (trimmed) content type.
    Binary { content_type: String, buffer: Bytes },
}

/// `camelCase` → `snake_case` as wx-server-sdk's `convertCase` does: every
/// upper-case letter but a leading one becomes `_` + lower case.
pub fn snake_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `snake_case` → `camelCase`: `_` + a lower-case letter becomes upper case.
pub fn camel_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&n) if c == '_' && n.is_ascii_lowercase() => {
                out.push(n.to_ascii_uppercase());
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// Renames keys recursively (objects inside arrays too).
pub fn rename_keys(value: Value, rename: fn(&str) -> String) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (rename(&k), rename_keys(v, rename)))
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| rename_keys(v, rename)).collect())
        }
        other => other,
    }
}

/// `media.<ext>`: the extension of what the bytes are, else of the content type.
fn media_filename(key: &str, data: &[u8], content_type: Option<&str>) -> String {
    let ext = infer::get(data)
        .map(|k| k.extension().to_string())
        .or_else(|| {
            content_type
                .and_then(crate::media::Format::from_mime)
                .map(|f| f.ext.to_string())
        })
        .unwrap_or_else(|| "bin".to_string());
    format!("{key}.{ext}")
}

fn pairs_of(params: Vec<(String, OpenApiParam)>) -> Vec<KeyValuePair> {
    params
        .into_iter()
        .map(|(key, value)| {
            let key = snake_key(&key);
            match value {
                OpenApiParam::Json(v) => KeyValuePair {
                    value: Bytes::from(rename_keys(v, snake_key).to_string()),
                    key,
                    contenttype: None,
                    filename: None,
                },
                OpenApiParam::Media { data, content_type } => KeyValuePair {
                    filename: Some(media_filename(&key, &data, content_type.as_deref())),
                    value: data,
                    key,
                    contenttype: None,
                },
            }
        })
        .collect()
}

/// One cloud call; the reply as WeChat sent it.
pub async fn call(
    client: &Client,
    inv: &Invocation,
    api_name: &str,
    params: Vec<(String, OpenApiParam)>,
) -> Result<OpenApiResult, WxError> {
    let mut form = Params::default();
    form.text("action", "wx.openApi");
    form.text("apiName", api_name);
    form.push(
        "requestData",
        Param::Bytes(Bytes::from(encode_request(pairs_of(params)))),
    );
    let reply = send(client, inv, form, Encoding::Multipart).await?;
    parse_reply(api_name, reply.status, content_type(&reply), &reply.body)
}

/// What a `wx.openApi` reply means: the gateway's own JSON error, a
/// `CommOpenApiResp` carrying WeChat's errcode, JSON or binary data. Pure, for
/// any status, content type and bytes (a fuzz target).
pub fn parse_reply(
    api_name: &str,
    status: u16,
    reply_content_type: &str,
    body: &Bytes,
) -> Result<OpenApiResult, WxError> {
    if status != 200 {
        return Err(WxError::http_status(
            status,
            format!("the TCB gateway answered HTTP {} to wx.openApi", status),
        ));
    }
    if reply_content_type == "application/json; charset=utf-8" {
        if let Some(err) = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|j| gateway_error(&j))
        {
            return Err(err);
        }
    }
    let resp = match CommOpenApiResp::decode(body.clone()) {
        Ok(resp) => resp,
        Err(decode) => {
            let json: Option<Value> = serde_json::from_slice(body).ok();
            return Err(json.as_ref().and_then(gateway_error).unwrap_or_else(|| {
                WxError::new(
                    ErrorKind::HttpStatus,
                    -601001,
                    format!("unknown wx response received: {decode}"),
                )
            }));
        }
    };
    if resp.error_code != 0 {
        return Err(WxError::new(
            ErrorKind::WxApi,
            i64::from(resp.error_code),
            format!("system error: error code: {}", resp.error_code),
        ));
    }
    let ct = resp.content_type.trim();
    if ct.contains("application/json") || ct.contains("text/plain") {
        let text = String::from_utf8_lossy(&resp.resp_data);
        let mut map = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => map,
            _ if ct.contains("text/plain") => {
                let mut m = Map::new();
                m.insert("result".into(), Value::String(text.into_owned()));
                m
            }
            _ => {
                return Err(WxError::new(
                    ErrorKind::HttpStatus,
                    -601001,
                    format!("{api_name} replied with invalid JSON"),
                ))
            }
        };
        let errcode = map.get("errcode").and_then(Value::as_i64).unwrap_or(0);
        if errcode != 0 {
            let errmsg = map.get("errmsg").and_then(Value::as_str).unwrap_or("");
            return Err(WxError::wechat(errcode, errmsg));
        }
        map.remove("errcode");
        map.remove("errmsg");
        return Ok(OpenApiResult::Json(map));
    }
    Ok(OpenApiResult::Binary {
        content_type: ct.to_string(),
        buffer: resp.resp_data,
    })
}

/// `customerServiceMessage.uploadTempMedia` through `wx.openApi`.
pub async fn upload_temp_media(
    client: &Client,
    inv: &Invocation,
    upload: MediaUpload,
) -> Result<UploadedMedia, WxError> {
    let ready = upload.open(client).await?;
    let data = payload_bytes(&ready.opened.payload).await?;
    let params = vec![
        (
            "type".to_string(),
            OpenApiParam::Json(Value::String(ready.media_type.as_str().into())),
        ),
        (
            "media".to_string(),
            OpenApiParam::Media {
                data,
                content_type: Some(ready.format.mime.to_string()),
            },
        ),
    ];
    match call(
        client,
        inv,
        "customerServiceMessage.uploadTempMedia",
        params,
    )
    .await?
    {
        OpenApiResult::Json(map) => parse_upload_reply(Some(&Value::Object(map)), ready.media_type),
        OpenApiResult::Binary { content_type, .. } => Err(WxError::http_status(
            200,
            format!("uploadTempMedia replied with {content_type} instead of JSON"),
        )),
    }
}

/// The whole payload in memory (a protobuf field cannot be streamed); media
/// sources are bounded by the media size limits when opened.
async fn payload_bytes(payload: &Payload) -> Result<Bytes, WxError> {
    use futures_util::TryStreamExt;
    if let Payload::Memory(data) = payload {
        return Ok(data.clone());
    }
    let chunks: Vec<Bytes> = payload.stream().try_collect().await.map_err(|e| {
        payload
            .source_failure()
            .unwrap_or_else(|| WxError::invalid_param(format!("cannot read media.value: {e}")))
    })?;
    Ok(Bytes::from(chunks.concat()))
}

/// `customerServiceMessage.getTempMedia` through `wx.openApi`.
pub async fn get_temp_media(
    client: &Client,
    inv: &Invocation,
    media_id: &str,
) -> Result<TempMedia, WxError> {
    let params = vec![(
        "mediaId".to_string(),
        OpenApiParam::Json(Value::String(media_id.into())),
    )];
    match call(client, inv, "customerServiceMessage.getTempMedia", params).await? {
        OpenApiResult::Binary {
            content_type,
            buffer,
        } => Ok(TempMedia::File {
            content_type,
            data: buffer,
            // The gateway answered 200 (anything else is an error above).
            status_code: 200,
        }),
        OpenApiResult::Json(map) => match map.get("video_url").and_then(Value::as_str) {
            Some(url) => Ok(TempMedia::Video {
                url: url.to_string(),
            }),
            None => Err(WxError::http_status(
                200,
                "getTempMedia replied with JSON but no video_url",
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_convert_like_wx_server_sdk() {
        assert_eq!(snake_key("mediaId"), "media_id");
        assert_eq!(snake_key("MsgType"), "Msg_type");
        assert_eq!(camel_key("media_id"), "mediaId");
        assert_eq!(camel_key("created_at"), "createdAt");
        assert_eq!(camel_key("a__b_1"), "a_B_1");
        let v = rename_keys(serde_json::json!({"a_b": [{"c_d": 1}]}), camel_key);
        assert_eq!(v, serde_json::json!({"aB": [{"cD": 1}]}));
    }

    #[test]
    fn media_pairs_match_the_captured_request() {
        // research §4.5, run "base" #7
        let png = Bytes::from_static(b"\x89PNG\r\n\x1a\n fake png payload");
        let pairs = pairs_of(vec![
            (
                "type".into(),
                OpenApiParam::Json(Value::String("image".into())),
            ),
            (
                "media".into(),
                OpenApiParam::Media {
                    data: png,
                    content_type: Some("image/png".into()),
                },
            ),
        ]);
        assert_eq!(
            hex::encode(encode_request(pairs)),
            "080012400a0f0a0474797065120722696d616765220a2d0a056d65646961121989504e470d0a1a0a2066616b6520706e67207061796c6f616422096d656469612e706e67"
        );
    }
}
