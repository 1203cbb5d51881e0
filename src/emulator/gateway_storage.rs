//! The gateway's storage actions and the COS PUT Object they hand out
//! (research §4.1–4.4, §6), over the same store as `/tcb/*`.

use bytes::Bytes;
use hyper::header::ETAG;
use hyper::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use super::gateway::GatewayError;
use super::http::{cos_error, cos_request_id, Incoming, Reply};
use super::storage::{
    delete_object, is_valid_cloud_path, issue_ticket, link_for, put_object, COS_PREFIX,
};
use crate::gateway::params::{Param, Params};

const MAX_BATCH: usize = 50;
const DEFAULT_MAX_AGE_SECS: u64 = 86_400;

fn invalid(message: impl Into<String>) -> GatewayError {
    GatewayError::new("INVALID_PARAM", message)
}

/// `storage.getUploadMetadata {path, method?: 'put'}`
pub(crate) fn upload_metadata(
    shared: &super::state::Shared,
    req: &Incoming,
    params: &Params,
) -> Result<Value, GatewayError> {
    let path = params
        .str("path")
        .filter(|p| is_valid_cloud_path(p))
        .ok_or_else(|| invalid("path must be a valid cloud path"))?;
    match params.get("method") {
        None => {}
        Some(Param::Json(Value::String(m))) if m == "put" => {}
        Some(_) => return Err(invalid("method must be 'put'")),
    }
    let env = params.str("envName").unwrap_or_default();
    let origin = req.origin(&shared.base_url);
    let t = issue_ticket(shared, &origin, env, path);
    Ok(json!({
        "url": t.url,
        "token": t.token,
        "authorization": t.authorization,
        "fileId": t.file_id,
        "cosFileId": t.cos_file_id,
        "download_url": t.url,
    }))
}

/// A batch array of 1..=50 items.
fn batch<'a>(params: &'a Params, key: &str) -> Result<&'a Vec<Value>, GatewayError> {
    let items = match params.get(key) {
        Some(Param::Json(Value::Array(items))) => items,
        _ => return Err(invalid(format!("{key} must be an array"))),
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(invalid(format!("{key} must hold 1 to {MAX_BATCH} items")));
    }
    Ok(items)
}

fn item_code(errcode: i64) -> &'static str {
    match errcode {
        -503003 => "STORAGE_FILE_NONEXIST",
        _ => "INVALID_PARAM",
    }
}

/// `storage.batchGetDownloadUrl {file_list: [{fileid, max_age?, url_type?}]}`
pub(crate) fn batch_download(
    shared: &super::state::Shared,
    req: &Incoming,
    params: &Params,
) -> Result<Value, GatewayError> {
    let items = batch(params, "file_list")?;
    let origin = req.origin(&shared.base_url);
    let mut list = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let file_id = item
            .get("fileid")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("file_list[{i}].fileid must be a string")))?;
        let max_age = match item.get("max_age") {
            None => DEFAULT_MAX_AGE_SECS,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| invalid(format!("file_list[{i}].max_age must be an integer ≥ 0")))?,
        };
        list.push(match link_for(shared, &origin, file_id, max_age, true) {
            Ok(url) => json!({ "fileID": file_id, "tempFileURL": url, "code": "SUCCESS", "maxAge": max_age }),
            Err(errcode) => json!({ "fileID": file_id, "tempFileURL": "", "code": item_code(errcode) }),
        });
    }
    Ok(json!({ "download_list": list }))
}

/// `storage.batchDeleteFile {fileid_list: [fileID, …]}`
pub(crate) fn batch_delete(
    shared: &super::state::Shared,
    params: &Params,
) -> Result<Value, GatewayError> {
    let items = batch(params, "fileid_list")?;
    let mut list = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let file_id = item
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(format!("fileid_list[{i}] must be a non-empty string")))?;
        let code = match delete_object(shared, file_id) {
            Ok(()) => "SUCCESS",
            Err(errcode) => item_code(errcode),
        };
        list.push(json!({ "fileID": file_id, "code": code }));
    }
    Ok(json!({ "delete_list": list }))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `PUT /cos/<bucket>/<path>`: headers `authorization`, `x-cos-security-token`,
/// `x-cos-meta-fileid` and `key` (the URI-encoded cloud path) must match the
/// ticket. 200 with an empty body, or COS XML `<Error>`.
pub(crate) fn handle_cos_put(shared: &super::state::Shared, req: &Incoming) -> Reply {
    let resource = req.path.clone();
    let bucket = req
        .path
        .strip_prefix(COS_PREFIX)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    let key = header(&req.headers, "key").and_then(|k| {
        percent_encoding::percent_decode_str(k)
            .decode_utf8()
            .ok()
            .map(|c| c.into_owned())
    });
    let headers = [
        header(&req.headers, "authorization"),
        header(&req.headers, "x-cos-security-token"),
        header(&req.headers, "x-cos-meta-fileid"),
        key.as_deref(),
    ];
    match put_object(shared, bucket, headers, Bytes::clone(&req.body)) {
        Ok(etag) => Reply::empty(StatusCode::OK)
            .with_header(ETAG, &format!("\"{etag}\""))
            .with_header(
                hyper::header::HeaderName::from_static("x-cos-request-id"),
                &cos_request_id(),
            ),
        Err((code, message)) => cos_error(StatusCode::FORBIDDEN, code, message, &resource),
    }
}
