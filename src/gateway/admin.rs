//! One signed `POST /admin` exchange (research §0.1, §3, §4.0) and the
//! gateway's error body (§5).

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use super::context::Invocation;
use super::params::{sign_values, Param, Params};
use super::sign::{sign, SignInput, SIGNATURE_EXPIRES};
use crate::client::{read_body, transport_error, Client, Reply, MAX_JSON_REPLY_BYTES};
use crate::error::{ErrorKind, WxError};
use crate::multipart::MultipartBuilder;

/// The values wx-server-sdk 4.0.2 sends: the gateway may use them for
/// routing or statistics (research §7.3), so they are kept as they are.
pub const USER_AGENT: &str = "tcb-node-sdk/3.17.2";
pub const SDK_VERSION: &str = "wx-server-sdk/4.0.2";

/// How the params travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Multipart,
}

/// Adds the envelope fields in wx-server-sdk's order (§4.0).
fn with_envelope(mut params: Params, inv: &Invocation) -> Params {
    params.text("envName", &inv.env);
    params.text("wxCloudApiToken", &inv.wx_cloud_api_token);
    if let Some(token) = &inv.wx_cloudbase_access_token {
        params.text("wxCloudbaseAccesstoken", token);
    }
    params.text("tcb_sessionToken", &inv.tcb_session_token);
    if let Some(token) = &inv.credentials.session_token {
        params.text("sessionToken", token);
    }
    params.text("crossAuthorizationToken", "");
    params
}

/// Sends one action; the reply is returned whatever its status.
pub async fn send(
    client: &Client,
    inv: &Invocation,
    params: Params,
    encoding: Encoding,
) -> Result<Reply, WxError> {
    // Whatever the platform handed this invocation is masked in any message.
    let secrets = client.secrets();
    secrets.add_recent(&inv.credentials.secret_key);
    for token in [
        &inv.credentials.session_token,
        &inv.wx_cloudbase_access_token,
    ]
    .into_iter()
    .flatten()
    {
        secrets.add_recent(token);
    }
    secrets.add_recent(&inv.wx_cloud_api_token);
    secrets.add_recent(&inv.tcb_session_token);
    let params = with_envelope(params, inv);
    let url = reqwest::Url::parse(&inv.url).map_err(|e| {
        WxError::invalid_param(format!(
            "the TCB gateway URL is not valid ({e}): check serviceUrl or TCB_CONTEXT_CNFG"
        ))
    })?;
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let (content_type, body, len) = match encoding {
        Encoding::Json => {
            let text = params.to_json_body();
            let len = text.len() as u64;
            (
                "application/json".to_string(),
                reqwest::Body::from(text),
                len,
            )
        }
        Encoding::Multipart => {
            let mut form = MultipartBuilder::new();
            for (key, value) in &params.0 {
                form = match value {
                    Param::Json(Value::String(s)) => form.text(key, s),
                    Param::Json(other) => form.text(key, &other.to_string()),
                    Param::Bytes(b) => form.binary(key, "application/octet-stream", b.clone()),
                };
            }
            let form = form.finish();
            (form.content_type(), form.to_body(), form.len())
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let client_ts = now.as_millis().to_string();
    let timestamp = now.as_secs().saturating_sub(1);
    let mut headers: Vec<(&str, &str)> = vec![
        ("content-type", &content_type),
        ("User-Agent", USER_AGENT),
        ("X-TCB-Source", &inv.source),
        ("X-Client-Timestamp", &client_ts),
        ("X-SDK-Version", SDK_VERSION),
        ("Host", &host),
    ];
    if let Some(region) = &inv.region {
        headers.push(("X-TCB-Region", region));
    }
    if let Some(tracelog) = &inv.tracelog {
        headers.push(("X-TCB-Tracelog", tracelog));
    }
    let texts = params.texts();
    let values = sign_values(&texts);
    let query = url.query().unwrap_or_default().to_string();
    let signed = sign(&SignInput {
        secret_id: &inv.credentials.secret_id,
        secret_key: &inv.credentials.secret_key,
        host: &host,
        path: url.path(),
        query: &query,
        headers: &headers,
        params: &values,
        timestamp,
    });
    let timeout = client.config().timeouts.json;
    let mut builder = client.http()?.post(url).timeout(timeout);
    for (name, value) in headers.iter().filter(|(n, _)| *n != "Host") {
        builder = builder.header(*name, *value);
    }
    builder = builder
        .header("Authorization", signed.authorization)
        .header("X-Signature-Expires", SIGNATURE_EXPIRES.to_string())
        .header("X-Timestamp", timestamp.to_string())
        .header(reqwest::header::CONTENT_LENGTH, len)
        .body(body);
    let _permit = client.permit().await?;
    let mut response = builder
        .send()
        .await
        .map_err(|e| transport_error(e, "/admin", timeout))?;
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    let body = read_body(response, MAX_JSON_REPLY_BYTES, "/admin", timeout, None).await?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// A JSON action: status 200 and no `code`, else the gateway's error.
pub async fn call_json(
    client: &Client,
    inv: &Invocation,
    params: Params,
) -> Result<Value, WxError> {
    let reply = send(client, inv, params, Encoding::Json).await?;
    let json: Option<Value> = serde_json::from_slice(&reply.body).ok();
    if reply.status != 200 {
        return Err(WxError::http_status(
            reply.status,
            format!("the TCB gateway answered HTTP {}", reply.status),
        ));
    }
    let json = json.ok_or_else(|| {
        WxError::http_status(200, "the TCB gateway answered with a body that is not JSON")
    })?;
    if let Some(err) = gateway_error(&json) {
        return Err(err);
    }
    Ok(json)
}

/// `{code, message, requestId}` with a truthy `code`, as an error.
pub fn gateway_error(json: &Value) -> Option<WxError> {
    let code = match json.get("code") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return None,
    };
    let message = json.get("message").and_then(Value::as_str).unwrap_or("");
    let kind = if code.starts_with("SIGN_") || code.contains("SECRET") || code.contains("TOKEN") {
        ErrorKind::Token
    } else {
        ErrorKind::WxApi
    };
    let mut err = WxError::new(kind, tcb_err_code(&code), format!("{message} [{code}]"));
    err.request_id = json
        .get("requestId")
        .and_then(Value::as_str)
        .map(str::to_string);
    Some(err)
}

/// wx-server-sdk's `TCB_ERR_CODE` (§5.1); unknown codes are -501001.
pub fn tcb_err_code(code: &str) -> i64 {
    match code {
        "SUCCESS" => 0,
        "SERVER_TIMEOUT" => -501002,
        "EXCEED_REQUEST_LIMIT" => -501003,
        "EXCEED_CONCURRENT_REQUEST_LIMIT" => -501004,
        "INVALIID_ENV" | "INVALID_ENV" => -501005,
        "INVALID_COMMON_PARAM" => -501006,
        "INVALID_PARAM" => -501007,
        "INVALID_REQUEST_SOURCE" => -501008,
        "RESOURCE_NOT_INITIAL" => -501009,
        "STORAGE_REQUEST_FAIL" => -503001,
        "STORAGE_EXCEED_AUTHORITY" => -503002,
        "STORAGE_FILE_NONEXIST" => -503003,
        "STORAGE_SIGN_PARAM_INVALID" => -503004,
        _ => -501001,
    }
}

/// The reply's `Content-Type`, as sent.
pub fn content_type(reply: &Reply) -> &str {
    reply.header(CONTENT_TYPE).unwrap_or("")
}
