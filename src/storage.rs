//! Cloud Base (TCB) storage over the WeChat HTTP API (SPEC §3, §6):
//! `uploadFile`, `downloadFile`, `getTempFileURL`, `deleteFile`.

use bytes::Bytes;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::batch::{in_batches, item_outcome, match_by_file_id, reply_items, Answered, Asked};
use crate::client::{Client, Request, RequestBody, Target, TimeoutClass, MAX_JSON_REPLY_BYTES};
use crate::cos::{cos_error, parse_cos_error};
use crate::error::{BatchItemReport, ErrorKind, ItemState, WxError, LOCAL_ERR_CODE};
use crate::multipart::MultipartBuilder;
use crate::retry::Retry;
use crate::source::{Limit, Source};

pub const UPLOAD_API: &str = "uploadFile";
pub const DOWNLOAD_API: &str = "downloadFile";
pub const TEMP_URL_API: &str = "getTempFileURL";
pub const DELETE_API: &str = "deleteFile";

pub use crate::batch::BATCH_LIMIT;
/// `maxAge` when a `getTempFileURL` item gives none.
pub const DEFAULT_MAX_AGE: u64 = 86_400;
/// The longest link lifetime the server takes: "默认一天且最大不超过一天"
/// (default one day, at most one day), Cloud.getTempFileURL's documentation,
/// quoted in research/protocol.md §3.3. A longer `maxAge` is refused rather
/// than sent and silently shortened.
pub const MAX_MAX_AGE: u64 = 86_400;
/// Lifetime of the link `downloadFile` fetches through.
pub(crate) const DOWNLOAD_LINK_MAX_AGE: u64 = 600;

/// The env a call uses: the call's `config.env`, else the client's.
pub fn resolve_env(call_env: Option<String>, client: &Client) -> Result<String, WxError> {
    call_env
        .or_else(|| client.config().env_now())
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| {
            WxError::invalid_param(
                "no Cloud Base env: pass config: { env } to this call, env to init() or new WxClient(), or set TCB_ENV",
            )
        })
}

pub use crate::cloud_path::check_cloud_path;

pub fn check_file_id(file_id: &str, what: &str) -> Result<(), WxError> {
    if !file_id.starts_with("cloud://") || file_id.len() <= "cloud://".len() {
        return Err(WxError::invalid_param(format!(
            "{what} must be a fileID starting with 'cloud://' (as uploadFile returns), got '{}'",
            file_id.chars().take(100).collect::<String>()
        )));
    }
    if file_id.chars().any(char::is_control) {
        return Err(WxError::invalid_param(format!(
            "{what} contains control characters"
        )));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct UploadTicket {
    url: String,
    token: String,
    authorization: String,
    file_id: String,
    cos_file_id: String,
}

/// What `uploadFile` resolves with.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadedFile {
    pub file_id: String,
    /// The real COS HTTP status (204 normally).
    pub status_code: u16,
}

/// `POST /tcb/uploadfile {env, path}`, then the COS form POST with `file` last.
pub async fn upload_file(
    client: &Client,
    env: &str,
    cloud_path: &str,
    content: Source,
) -> Result<UploadedFile, WxError> {
    check_cloud_path(cloud_path)?;
    // Opened (measured, and refused when too big) before anything is sent.
    let limit = Limit::new(
        client.config().max_upload_bytes,
        "fileContent",
        "maxUploadBytes",
    );
    let content = content.open(client, &limit).await?;
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

/// MIME type from the magic bytes; `application/octet-stream` when unknown.
pub fn sniff_mime(data: &[u8]) -> &'static str {
    infer::get(data).map_or("application/octet-stream", |k| k.mime_type())
}

/// The last path segment, reduced to characters safe in any multipart parser.
fn ascii_file_name(cloud_path: &str) -> String {
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

/// What `downloadFile` resolves with.
#[derive(Debug, Clone)]
pub struct DownloadedFile {
    pub content: Bytes,
    pub status_code: u16,
}

/// A temp link through `/tcb/batchdownloadfile`, then GET it.
pub async fn download_file(
    client: &Client,
    env: &str,
    file_id: &str,
) -> Result<DownloadedFile, WxError> {
    check_file_id(file_id, "fileID")?;
    let item = TempUrlItem {
        file_id: file_id.to_string(),
        max_age: DOWNLOAD_LINK_MAX_AGE,
    };
    let links = temp_url_batch(client, env, &[item]).await?;
    let link = links
        .into_iter()
        .next()
        .ok_or_else(|| WxError::http_status(200, "/tcb/batchdownloadfile returned no item"))?;
    if link.status != 0 || link.temp_file_url.is_empty() {
        return Err(WxError::new(
            ErrorKind::WxApi,
            link.status,
            format!("{} ({file_id})", link.err_msg),
        ));
    }
    let request = Request {
        method: Method::GET,
        target: Target::Absolute(link.temp_file_url),
        query: Vec::new(),
        body: RequestBody::Empty,
        timeout: TimeoutClass::Transfer,
        max_reply_bytes: client.config().max_download_bytes,
        retry: Retry::Idempotent,
    };
    let reply = client.send(&request, None).await?;
    if !reply.is_success() {
        return Err(cos_error(&reply, "the download"));
    }
    Ok(DownloadedFile {
        status_code: reply.status,
        content: reply.body,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct TempUrlItem {
    pub file_id: String,
    pub max_age: u64,
}

/// One `getTempFileURL` result item.
#[derive(Debug, Clone, PartialEq)]
pub struct TempUrl {
    pub file_id: String,
    pub temp_file_url: String,
    pub max_age: u64,
    pub status: i64,
    pub err_msg: String,
}

impl Asked for TempUrlItem {
    fn file_id(&self) -> &str {
        &self.file_id
    }
}

impl Answered for TempUrl {
    fn report(&self) -> BatchItemReport {
        BatchItemReport {
            file_id: self.file_id.clone(),
            state: ItemState::Done,
            status: self.status,
            err_msg: self.err_msg.clone(),
            temp_file_url: Some(self.temp_file_url.clone()),
        }
    }
}

/// Links for any number of files: batches of 50, a few in flight, results
/// in input order; per-item failures are items with `status` ≠ 0.
pub async fn get_temp_file_urls(
    client: &Client,
    env: &str,
    items: Vec<TempUrlItem>,
) -> Result<Vec<TempUrl>, WxError> {
    for (i, item) in items.iter().enumerate() {
        check_file_id(&item.file_id, &format!("fileList[{i}]"))?;
    }
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

/// One `deleteFile` result item.
#[derive(Debug, Clone, PartialEq)]
pub struct Deleted {
    pub file_id: String,
    pub status: i64,
    pub err_msg: String,
}

impl Answered for Deleted {
    fn report(&self) -> BatchItemReport {
        BatchItemReport {
            file_id: self.file_id.clone(),
            state: ItemState::Done,
            status: self.status,
            err_msg: self.err_msg.clone(),
            temp_file_url: None,
        }
    }
}

pub async fn delete_files(
    client: &Client,
    env: &str,
    file_ids: Vec<String>,
) -> Result<Vec<Deleted>, WxError> {
    for (i, id) in file_ids.iter().enumerate() {
        check_file_id(id, &format!("fileList[{i}]"))?;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_path_rules() {
        assert!(check_cloud_path("a/b.png").is_ok());
        assert!(check_cloud_path("").is_err());
        assert!(check_cloud_path("/a")
            .expect_err("slash")
            .detail
            .contains("use 'a'"));
        assert!(check_cloud_path(&"x".repeat(851)).is_err());
        assert!(check_cloud_path(&"x".repeat(850)).is_ok());
        assert!(check_cloud_path("a\nb").is_err());
    }

    #[test]
    fn file_id_rules() {
        assert!(check_file_id("cloud://env.bucket/a.png", "fileID").is_ok());
        assert!(check_file_id("https://x", "fileID").is_err());
        assert!(check_file_id("cloud://", "fileID").is_err());
    }

    #[test]
    fn file_names_are_ascii() {
        assert_eq!(ascii_file_name("dir/图片 1.png"), "___1.png");
        assert_eq!(ascii_file_name("dir/图片"), "file");
        assert_eq!(ascii_file_name("a.txt"), "a.txt");
    }
}
