//! Cloud Base (TCB) storage (SPEC §3, §6): `uploadFile`, `downloadFile`,
//! `getTempFileURL`, `deleteFile`.
//!
//! This module owns what both transports share: the limits, the argument
//! checks, the start of an upload and of a download, and the result types.
//! The calls over the WeChat HTTP API live in `wechat`; over the TCB gateway
//! in `crate::gateway::storage`.

mod wechat;

#[cfg(test)]
mod tests;

use bytes::Bytes;
use reqwest::Method;

use crate::batch::{Answered, Asked};
use crate::client::{Client, Request, RequestBody, Target, TimeoutClass};
use crate::error::{BatchItemReport, ErrorKind, ItemState, WxError};
use crate::retry::Retry;
use crate::source::{Limit, Opened, Source};

pub use wechat::{delete_files, download_file, get_temp_file_urls, upload_file};

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

/// The start of every upload, over WeChat HTTP or the gateway: the cloud
/// path is checked, then the source opened (measured, and refused when over
/// `maxUploadBytes`) before anything is sent.
pub(crate) async fn open_upload(
    client: &Client,
    cloud_path: &str,
    content: Source,
) -> Result<Opened, WxError> {
    check_cloud_path(cloud_path)?;
    let limit = Limit::new(
        client.config().max_upload_bytes,
        "fileContent",
        "maxUploadBytes",
    );
    content.open(client, &limit).await
}

/// Every fileID of a batch call's `fileList`, checked before anything is sent.
pub(crate) fn check_file_list<'a>(file_ids: impl Iterator<Item = &'a str>) -> Result<(), WxError> {
    for (i, id) in file_ids.enumerate() {
        check_file_id(id, &format!("fileList[{i}]"))?;
    }
    Ok(())
}

/// The link lookup of a `downloadFile`: its one item, for a checked fileID.
pub(crate) fn download_link_item(file_id: &str) -> Result<TempUrlItem, WxError> {
    check_file_id(file_id, "fileID")?;
    Ok(TempUrlItem {
        file_id: file_id.to_string(),
        max_age: DOWNLOAD_LINK_MAX_AGE,
    })
}

/// The link a `downloadFile` fetches: the one item `lookup` answered, refused
/// when there is none or when it failed for `file_id`.
pub(crate) fn download_link(
    links: Vec<TempUrl>,
    lookup: &str,
    file_id: &str,
) -> Result<String, WxError> {
    let link = links
        .into_iter()
        .next()
        .ok_or_else(|| WxError::http_status(200, format!("{lookup} returned no item")))?;
    if link.status != 0 || link.temp_file_url.is_empty() {
        return Err(WxError::new(
            ErrorKind::WxApi,
            link.status,
            format!("{} ({file_id})", link.err_msg),
        ));
    }
    Ok(link.temp_file_url)
}

/// The `GET` of the link a `downloadFile` fetches, bounded by `maxDownloadBytes`.
pub(crate) fn download_request(client: &Client, url: String) -> Request {
    Request {
        method: Method::GET,
        target: Target::Absolute(url),
        query: Vec::new(),
        body: RequestBody::Empty,
        timeout: TimeoutClass::Transfer,
        max_reply_bytes: client.config().max_download_bytes,
        // A GET of a temporary link: safe to send again.
        retry: Retry::Idempotent,
    }
}

/// What `uploadFile` resolves with.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadedFile {
    pub file_id: String,
    /// The real COS HTTP status (204 normally).
    pub status_code: u16,
}

/// MIME type from the magic bytes; `application/octet-stream` when unknown.
pub fn sniff_mime(data: &[u8]) -> &'static str {
    infer::get(data).map_or("application/octet-stream", |k| k.mime_type())
}

/// What `downloadFile` resolves with.
#[derive(Debug, Clone)]
pub struct DownloadedFile {
    pub content: Bytes,
    pub status_code: u16,
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
