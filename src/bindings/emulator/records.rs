//! The emulator's records (stats, request log, sent messages, info) as
//! `#[napi(object)]` shapes, converted from the core's JSON values.

use std::collections::HashMap;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde::Deserialize;

use super::options::EmulatorApp;

/// A customer-service message the emulator accepted.
#[napi(object)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmulatorSentMessage {
    /// The app whose token sent it (none in open-API service mode).
    pub appid: Option<String>,
    pub touser: String,
    pub msgtype: String,
    /// The JSON body as received (WeChat's snake_case).
    #[napi(ts_type = "Record<string, any>")]
    pub message: serde_json::Value,
    /// Emulator clock, ms since the epoch.
    pub sent_at: f64,
}

/// Counters since start (or the last `reset()`).
#[napi(object)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmulatorStats {
    /// Requests per route (`/cgi-bin/media/upload`, `/cos`, `/tcb-dl`, …).
    pub requests: HashMap<String, i64>,
    /// Calls to `/cgi-bin/token` and `/cgi-bin/stable_token`.
    pub token_fetches: i64,
    pub stored_media: i64,
    pub stored_media_bytes: i64,
    pub stored_objects: i64,
    pub stored_object_bytes: i64,
}

#[napi(object, use_nullable = true)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmulatorRequestHeaders {
    pub content_type: Option<String>,
    pub content_length: Option<i64>,
    pub transfer_encoding: Option<String>,
}

/// One multipart part as received, in wire order.
#[napi(object, use_nullable = true)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmulatorRequestPart {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub size: i64,
    pub sha256: String,
    /// The text of a non-file field of at most 4 KiB.
    pub value: Option<String>,
}

/// One logged request and what the emulator answered.
#[napi(object, use_nullable = true)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmulatorRequest {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: EmulatorRequestHeaders,
    pub body_size: i64,
    pub body_sha256: String,
    /// The parsed JSON body, or null.
    #[napi(ts_type = "unknown")]
    pub json: serde_json::Value,
    pub parts: Vec<EmulatorRequestPart>,
    /// HTTP status sent; null when the connection was reset by a fault.
    pub status: Option<u32>,
    /// `errcode` of a WeChat JSON answer.
    pub errcode: Option<i64>,
}

#[napi(object)]
pub struct EmulatorRequestFilter {
    /// Only requests whose path starts with this.
    pub path: Option<String>,
}

#[napi(object)]
#[derive(Deserialize)]
pub struct EmulatorInfo {
    pub url: String,
    pub apps: Vec<EmulatorApp>,
    pub envs: Vec<String>,
}

pub(super) fn from_value<T: for<'de> Deserialize<'de>>(value: serde_json::Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::from_reason(format!("emulator: {e}")))
}
