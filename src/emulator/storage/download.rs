//! Temporary download links: signing them (`/tcb/batchdownloadfile`, the
//! gateway's `tempFileURL`) and serving them on the download host.

use hyper::header::ETAG;
use hyper::{Method, StatusCode};
use serde_json::{json, Value};

use super::super::http::{cos_error, cos_request_id, encode_path, Incoming, Reply, WxError};
use super::super::state::{lock, Shared};
use super::{
    batch_list, is_valid_cloud_path, item_error, parse_file_id, reply_of, tcb_body, StorageState,
    DEFAULT_MAX_AGE_SECS, DOWNLOAD_PREFIX, X_COS_REQUEST_ID,
};

/// A signed download link for a stored file, or the item's errcode.
/// `raw` leaves the path unencoded (the gateway's `tempFileURL`).
pub(crate) fn link_for(
    shared: &Shared,
    origin: &str,
    file_id: &str,
    max_age: u64,
    raw: bool,
) -> Result<String, i64> {
    let id = parse_file_id(shared, file_id).ok_or(-501007)?;
    let storage = lock(&shared.storage);
    if storage
        .objects
        .get(&(id.bucket.clone(), id.path.clone()))
        .is_none()
    {
        return Err(-503003);
    }
    let expires_at = shared.clock.now_secs() + max_age;
    let sign = storage.link_sign(&id.bucket, &id.path, expires_at);
    let path = if raw {
        id.path.clone()
    } else {
        encode_path(&id.path)
    };
    Ok(format!(
        "{origin}{DOWNLOAD_PREFIX}{}/{path}?sign={sign}&t={expires_at}",
        id.bucket
    ))
}

/// `POST /tcb/batchdownloadfile {env, file_list:[{fileid, max_age}]}`
pub(crate) fn handle_batch_download(shared: &Shared, req: &Incoming) -> Reply {
    reply_of(batch_download(shared, req))
}

fn batch_download(shared: &Shared, req: &Incoming) -> Result<Value, WxError> {
    let (body, _) = tcb_body(shared, req)?;
    let items = batch_list(&body, "file_list")?;
    let links = LinkMaker {
        origin: req.origin(&shared.base_url),
        now_secs: shared.clock.now_secs(),
    };
    let storage = lock(&shared.storage);
    let file_list: Vec<Value> = items
        .iter()
        .map(|item| links.item(shared, &storage, item))
        .collect();
    Ok(json!({ "errcode": 0, "errmsg": "ok", "file_list": file_list }))
}

/// Signs temporary download links for one batch.
struct LinkMaker {
    origin: String,
    now_secs: u64,
}

impl LinkMaker {
    /// One `file_list` answer item for a `{fileid, max_age}` request item.
    fn item(&self, shared: &Shared, storage: &StorageState, item: &Value) -> Value {
        let file_id = item
            .get("fileid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let max_age = item
            .get("max_age")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_MAX_AGE_SECS);
        let Some(id) = parse_file_id(shared, file_id) else {
            let msg = "invalid parameters, fileid is invalid";
            return item_error(file_id, "download_url", -501007, msg);
        };
        if storage
            .objects
            .get(&(id.bucket.clone(), id.path.clone()))
            .is_none()
        {
            return item_error(file_id, "download_url", -503003, "storage file not exists");
        }
        let expires_at = self.now_secs + max_age;
        let sign = storage.link_sign(&id.bucket, &id.path, expires_at);
        let url = format!(
            "{}{DOWNLOAD_PREFIX}{}/{}?sign={sign}&t={expires_at}",
            self.origin,
            id.bucket,
            encode_path(&id.path)
        );
        json!({ "fileid": file_id, "download_url": url, "status": 0, "errmsg": "ok" })
    }
}

/// `GET /tcb-dl/<bucket>/<path>?sign=&t=`: the temporary download link.
pub(crate) fn handle_download(shared: &Shared, req: &Incoming) -> Reply {
    let resource = req.path.clone();
    let deny = |msg: &str| cos_error(StatusCode::FORBIDDEN, "AccessDenied", msg, &resource);
    if req.method != Method::GET && req.method != Method::HEAD {
        let msg = "The specified method is not allowed against this resource.";
        return cos_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            msg,
            &resource,
        );
    }
    let Some((bucket, path)) = req.decoded_path_after(DOWNLOAD_PREFIX).and_then(|rest| {
        rest.split_once('/')
            .filter(|(_, p)| is_valid_cloud_path(p))
            .map(|(b, p)| (b.to_owned(), p.to_owned()))
    }) else {
        return cos_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
            &resource,
        );
    };
    let expires_at: Option<u64> = req.query_param("t").and_then(|t| t.parse().ok());
    let storage = lock(&shared.storage);
    let signed = expires_at
        .zip(req.query_param("sign"))
        .is_some_and(|(t, sign)| storage.link_sign(&bucket, &path, t) == sign);
    if !signed {
        return deny("Access Denied: the link signature is invalid.");
    }
    if expires_at.is_some_and(|t| shared.clock.now_secs() > t) {
        return deny("Request has expired");
    }
    match storage.objects.get(&(bucket, path)) {
        None => cos_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
            &resource,
        ),
        Some(object) => Reply::new(StatusCode::OK, &object.content_type, object.data.clone())
            .with_header(ETAG, &format!("\"{}\"", object.etag))
            .with_header(X_COS_REQUEST_ID, &cos_request_id()),
    }
}
