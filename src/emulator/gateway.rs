//! The TCB gateway, `POST /admin`, as strict as research cloud-function.md
//! §6: TC3 verification against the credentials this emulator issues, the
//! clock window, the session token, then the action.

use std::collections::BTreeMap;

use bytes::Bytes;
use hyper::header::HeaderValue;
use hyper::{Method, StatusCode};
use serde_json::json;

use super::gateway_openapi;
use super::gateway_storage;
use super::http::{random_string, rid, Incoming, Reply, URL_SAFE};
use super::media::once_stream;
use super::state::{lock, Shared};
use crate::gateway::params::{ordered_object, sign_values, Param, Params};
use crate::gateway::sign::{parse_authorization, same_signature, sign, utc_date, SignInput};

pub(crate) const ADMIN_PATH: &str = "/admin";
/// How far ahead of the emulator's clock a request may be dated.
const FUTURE_SKEW_SECS: u64 = 300;
const MAX_EXPIRES_SECS: u64 = 3600;
pub(crate) const GATEWAY_JSON: &str = "application/json; charset=utf-8";

/// The temporary credentials and tokens a cloud function would be given.
#[derive(Clone)]
pub(crate) struct CloudCredentials {
    pub(crate) secret_id: String,
    pub(crate) secret_key: String,
    pub(crate) session_token: String,
    pub(crate) wx_api_token: String,
    pub(crate) tcb_session_token: String,
    pub(crate) seq_id: String,
}

impl CloudCredentials {
    pub(crate) fn issue() -> Self {
        CloudCredentials {
            secret_id: format!("AKIDemu{}", random_string(29, &URL_SAFE[..62])),
            secret_key: random_string(32, &URL_SAFE[..62]),
            session_token: random_string(96, URL_SAFE),
            wx_api_token: format!("emu-wxapitoken-{}", random_string(48, URL_SAFE)),
            tcb_session_token: random_string(32, URL_SAFE),
            seq_id: format!("emu{}", random_string(12, &URL_SAFE[..62])),
        }
    }
}

/// A refusal: HTTP 200 `{code, message, requestId}` as the gateway sends.
pub(crate) struct GatewayError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl GatewayError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        GatewayError {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn reply(&self) -> Reply {
        let body = json!({ "code": self.code, "message": self.message, "requestId": rid() });
        Reply::new(StatusCode::OK, GATEWAY_JSON, body.to_string())
    }
}

fn invalid_sign(message: &str) -> GatewayError {
    GatewayError::new("SIGN_PARAM_INVALID", message)
}

/// The env vars that make a process believe it is a cloud function of the
/// first env, pointed at this emulator.
pub(crate) fn cloud_function_env(shared: &Shared) -> BTreeMap<&'static str, String> {
    let creds = lock(&shared.gateway).clone();
    let env = shared.opts.envs.first().cloned().unwrap_or_default();
    let url = json!({ "URL": format!("{}{ADMIN_PATH}", shared.base_url) }).to_string();
    BTreeMap::from([
        ("TENCENTCLOUD_RUNENV", "SCF".to_string()),
        ("SCF_NAMESPACE", env.clone()),
        ("TENCENTCLOUD_REGION", "ap-shanghai".to_string()),
        ("TENCENTCLOUD_SECRETID", creds.secret_id),
        ("TENCENTCLOUD_SECRETKEY", creds.secret_key),
        ("TENCENTCLOUD_SESSIONTOKEN", creds.session_token),
        (
            "TCB_CONTEXT_KEYS",
            "TCB_ENV,TCB_SEQID,TCB_SOURCE,TCB_SESSIONTOKEN,TRIGGER_SRC".to_string(),
        ),
        ("TCB_ENV", env),
        ("TCB_SEQID", creds.seq_id),
        ("TCB_SOURCE", "wx_client".to_string()),
        ("TCB_SESSIONTOKEN", creds.tcb_session_token),
        (
            "WX_CONTEXT_KEYS",
            "WX_OPENID,WX_APPID,WX_UNIONID,WX_API_TOKEN,WX_CLIENTIP".to_string(),
        ),
        ("WX_OPENID", "oEMUopenid000000000000000000".to_string()),
        ("WX_APPID", shared.first_appid()),
        ("WX_UNIONID", "uEMUunionid00000000000000000".to_string()),
        ("WX_API_TOKEN", creds.wx_api_token),
        ("WX_CLIENTIP", "127.0.0.1".to_string()),
        ("TCB_CONTEXT_CNFG", url),
    ])
}

/// New credentials and tokens; the old ones are refused from now on.
pub(crate) fn rotate(shared: &Shared) -> BTreeMap<&'static str, String> {
    *lock(&shared.gateway) = CloudCredentials::issue();
    cloud_function_env(shared)
}

/// `POST /admin?env=&seqId=`
pub(crate) async fn handle_admin(shared: &Shared, req: &Incoming) -> Reply {
    let params = match verify(shared, req).await {
        Ok(params) => params,
        Err(err) => return err.reply(),
    };
    let action = params.str("action").unwrap_or_default().to_owned();
    let outcome = match action.as_str() {
        "storage.getUploadMetadata" => gateway_storage::upload_metadata(shared, req, &params),
        "storage.batchGetDownloadUrl" => gateway_storage::batch_download(shared, req, &params),
        "storage.batchDeleteFile" => gateway_storage::batch_delete(shared, &params),
        "wx.openApi" => return gateway_openapi::handle(shared, &params),
        _ => Err(GatewayError::new(
            "INVALID_ACTION",
            format!("action '{action}' is not supported"),
        )),
    };
    match outcome {
        Ok(data) => {
            let body = json!({ "requestId": rid(), "data": data });
            Reply::new(StatusCode::OK, GATEWAY_JSON, body.to_string())
        }
        Err(err) => err.reply(),
    }
}

/// Parses the body and checks the envelope and the signature.
async fn verify(shared: &Shared, req: &Incoming) -> Result<Params, GatewayError> {
    if req.method != Method::POST {
        return Err(GatewayError::new("INVALID_REQUEST", "POST is required"));
    }
    let params = read_params(req).await?;
    let query_env = req.query_param("env");
    if query_env.is_none() || req.query_param("seqId").is_none() {
        return Err(GatewayError::new(
            "INVALID_COMMON_PARAM",
            "the query needs env and seqId",
        ));
    }
    let env = params.str("envName").unwrap_or_default();
    if query_env != Some(env) {
        return Err(GatewayError::new(
            "INVALID_COMMON_PARAM",
            "the query env differs from envName",
        ));
    }
    if !shared.has_env(env) {
        return Err(GatewayError::new(
            "INVALID_ENV",
            format!("env '{env}' does not exist"),
        ));
    }
    check_signature(shared, req, &params)?;
    let creds = lock(&shared.gateway).clone();
    match params.str("sessionToken") {
        None => return Err(invalid_sign("the session token is missing")),
        Some(t) if t != creds.session_token => {
            return Err(invalid_sign("the session token is invalid or expired"))
        }
        Some(_) => {}
    }
    Ok(params)
}

async fn read_params(req: &Incoming) -> Result<Params, GatewayError> {
    let ct = req.content_type().unwrap_or_default();
    let bad = |m: &str| GatewayError::new("INVALID_PARAM", m.to_owned());
    if ct.starts_with("application/json") {
        return ordered_object(&req.body).map_err(|_| bad("the body is not a JSON object"));
    }
    if !ct.starts_with("multipart/form-data") {
        return Err(bad(
            "content-type must be application/json or multipart/form-data",
        ));
    }
    let boundary = multer::parse_boundary(ct).map_err(|_| bad("multipart boundary missing"))?;
    let mut form = multer::Multipart::new(once_stream(req.body.clone()), boundary);
    let mut params = Params::default();
    let malformed = |_| bad("malformed multipart body");
    while let Some(part) = form.next_field().await.map_err(malformed)? {
        let name = part
            .name()
            .ok_or_else(|| bad("a part has no name"))?
            .to_owned();
        let binary = part.content_type().is_some();
        let data: Bytes = part.bytes().await.map_err(malformed)?;
        if binary {
            params.push(&name, Param::Bytes(data));
        } else {
            let text =
                String::from_utf8(data.to_vec()).map_err(|_| bad("a text part is not UTF-8"))?;
            params.text(&name, &text);
        }
    }
    Ok(params)
}

fn header<'a>(req: &'a Incoming, name: &str) -> Option<&'a str> {
    req.headers
        .get(name)
        .and_then(|v: &HeaderValue| v.to_str().ok())
}

fn check_signature(shared: &Shared, req: &Incoming, params: &Params) -> Result<(), GatewayError> {
    let auth = header(req, "authorization")
        .and_then(parse_authorization)
        .ok_or_else(|| invalid_sign("the Authorization header is malformed"))?;
    let number = |name: &str| header(req, name).and_then(|v| v.trim().parse::<u64>().ok());
    let timestamp = number("x-timestamp").ok_or_else(|| invalid_sign("X-Timestamp is missing"))?;
    let expires = number("x-signature-expires")
        .filter(|e| (1..=MAX_EXPIRES_SECS).contains(e))
        .ok_or_else(|| invalid_sign("X-Signature-Expires is missing or out of range"))?;
    let now = shared.clock.now_secs();
    if now > timestamp + expires || timestamp > now + FUTURE_SKEW_SECS {
        return Err(invalid_sign("signature is expired"));
    }
    if auth.date != utc_date(timestamp) {
        return Err(invalid_sign(
            "the credential date is not the date of X-Timestamp",
        ));
    }
    let creds = lock(&shared.gateway).clone();
    if auth.secret_id != creds.secret_id {
        return Err(invalid_sign("secret id error"));
    }
    let names: Vec<&str> = auth.signed_headers.split(';').collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    if names != sorted || !names.contains(&"content-type") || !names.contains(&"host") {
        return Err(invalid_sign(
            "SignedHeaders must be sorted and hold content-type and host",
        ));
    }
    let mut headers = Vec::with_capacity(names.len());
    for name in &names {
        let value = header(req, name)
            .ok_or_else(|| invalid_sign(&format!("signed header {name} is missing")))?;
        headers.push((*name, value));
    }
    let texts = params.texts();
    let values = sign_values(&texts);
    let expected = sign(&SignInput {
        secret_id: &creds.secret_id,
        secret_key: &creds.secret_key,
        host: header(req, "host").unwrap_or_default(),
        path: &req.path,
        query: req.raw_query.as_deref().unwrap_or_default(),
        headers: &headers,
        params: &values,
        timestamp,
    });
    let params_ok = auth
        .signed_params
        .as_deref()
        .is_none_or(|p| p == expected.signed_params);
    if !params_ok || !same_signature(&expected.signature, &auth.signature) {
        return Err(invalid_sign("signature is invalid"));
    }
    Ok(())
}
