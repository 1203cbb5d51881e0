//! Cloud Base (TCB) storage over the WeChat HTTP API (SPEC §3, §6):
//! `uploadFile`, `downloadFile`, `getTempFileURL`, `deleteFile`.

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::client::{
    Client, Reply, Request, RequestBody, Target, TimeoutClass, MAX_JSON_REPLY_BYTES,
};
use crate::error::{ErrorKind, WxError, STORAGE_REQUEST_FAIL};
use crate::multipart::MultipartBuilder;
use crate::source::{Limit, Source};

pub const UPLOAD_API: &str = "uploadFile";
pub const DOWNLOAD_API: &str = "downloadFile";
pub const TEMP_URL_API: &str = "getTempFileURL";
pub const DELETE_API: &str = "deleteFile";

/// WeChat takes at most this many files per batch call.
pub const BATCH_LIMIT: usize = 50;
/// Batch calls of one request in flight at once.
const BATCH_CONCURRENCY: usize = 4;
/// `maxAge` when a `getTempFileURL` item gives none.
pub const DEFAULT_MAX_AGE: u64 = 86_400;
/// The longest link lifetime the server takes: "默认一天且最大不超过一天"
/// (default one day, at most one day), Cloud.getTempFileURL's documentation,
/// quoted in research/protocol.md §3.3. A longer `maxAge` is refused rather
/// than sent and silently shortened.
pub const MAX_MAX_AGE: u64 = 86_400;
/// Lifetime of the link `downloadFile` fetches through.
const DOWNLOAD_LINK_MAX_AGE: u64 = 600;
const MAX_CLOUD_PATH_BYTES: usize = 850;

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

pub fn check_cloud_path(path: &str) -> Result<(), WxError> {
    if path.is_empty() {
        return Err(WxError::invalid_param(
            "cloudPath is empty: pass a path such as 'images/a.png'",
        ));
    }
    if path.starts_with('/') {
        return Err(WxError::invalid_param(format!(
            "cloudPath must not start with '/': use '{}'",
            path.trim_start_matches('/')
        )));
    }
    if path.len() > MAX_CLOUD_PATH_BYTES {
        return Err(WxError::invalid_param(format!(
            "cloudPath is {} bytes long; the limit is {MAX_CLOUD_PATH_BYTES} bytes",
            path.len()
        )));
    }
    if path.chars().any(char::is_control) {
        return Err(WxError::invalid_param(
            "cloudPath contains control characters",
        ));
    }
    Ok(())
}

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
        .call_api(Request::post_json(
            "/tcb/uploadfile",
            Bytes::from(body.to_string()),
        ))
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
    };
    let reply = client.send(&request, None).await?;
    if !reply.is_success() {
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

#[derive(Debug, Deserialize)]
struct CosErrorDoc {
    #[serde(rename = "Code")]
    code: Option<String>,
    #[serde(rename = "Message")]
    message: Option<String>,
    #[serde(rename = "RequestId")]
    request_id: Option<String>,
}

/// A COS failure: `COS_ERROR` with `[Code]: Message` and the RequestId when the
/// body is COS's `<Error>` XML, else `HTTP_STATUS`.
fn cos_error(reply: &Reply, step: &str) -> WxError {
    let text = String::from_utf8_lossy(&reply.body);
    match quick_xml::de::from_str::<CosErrorDoc>(&text) {
        Ok(doc) if doc.code.is_some() => {
            let code = doc.code.unwrap_or_default();
            let mut err = WxError::new(
                ErrorKind::Cos,
                STORAGE_REQUEST_FAIL,
                format!(
                    "[{code}]: {} (HTTP {}{})",
                    doc.message.unwrap_or_default(),
                    reply.status,
                    doc.request_id
                        .as_deref()
                        .map(|id| format!(", RequestId {id}"))
                        .unwrap_or_default()
                ),
            )
            .with_status(reply.status);
            err.request_id = doc.request_id;
            err
        }
        _ => WxError::http_status(
            reply.status,
            format!("{step} answered HTTP {}", reply.status),
        ),
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
    let answered = batch_call(
        client,
        "/tcb/batchdownloadfile",
        body,
        "file_list",
        items.len(),
    )
    .await?;
    Ok(items
        .iter()
        .zip(answered)
        .map(|(asked, got)| {
            let (status, err_msg) = item_outcome(&got);
            TempUrl {
                file_id: asked.file_id.clone(),
                temp_file_url: if status == 0 {
                    got.get("download_url")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
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
        let answered = batch_call(
            client,
            "/tcb/batchdeletefile",
            body,
            "delete_list",
            batch.len(),
        )
        .await?;
        Ok(batch
            .into_iter()
            .zip(answered)
            .map(|(file_id, got)| {
                let (status, err_msg) = item_outcome(&got);
                Deleted {
                    file_id,
                    status,
                    err_msg,
                }
            })
            .collect())
    })
    .await
}

/// Splits `items` into calls of at most [`BATCH_LIMIT`], runs a few at once,
/// and concatenates the results in input order.
async fn in_batches<T, R, F, Fut>(items: Vec<T>, call: F) -> Result<Vec<R>, WxError>
where
    F: Fn(Vec<T>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<R>, WxError>>,
{
    let mut batches = Vec::with_capacity(items.len().div_ceil(BATCH_LIMIT));
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        batches.push(items.by_ref().take(BATCH_LIMIT).collect::<Vec<_>>());
    }
    let results: Vec<Vec<R>> = futures_util::stream::iter(batches.into_iter().map(call))
        .buffered(BATCH_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(results.into_iter().flatten().collect())
}

/// POSTs one batch call; its per-item answers, one per item asked.
async fn batch_call(
    client: &Client,
    path: &'static str,
    body: Value,
    key: &str,
    expected: usize,
) -> Result<Vec<Value>, WxError> {
    let reply = client
        .call_api(Request::post_json(path, Bytes::from(body.to_string())))
        .await?;
    batch_items(reply.json.as_ref(), key, expected)
}

/// `status` and `errMsg` of one answered item.
fn item_outcome(item: &Value) -> (i64, String) {
    let status = item.get("status").and_then(Value::as_i64).unwrap_or(-1);
    (status, item_err_msg(item, status))
}

/// The per-item array of a batch reply, which must answer every item asked.
fn batch_items(json: Option<&Value>, key: &str, expected: usize) -> Result<Vec<Value>, WxError> {
    let list = json
        .and_then(|j| j.get(key))
        .and_then(Value::as_array)
        .ok_or_else(|| WxError::http_status(200, format!("batch reply has no {key}")))?;
    if list.len() != expected {
        return Err(WxError::http_status(
            200,
            format!("batch reply answered {} of {expected} items", list.len()),
        ));
    }
    Ok(list.clone())
}

fn item_err_msg(item: &Value, status: i64) -> String {
    match item.get("errmsg").and_then(Value::as_str) {
        Some(msg) if !msg.is_empty() => msg.to_string(),
        _ if status == 0 => "ok".to_string(),
        _ => crate::error::errcode_text(status).to_string(),
    }
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

    #[test]
    fn cos_xml_errors_are_parsed() {
        let reply = Reply {
            status: 403,
            headers: Default::default(),
            body: Bytes::from_static(
                b"<?xml version='1.0' encoding='utf-8' ?>\n<Error>\n<Code>AccessDenied</Code>\n<Message>Request has expired</Message>\n<Resource>/b/k</Resource>\n<RequestId>RID1</RequestId>\n<TraceId>T</TraceId>\n</Error>",
            ),
        };
        let e = cos_error(&reply, "x");
        assert_eq!(e.kind, ErrorKind::Cos);
        assert!(
            e.detail.starts_with("[AccessDenied]: Request has expired"),
            "{}",
            e.detail
        );
        assert_eq!(e.request_id.as_deref(), Some("RID1"));
        let plain = Reply {
            status: 502,
            headers: Default::default(),
            body: Bytes::from_static(b"bad gateway"),
        };
        assert_eq!(cos_error(&plain, "x").kind, ErrorKind::HttpStatus);
    }

    #[tokio::test]
    async fn batches_keep_order() {
        let items: Vec<u32> = (0..120).collect();
        let sizes = std::sync::Mutex::new(Vec::new());
        let out = in_batches(items, |b| {
            sizes.lock().expect("lock").push(b.len());
            async move { Ok(b) }
        })
        .await
        .expect("ok");
        assert_eq!(out, (0..120).collect::<Vec<_>>());
        assert_eq!(*sizes.lock().expect("lock"), vec![50, 50, 20]);
    }
}
