//! `wx.openApi` on the emulated gateway: the strict `CommApiData` check,
//! then uploadTempMedia / getTempMedia / customerServiceMessage.send over the
//! same media store as `/cgi-bin/media/*`. Replies are `CommOpenApiResp`.

use bytes::Bytes;
use hyper::StatusCode;
use prost::Message;
use serde_json::{json, Value};

use super::gateway::GatewayError;
use super::http::{Reply, WxError};
use super::media::{lookup_media, store_upload, MediaPart, MediaType, VIDEO_PREFIX};
use super::messages::{check_image, send_message};
use super::state::{lock, Shared};
use super::tokens::Caller;
use crate::gateway::params::{Param, Params};
use crate::gateway::proto::{check_comm_api_data, CommApiData, CommOpenApiResp, KeyValuePair};

const API_NOT_FOUND: i32 = -604100;

pub(crate) fn handle(shared: &Shared, params: &Params) -> Reply {
    match call(shared, params) {
        Ok(resp) => Reply::new(
            StatusCode::OK,
            "application/octet-stream",
            resp.encode_to_vec(),
        ),
        Err(err) => err.reply(),
    }
}

fn invalid(message: impl Into<String>) -> GatewayError {
    GatewayError::new("INVALID_PARAM", message)
}

fn call(shared: &Shared, params: &Params) -> Result<CommOpenApiResp, GatewayError> {
    let expected = lock(&shared.gateway).wx_api_token.clone();
    if params.str("wxCloudApiToken") != Some(expected.as_str()) {
        return Err(GatewayError::new(
            "INVALID_WX_CLOUD_API_TOKEN",
            "wxCloudApiToken is missing or invalid",
        ));
    }
    let api = params
        .str("apiName")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| invalid("apiName is missing"))?
        .to_owned();
    let data = match params.get("requestData") {
        Some(Param::Bytes(b)) => b,
        _ => return Err(invalid("requestData must be a binary part")),
    };
    check_comm_api_data(data).map_err(|e| invalid(format!("protobuf: {e}")))?;
    let request =
        CommApiData::decode(data.clone()).map_err(|e| invalid(format!("protobuf: {e}")))?;
    let pairs = match (request.api_type, request.openapi_data) {
        (Some(0) | None, Some(d)) => d.pairs,
        _ => return Err(invalid("CommApiData must be apiType 0 with openapiData")),
    };
    if pairs.iter().any(|p| p.key.is_empty()) {
        return Err(invalid("every pair needs a key"));
    }
    let outcome = match api.as_str() {
        "customerServiceMessage.uploadTempMedia" => upload(shared, &pairs),
        "customerServiceMessage.getTempMedia" => get(shared, &pairs),
        "customerServiceMessage.send" => send(shared, &pairs),
        "security.imgSecCheck" => img_sec_check(shared, &pairs),
        _ => {
            return Ok(CommOpenApiResp {
                error_code: API_NOT_FOUND,
                ..Default::default()
            })
        }
    };
    Ok(match outcome {
        Ok(resp) => resp,
        Err(err) => json_resp(&err.body()),
    })
}

fn json_resp(body: &Value) -> CommOpenApiResp {
    CommOpenApiResp {
        resp_data: Bytes::from(body.to_string()),
        content_type: "application/json; charset=utf-8".to_string(),
        http_code: 200,
        ..Default::default()
    }
}

fn pair<'a>(pairs: &'a [KeyValuePair], key: &str) -> Option<&'a KeyValuePair> {
    pairs.iter().find(|p| p.key == key)
}

/// A pair holding JSON text (wx-server-sdk sends every non-media value so).
fn json_pair(pairs: &[KeyValuePair], key: &str) -> Option<Value> {
    pair(pairs, key).and_then(|p| serde_json::from_slice(&p.value).ok())
}

fn upload(shared: &Shared, pairs: &[KeyValuePair]) -> Result<CommOpenApiResp, WxError> {
    let media_type = json_pair(pairs, "type")
        .and_then(|v| v.as_str().and_then(MediaType::parse))
        .ok_or_else(|| WxError::new(40004, "invalid media type"))?;
    let media = pair(pairs, "media").ok_or_else(|| WxError::new(41005, "media data missing"))?;
    let part = MediaPart::from_pair(media.filename.clone(), media.value.clone());
    let body = store_upload(shared, media_type, part, Some(shared.first_appid()))?;
    Ok(json_resp(&body))
}

fn get(shared: &Shared, pairs: &[KeyValuePair]) -> Result<CommOpenApiResp, WxError> {
    let media_id = json_pair(pairs, "media_id")
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|id| !id.is_empty())
        .ok_or_else(|| WxError::new(41006, "media_id missing"))?;
    let (data, content_type, video) = lookup_media(shared, &media_id, Some(&shared.first_appid()))?;
    if video {
        let url = format!("{}{VIDEO_PREFIX}{media_id}", shared.base_url);
        return Ok(json_resp(
            &json!({ "errcode": 0, "errmsg": "ok", "video_url": url }),
        ));
    }
    Ok(CommOpenApiResp {
        resp_data: data,
        content_type,
        http_code: 200,
        ..Default::default()
    })
}

/// The app a cloud function belongs to (its `WX_APPID`).
fn caller(shared: &Shared) -> Caller {
    Caller::App {
        appid: shared.first_appid(),
    }
}

/// `customerServiceMessage.send`: the pairs as one JSON body, checked and
/// recorded like `/cgi-bin/message/custom/send` (see `sentMessages()`).
fn send(shared: &Shared, pairs: &[KeyValuePair]) -> Result<CommOpenApiResp, WxError> {
    let mut body = serde_json::Map::new();
    for p in pairs {
        let value = serde_json::from_slice(&p.value)
            .map_err(|_| WxError::new(47001, "data format error"))?;
        body.insert(p.key.clone(), value);
    }
    send_message(shared, &caller(shared), &Value::Object(body))?;
    Ok(json_resp(&json!({ "errcode": 0, "errmsg": "ok" })))
}

/// `security.imgSecCheck`: the `media` pair judged like `/wxa/img_sec_check`.
fn img_sec_check(shared: &Shared, pairs: &[KeyValuePair]) -> Result<CommOpenApiResp, WxError> {
    let media = pair(pairs, "media").ok_or_else(|| WxError::new(41005, "media data missing"))?;
    check_image(
        shared,
        &MediaPart::from_pair(media.filename.clone(), media.value.clone()),
    )?;
    Ok(json_resp(&json!({ "errcode": 0, "errmsg": "ok" })))
}
