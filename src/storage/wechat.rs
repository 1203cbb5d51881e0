//! Storage over the WeChat HTTP API: `/tcb/uploadfile` then the COS form
//! POST, `/tcb/batchdownloadfile` (links, and the download through one),
//! `/tcb/batchdeletefile`.

use bytes::Bytes;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    check_file_list, download_link, download_link_item, download_request, open_upload, sniff_mime,
    Deleted, DownloadedFile, TempUrl, TempUrlItem, UploadedFile,
};
use crate::batch::{in_batches, item_outcome, match_by_file_id, reply_items};
use crate::client::{Client, Request, RequestBody, Target, TimeoutClass, MAX_JSON_REPLY_BYTES};
use crate::cos::{cos_error, parse_cos_error};
use crate::error::{WxError, LOCAL_ERR_CODE};
use crate::multipart::MultipartBuilder;
use crate::retry::Retry;
use crate::source::Source;

#[derive(Debug, Deserialize)]
struct UploadTicket {
    url: String,
    token: String,
    authorization: String,
    file_id: String,
    cos_file_id: String,
}

/// `POST /tcb/uploadfile {env, path}`, then the COS form POST with `file` last.
pub async fn upload_file(
    client: &Client,
    env: &str,
    cloud_path: &str,
    content: Source,
) -> Result<UploadedFile, WxError> {
    let content = open_upload(client, cloud_path, content).await?;
    let body = json!({ "env": env, "path": cloud_path });
    let reply = client
        .call_api(
            // Asks for an upload ticket: no effect until the COS upload.
            Request::post_json("/tcb/uploadfile", Bytes::from(body.to_string())).idempotent(),
        )
        .await?;
    let ticket: UploadTicket = reply
        .json
        .and_then(|j| serde_json::from_value(j).ok())
        .ok_or_else(|| {
            WxError::http_status(
                reply.reply.status,
                "/tcb/uploadfile reply lacks url/token/authorization/file_id/cos_file_id",
            )
        })?;
    // COS credentials of this ticket: masked in anything reported from here on.
    client.secrets().add_recent(&ticket.token);
    client.secrets().add_recent(&ticket.authorization);
    let form = MultipartBuilder::new()
        .text("key", cloud_path)
        .text("Signature", &ticket.authorization)
        .text("x-cos-security-token", &ticket.token)
        .text("x-cos-meta-fileid", &ticket.cos_file_id);
    let filename = ascii_file_name(cloud_path);
    let mime = sniff_mime(&content.head);
    let form = form.finish_with("file", &filename, mime, content.payload, content.len);
    let request = Request {
        method: Method::POST,
        target: Target::Absolute(ticket.url),
        query: Vec::new(),
        body: RequestBody::Multipart(form),
        timeout: TimeoutClass::Transfer,
        max_reply_bytes: MAX_JSON_REPLY_BYTES,
        // The same bytes to the same key: sending twice stores them once.
        retry: Retry::Idempotent,
    };
    let reply = client.send(&request, None).await?;
    // An `<Error>` document is a failure whatever the status (COS has
    // answered 200 with one).
    if !reply.is_success() || parse_cos_error(&reply.body).is_some() {
        return Err(cos_error(&reply, "the COS upload"));
    }
    Ok(UploadedFile {
        file_id: ticket.file_id,
        status_code: reply.status,
    })
}

/// The last path segment, reduced to characters safe in any multipart parser.
pub(super) fn ascii_file_name(cloud_path: &str) -> String {
    let base = cloud_path.rsplit('/').next().unwrap_or(cloud_path);
    let safe: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.trim_matches(['_', '.']).is_empty() {
        "file".to_string()
    } else {
        safe
    }
}

/// A temp link through `/tcb/batchdownloadfile`, then GET it.
pub async fn download_file(
    client: &Client,
    env: &str,
    file_id: &str,
) -> Result<DownloadedFile, WxError> {
    let item = download_link_item(file_id)?;
    let links = temp_url_batch(client, env, &[item]).await?;
    let url = download_link(links, "/tcb/batchdownloadfile", file_id)?;
    let request = download_request(client, url);
    let reply = client.send(&request, None).await?;
    if !reply.is_success() {
        return Err(cos_error(&reply, "the download"));
    }
    Ok(DownloadedFile {
        status_code: reply.status,
        content: reply.body,
    })
}

/// Links for any number of files: batches of 50, a few in flight, results
/// in input order; per-item failures are items with `status` ≠ 0.
pub async fn get_temp_file_urls(
    client: &Client,
    env: &str,
    items: Vec<TempUrlItem>,
) -> Result<Vec<TempUrl>, WxError> {
    check_file_list(items.iter().map(|i| i.file_id.as_str()))?;
    in_batches(items, |batch| async move {
        temp_url_batch(client, env, &batch).await
    })
    .await
}

async fn temp_url_batch(
    client: &Client,
    env: &str,
    items: &[TempUrlItem],
) -> Result<Vec<TempUrl>, WxError> {
    let list: Vec<Value> = items
        .iter()
        .map(|i| json!({ "fileid": i.file_id, "max_age": i.max_age }))
        .collect();
    let body = json!({ "env": env, "file_list": list });
    // A lookup: safe to repeat.
    let request =
        Request::post_json("/tcb/batchdownloadfile", Bytes::from(body.to_string())).idempotent();
    let reply = client.call_api(request).await?;
    let answered = reply_items(reply.json.as_ref(), "file_list")?;
    let asked: Vec<&str> = items.iter().map(|i| i.file_id.as_str()).collect();
    Ok(items
        .iter()
        .zip(match_by_file_id(&asked, answered))
        .map(|(asked, got)| {
            let (mut status, mut err_msg) = item_outcome(got);
            let url = got
                .and_then(|g| g.get("download_url"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if status == 0 && url.is_empty() {
                status = LOCAL_ERR_CODE;
                err_msg = "the reply has no download_url for this fileID".to_string();
            }
            TempUrl {
                file_id: asked.file_id.clone(),
                temp_file_url: if status == 0 {
                    url.to_string()
                } else {
                    String::new()
                },
                max_age: asked.max_age,
                status,
                err_msg,
            }
        })
        .collect())
}

pub async fn delete_files(
    client: &Client,
    env: &str,
    file_ids: Vec<String>,
) -> Result<Vec<Deleted>, WxError> {
    check_file_list(file_ids.iter().map(String::as_str))?;
    in_batches(file_ids, |batch| async move {
        let body = json!({ "env": env, "fileid_list": batch });
        // Not repeated blindly: a second delete of files the first one
        // removed would report them as missing. Only provably unsent
        // attempts are repeated.
        let request = Request::post_json("/tcb/batchdeletefile", Bytes::from(body.to_string()));
        let reply = client.call_api(request).await?;
        let answered = reply_items(reply.json.as_ref(), "delete_list")?;
        let asked: Vec<&str> = batch.iter().map(String::as_str).collect();
        let matched = match_by_file_id(&asked, answered);
        Ok(batch
            .iter()
            .zip(matched)
            .map(|(file_id, got)| {
                let (status, err_msg) = item_outcome(got);
                Deleted {
                    file_id: file_id.clone(),
                    status,
                    err_msg,
                }
            })
            .collect())
    })
    .await
}
