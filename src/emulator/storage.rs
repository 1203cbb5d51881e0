//! Cloud Base storage: `/tcb/uploadfile`, the COS POST Object form upload,
//! `/tcb/batchdownloadfile` with its download host, and `/tcb/batchdeletefile`.

use std::collections::HashMap;

use bytes::Bytes;
use hyper::header::{HeaderName, ETAG};
use hyper::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::http::{
    cos_error, cos_request_id, encode_path, random_string, sha256_hex, Incoming, Reply, WxError,
    HEX_LOWER, URL_SAFE,
};
use super::media::{once_stream, part_content_type};
use super::state::{lock, ByteStore, Shared, StoredLen};
use super::tokens::{authorize, parse_json_body};

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

/// `POST /tcb/uploadfile {env, path}`
pub(crate) fn handle_uploadfile(shared: &Shared, req: &Incoming) -> Reply {
    reply_of(upload_ticket(shared, req))
}

fn upload_ticket(shared: &Shared, req: &Incoming) -> Result<Value, WxError> {
    let (body, env) = tcb_body(shared, req)?;
    let path = body
        .get("path")
        .ok_or_else(|| missing("path"))?
        .as_str()
        .ok_or_else(|| invalid_params("cloud path is invalid"))?;
    crate::cloud_path::check(path)
        .map_err(|why| invalid_params(&format!("cloud path is invalid: {why}")))?;
    let t = issue_ticket(shared, &req.origin(&shared.base_url), &env, path);
    Ok(json!({
        "errcode": 0,
        "errmsg": "ok",
        "url": t.url,
        "token": t.token,
        "authorization": t.authorization,
        "file_id": t.file_id,
        "cos_file_id": t.cos_file_id,
    }))
}

/// What an upload ticket hands the client.
pub(crate) struct IssuedTicket {
    pub(crate) url: String,
    pub(crate) token: String,
    pub(crate) authorization: String,
    pub(crate) file_id: String,
    pub(crate) cos_file_id: String,
}

/// A ticket for `path` in `env` (a valid cloud path), remembered for COS.
pub(crate) fn issue_ticket(shared: &Shared, origin: &str, env: &str, path: &str) -> IssuedTicket {
    let now = shared.clock.now_ms();
    let bucket = bucket_for(env);
    let authorization = cos_authorization(now / 1000);
    let ticket = Ticket {
        bucket: bucket.clone(),
        path: path.to_owned(),
        token: random_string(160, URL_SAFE),
        cos_file_id: random_string(96, URL_SAFE),
        issued_at_ms: now,
    };
    let issued = IssuedTicket {
        url: format!("{origin}{COS_PREFIX}{bucket}/{}", encode_path(path)),
        token: ticket.token.clone(),
        authorization: authorization.clone(),
        file_id: file_id_for(env, path),
        cos_file_id: ticket.cos_file_id.clone(),
    };
    lock(&shared.storage).add_ticket(authorization, ticket);
    issued
}

/// The COS PUT Object of the gateway flow: the ticket named by
/// `authorization` must match the bucket, the key and both tokens.
/// Returns the ETag, or a COS (code, message).
pub(crate) fn put_object(
    shared: &Shared,
    bucket: &str,
    headers: [Option<&str>; 4],
    data: Bytes,
) -> Result<String, (&'static str, &'static str)> {
    let [authorization, token, cos_file_id, key] = headers;
    let denied = ("AccessDenied", "Access Denied.");
    let mut storage = lock(&shared.storage);
    let ticket = storage
        .tickets
        .get(authorization.ok_or(denied)?)
        .ok_or((
            "SignatureDoesNotMatch",
            "The Signature you specified is invalid.",
        ))?
        .clone();
    if ticket.bucket != bucket
        || token != Some(ticket.token.as_str())
        || cos_file_id != Some(ticket.cos_file_id.as_str())
        || key != Some(ticket.path.as_str())
    {
        return Err(denied);
    }
    if shared.clock.now_ms() >= ticket.issued_at_ms + TICKET_TTL_MS {
        return Err(("AccessDenied", "Request has expired"));
    }
    let etag = sha256_hex(&data)[..32].to_owned();
    let content_type = super::media::sniff(&data)
        .map_or("application/octet-stream", |f| f.mime())
        .to_owned();
    storage.objects.insert(
        (ticket.bucket, ticket.path),
        StoredObject {
            data,
            content_type,
            etag: etag.clone(),
        },
    );
    Ok(etag)
}

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

/// Deletes a stored file, or the item's errcode.
pub(crate) fn delete_object(shared: &Shared, file_id: &str) -> Result<(), i64> {
    let id = parse_file_id(shared, file_id).ok_or(-501007)?;
    lock(&shared.storage)
        .objects
        .remove(&(id.bucket, id.path))
        .map(|_| ())
        .ok_or(-503003)
}

/// A COS v5 style signature string with a fresh random signature.
fn cos_authorization(now_secs: u64) -> String {
    let window = format!("{now_secs};{}", now_secs + TICKET_TTL_MS / 1000);
    format!(
        "q-sign-algorithm=sha1&q-ak=AKIDemu{}&q-sign-time={window}&q-key-time={window}&q-header-list=&q-url-param-list=&q-signature={}",
        random_string(29, URL_SAFE.split_at(62).0),
        random_string(40, HEX_LOWER)
    )
}

/// The fields of a COS POST Object form, `file` last.
#[derive(Debug)]
pub(crate) struct CosForm {
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) file_content_type: Option<String>,
    pub(crate) file: Bytes,
}

impl CosForm {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a POST Object form with multer. Like COS, refuses a form with no
/// `file` or with anything after it (`Err` means MalformedPOSTRequest).
pub(crate) async fn read_cos_form(content_type: Option<&str>, body: Bytes) -> Result<CosForm, ()> {
    let content_type = content_type.ok_or(())?;
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Err(());
    }
    let boundary = multer::parse_boundary(content_type).map_err(|_| ())?;
    let mut multipart = multer::Multipart::new(once_stream(body), boundary);
    let mut fields = Vec::new();
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| ())? {
        if file.is_some() {
            return Err(());
        }
        let name = field.name().ok_or(())?.to_owned();
        let part_type = part_content_type(&field);
        let data = field.bytes().await.map_err(|_| ())?;
        if name.eq_ignore_ascii_case("file") {
            file = Some((part_type, data));
        } else {
            fields.push((name, String::from_utf8_lossy(&data).into_owned()));
        }
    }
    let (file_content_type, file) = file.ok_or(())?;
    Ok(CosForm {
        fields,
        file_content_type,
        file,
    })
}

/// `POST /cos/<bucket>/<path>`: the second step of an upload.
pub(crate) async fn handle_cos_post(shared: &Shared, req: &Incoming) -> Reply {
    let resource = format!(
        "{}{}",
        req.header(hyper::header::HOST).unwrap_or_default(),
        req.path
    );
    match cos_post(shared, req, &resource).await {
        Ok(reply) | Err(reply) => reply,
    }
}

async fn cos_post(shared: &Shared, req: &Incoming, resource: &str) -> Result<Reply, Reply> {
    if req.method != Method::POST {
        let msg = "The specified method is not allowed against this resource.";
        return Err(cos_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            msg,
            resource,
        ));
    }
    if req.is_length_unknown() {
        let msg = "You must provide the Content-Length HTTP header.";
        return Err(cos_error(
            StatusCode::LENGTH_REQUIRED,
            "MissingContentLength",
            msg,
            resource,
        ));
    }
    let form = read_cos_form(req.content_type(), req.body.clone())
        .await
        .map_err(|_| {
            let msg = "The body of your POST request is not well-formed multipart/form-data.";
            cos_error(
                StatusCode::BAD_REQUEST,
                "MalformedPOSTRequest",
                msg,
                resource,
            )
        })?;
    let bucket = req
        .path
        .strip_prefix(COS_PREFIX)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    let now = shared.clock.now_ms();
    let mut storage = lock(&shared.storage);
    let ticket = check_form(&storage.tickets, bucket, &form, now)
        .map_err(|(code, msg)| cos_error(StatusCode::FORBIDDEN, code, msg, resource))?
        .clone();
    let object = stored_object(form, shared.opts.lean);
    let etag = format!("\"{}\"", object.etag);
    storage.objects.insert((ticket.bucket, ticket.path), object);
    Ok(Reply::empty(StatusCode::NO_CONTENT)
        .with_header(ETAG, &etag)
        .with_header(X_COS_REQUEST_ID, &cos_request_id()))
}

fn stored_object(form: CosForm, lean: bool) -> StoredObject {
    // Lean mode (benchmarks) skips hashing.
    let etag = if lean {
        random_string(32, HEX_LOWER)
    } else {
        sha256_hex(&form.file)[..32].to_owned()
    };
    // COS takes the object's type from a `Content-Type` form field, else the part.
    let content_type = form
        .field("Content-Type")
        .map(str::to_owned)
        .or(form.file_content_type)
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    StoredObject {
        data: form.file,
        content_type,
        etag,
    }
}

/// Matches a form against the ticket its `Signature` names: (COS code, message) on failure.
fn check_form<'a>(
    tickets: &'a HashMap<String, Ticket>,
    bucket: &str,
    form: &CosForm,
    now_ms: u64,
) -> Result<&'a Ticket, (&'static str, &'static str)> {
    let signature = form.field("Signature").ok_or((
        "AccessDenied",
        "Access Denied: the form has no Signature field.",
    ))?;
    let invalid_signature = (
        "SignatureDoesNotMatch",
        "The Signature you specified is invalid.",
    );
    let ticket = tickets.get(signature).ok_or(invalid_signature)?;
    if ticket.bucket != bucket {
        return Err(invalid_signature);
    }
    if now_ms >= ticket.issued_at_ms + TICKET_TTL_MS {
        return Err(("AccessDenied", "Request has expired"));
    }
    let expectations = [
        (
            "key",
            ticket.path.as_str(),
            "Access Denied: key is missing or does not match the upload ticket.",
        ),
        (
            "x-cos-security-token",
            ticket.token.as_str(),
            "Access Denied: x-cos-security-token is missing or invalid.",
        ),
        (
            "x-cos-meta-fileid",
            ticket.cos_file_id.as_str(),
            "Access Denied: x-cos-meta-fileid is missing or does not match the upload ticket.",
        ),
    ];
    for (field, expected, message) in expectations {
        if form.field(field) != Some(expected) {
            return Err(("AccessDenied", message));
        }
    }
    Ok(ticket)
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

/// `POST /tcb/batchdeletefile {env, fileid_list:[…]}`
pub(crate) fn handle_batch_delete(shared: &Shared, req: &Incoming) -> Reply {
    reply_of(batch_delete(shared, req))
}

fn batch_delete(shared: &Shared, req: &Incoming) -> Result<Value, WxError> {
    let (body, _) = tcb_body(shared, req)?;
    let items = batch_list(&body, "fileid_list")?;
    let mut storage = lock(&shared.storage);
    let delete_list: Vec<Value> = items
        .iter()
        .map(|item| {
            let file_id = item.as_str().unwrap_or_default();
            match parse_file_id(shared, file_id) {
                None => item_error(
                    file_id,
                    "",
                    -501007,
                    "invalid parameters, fileid is invalid",
                ),
                Some(id) => match storage.objects.remove(&(id.bucket, id.path)) {
                    Some(_) => json!({ "fileid": file_id, "status": 0, "errmsg": "ok" }),
                    None => item_error(file_id, "", -503003, "storage file not exists"),
                },
            }
        })
        .collect();
    Ok(json!({ "errcode": 0, "errmsg": "ok", "delete_list": delete_list }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> CosForm {
        CosForm {
            fields: fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            file_content_type: None,
            file: Bytes::from_static(b"x"),
        }
    }

    fn tickets() -> HashMap<String, Ticket> {
        let ticket = Ticket {
            bucket: "b".into(),
            path: "dir/a.txt".into(),
            token: "tok".into(),
            cos_file_id: "cfid".into(),
            issued_at_ms: 1000,
        };
        HashMap::from([("sig".to_owned(), ticket)])
    }

    fn check(fields: &[(&str, &str)], bucket: &str, now: u64) -> Result<(), &'static str> {
        let tickets = tickets();
        check_form(&tickets, bucket, &form(fields), now)
            .map(|_| ())
            .map_err(|(code, _)| code)
    }

    const GOOD: [(&str, &str); 4] = [
        ("key", "dir/a.txt"),
        ("Signature", "sig"),
        ("x-cos-security-token", "tok"),
        ("x-cos-meta-fileid", "cfid"),
    ];

    #[test]
    fn ticket_checks() {
        assert_eq!(check(&GOOD, "b", 2000), Ok(()));
        assert_eq!(check(&GOOD, "other", 2000), Err("SignatureDoesNotMatch"));
        assert_eq!(check(&GOOD, "b", 1000 + TICKET_TTL_MS), Err("AccessDenied"));
        let mut bad_sig = GOOD;
        bad_sig[1].1 = "nope";
        assert_eq!(check(&bad_sig, "b", 2000), Err("SignatureDoesNotMatch"));
        for (missing, _) in GOOD {
            let fields: Vec<_> = GOOD.into_iter().filter(|(n, _)| *n != missing).collect();
            assert!(check(&fields, "b", 2000).is_err(), "without {missing}");
        }
        let mut wrong_key = GOOD;
        wrong_key[0].1 = "dir/b.txt";
        assert_eq!(check(&wrong_key, "b", 2000), Err("AccessDenied"));
    }

    fn body(parts: &[&str]) -> Bytes {
        let mut body = String::new();
        for name in parts {
            body.push_str(&format!(
                "--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\nv\r\n"
            ));
        }
        body.push_str("--B--\r\n");
        Bytes::from(body)
    }

    #[tokio::test]
    async fn file_must_be_present_and_last() {
        let ct = Some("multipart/form-data; boundary=B");
        assert!(read_cos_form(ct, body(&["key", "Signature", "file"]))
            .await
            .is_ok());
        assert!(read_cos_form(ct, body(&["key", "file", "Signature"]))
            .await
            .is_err());
        assert!(read_cos_form(ct, body(&["key", "Signature"]))
            .await
            .is_err());
        assert!(read_cos_form(Some("text/plain"), body(&["file"]))
            .await
            .is_err());
        assert!(read_cos_form(ct, Bytes::from("--B\r\nbroken"))
            .await
            .is_err());
    }

    #[test]
    fn cloud_path_rules() {
        assert!(is_valid_cloud_path("a/b.png"));
        assert!(!is_valid_cloud_path(""));
        assert!(!is_valid_cloud_path("/a.png"));
        assert!(!is_valid_cloud_path("a\nb"));
        assert!(!is_valid_cloud_path(&"x".repeat(851)));
        assert!(!is_valid_cloud_path("x/../victim.bin"));
        assert!(!is_valid_cloud_path("./a.png"));
        assert!(!is_valid_cloud_path("a\u{202E}b"));
    }

    #[test]
    fn authorization_looks_like_cos() {
        let auth = cos_authorization(1_700_000_000);
        assert!(auth.starts_with("q-sign-algorithm=sha1&q-ak=AKIDemu"));
        assert!(auth.contains("&q-sign-time=1700000000;1700003600&q-key-time=1700000000;1700003600&q-header-list=&q-url-param-list=&q-signature="));
    }
}
