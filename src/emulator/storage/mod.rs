//! Cloud Base storage: `/tcb/uploadfile`, the COS POST Object form upload,
//! `/tcb/batchdownloadfile` with its download host, and `/tcb/batchdeletefile`.
//!
//! This module owns the store itself (objects, upload tickets, the link
//! secret), cloud file ids and the checks shared by the `/tcb/*` JSON
//! endpoints; each step of the flow lives in a submodule.

mod cos_form;
mod delete;
mod download;
mod tickets;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use bytes::Bytes;
use hyper::header::HeaderName;
use hyper::Method;
use serde_json::{json, Map, Value};

use super::http::{random_string, sha256_hex, Incoming, Reply, WxError, URL_SAFE};
use super::state::{ByteStore, Shared, StoredLen};
use super::tokens::{authorize, parse_json_body};

pub(crate) use cos_form::{handle_cos_post, read_cos_form};
pub(crate) use delete::{delete_object, handle_batch_delete};
pub(crate) use download::{handle_batch_download, handle_download, link_for};
pub(crate) use tickets::{handle_uploadfile, issue_ticket, put_object};

/// How long an upload ticket from `/tcb/uploadfile` is accepted by COS.
const TICKET_TTL_MS: u64 = 3_600_000;
/// Files per batch call, as on the real API.
const MAX_BATCH: usize = 50;
/// Link lifetime when an item has no `max_age` ("默认86400").
const DEFAULT_MAX_AGE_SECS: u64 = 86_400;
/// The cloud path limit from the SDKs.
const X_COS_REQUEST_ID: HeaderName = HeaderName::from_static("x-cos-request-id");
pub(crate) const COS_PREFIX: &str = "/cos/";
pub(crate) const DOWNLOAD_PREFIX: &str = "/tcb-dl/";

/// Path-style bucket of a cloud env, shaped like the real `7465-<env>-<appid>`.
pub(crate) fn bucket_for(env: &str) -> String {
    format!("7465-{env}-1250000000")
}

/// What `/tcb/uploadfile` handed out, which the COS form must echo back.
#[derive(Debug, Clone)]
struct Ticket {
    bucket: String,
    path: String,
    token: String,
    cos_file_id: String,
    issued_at_ms: u64,
}

/// A stored COS object.
struct StoredObject {
    data: Bytes,
    content_type: String,
    etag: String,
}

impl StoredLen for StoredObject {
    fn stored_len(&self) -> usize {
        self.data.len()
    }
}

pub(crate) struct StorageState {
    /// (bucket, key) → object
    objects: ByteStore<(String, String), StoredObject>,
    /// authorization (the form's `Signature`) → ticket
    tickets: HashMap<String, Ticket>,
    /// Signs download links so that a tampered link is refused.
    link_secret: String,
}

impl StorageState {
    pub(crate) fn new(max_stored_bytes: usize) -> Self {
        StorageState {
            objects: ByteStore::new(max_stored_bytes),
            tickets: HashMap::new(),
            link_secret: random_string(32, URL_SAFE),
        }
    }

    pub(crate) fn object_count(&self) -> usize {
        self.objects.len()
    }

    pub(crate) fn object_bytes(&self) -> usize {
        self.objects.total_bytes()
    }

    fn add_ticket(&mut self, authorization: String, ticket: Ticket) {
        // Forget expired tickets now and then, so upload loops stay bounded.
        if self.tickets.len() % 1024 == 1023 {
            let now = ticket.issued_at_ms;
            self.tickets
                .retain(|_, t| t.issued_at_ms + TICKET_TTL_MS > now);
        }
        self.tickets.insert(authorization, ticket);
    }

    fn link_sign(&self, bucket: &str, path: &str, expires_at_secs: u64) -> String {
        let text = format!("{}\n{bucket}\n{path}\n{expires_at_secs}", self.link_secret);
        sha256_hex(text.as_bytes())[..32].to_owned()
    }
}

/// A `cloud://<env>.<bucket>/<path>` file id, taken apart.
#[derive(Debug, PartialEq)]
pub(crate) struct FileId {
    bucket: String,
    path: String,
}

pub(crate) fn file_id_for(env: &str, path: &str) -> String {
    format!("cloud://{env}.{}/{path}", bucket_for(env))
}

pub(crate) fn parse_file_id(shared: &Shared, file_id: &str) -> Option<FileId> {
    let (host, path) = file_id.strip_prefix("cloud://")?.split_once('/')?;
    let (env, bucket) = host.split_once('.')?;
    if !is_valid_cloud_path(path) || !shared.has_env(env) || bucket != bucket_for(env) {
        return None;
    }
    Some(FileId {
        bucket: bucket.to_owned(),
        path: path.to_owned(),
    })
}

/// The client's cloud path rule (crate::cloud_path): keys are taken
/// literally, so what could be resolved to another key is refused.
pub(crate) fn is_valid_cloud_path(path: &str) -> bool {
    crate::cloud_path::check(path).is_ok()
}

fn invalid_params(detail: &str) -> WxError {
    WxError::new(-501007, format!("invalid parameters, {detail}"))
}

fn missing(field: &str) -> WxError {
    WxError::new(40101, format!("missing required parameter: {field}"))
}

/// The checks shared by the `/tcb/*` JSON endpoints: method, token, body, env.
/// Returns the body and its env.
fn tcb_body(shared: &Shared, req: &Incoming) -> Result<(Map<String, Value>, String), WxError> {
    if req.method != Method::POST {
        return Err(WxError::new(43002, "require POST method"));
    }
    authorize(shared, req)?;
    let body = parse_json_body(&req.body)?;
    let env = body
        .get("env")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("env"))?
        .to_owned();
    if !shared.has_env(&env) {
        return Err(WxError::new(-501005, "env not exists"));
    }
    Ok((body, env))
}

fn reply_of(result: Result<Value, WxError>) -> Reply {
    match result {
        Ok(body) => Reply::json(&body),
        Err(err) => err.reply(),
    }
}

/// A per-item failure; `url_key` names the empty link field, if the API has one.
fn item_error(file_id: &str, url_key: &str, status: i64, errmsg: &str) -> Value {
    let mut item = json!({ "fileid": file_id, "status": status, "errmsg": errmsg });
    if let Some(map) = item.as_object_mut().filter(|_| !url_key.is_empty()) {
        map.insert(url_key.to_owned(), Value::String(String::new()));
    }
    item
}

/// The batch array of a body, refused when missing, malformed or over 50 long.
fn batch_list<'a>(body: &'a Map<String, Value>, key: &str) -> Result<&'a Vec<Value>, WxError> {
    let items = body
        .get(key)
        .ok_or_else(|| missing(key))?
        .as_array()
        .ok_or_else(|| invalid_params(&format!("{key} must be an array")))?;
    if items.len() > MAX_BATCH {
        return Err(invalid_params(&format!(
            "{key} has more than {MAX_BATCH} items"
        )));
    }
    Ok(items)
}
