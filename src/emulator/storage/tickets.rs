//! Upload tickets: `/tcb/uploadfile` hands them out (with a COS-shaped
//! authorization), and the gateway flow's COS PUT Object redeems them.

use bytes::Bytes;
use serde_json::{json, Value};

use super::super::http::{
    encode_path, random_string, sha256_hex, Incoming, Reply, WxError, HEX_LOWER, URL_SAFE,
};
use super::super::state::{lock, Shared};
use super::{
    bucket_for, file_id_for, invalid_params, missing, reply_of, tcb_body, StoredObject, Ticket,
    COS_PREFIX, TICKET_TTL_MS,
};

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
    let content_type = super::super::media::sniff(&data)
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

/// A COS v5 style signature string with a fresh random signature.
pub(super) fn cos_authorization(now_secs: u64) -> String {
    let window = format!("{now_secs};{}", now_secs + TICKET_TTL_MS / 1000);
    format!(
        "q-sign-algorithm=sha1&q-ak=AKIDemu{}&q-sign-time={window}&q-key-time={window}&q-header-list=&q-url-param-list=&q-signature={}",
        random_string(29, URL_SAFE.split_at(62).0),
        random_string(40, HEX_LOWER)
    )
}
