//! Cloud Base storage over the gateway (research §4.1–4.4): the same results
//! as the WeChat-HTTP storage, with an exact Content-Length on the COS PUT,
//! the real COS status, and batches of at most 50 matched by fileID.

use reqwest::Method;
use serde_json::{json, Value};

use super::admin::{call_json, tcb_err_code};
use super::context::Invocation;
use super::params::{Param, Params};
use crate::batch::{self, in_batches};
use crate::client::{read_body, transport_error, Client, Reply, MAX_JSON_REPLY_BYTES};
use crate::cos::{cos_error, parse_cos_error};
use crate::error::{errcode_text, ErrorKind, WxError, STORAGE_REQUEST_FAIL};
use crate::multipart::raw_body;
use crate::source::Source;
use crate::storage::{
    check_file_list, download_link, download_link_item, download_request, open_upload, Deleted,
    DownloadedFile, TempUrl, TempUrlItem, UploadedFile,
};

fn action(name: &str) -> Params {
    let mut params = Params::default();
    params.text("action", name);
    params
}

fn data_str<'a>(data: &'a Value, key: &str) -> Result<&'a str, WxError> {
    data.get(key).and_then(Value::as_str).ok_or_else(|| {
        WxError::http_status(
            200,
            format!("storage.getUploadMetadata reply lacks data.{key}"),
        )
    })
}

/// `storage.getUploadMetadata`, then `PUT` the bytes to COS.
pub async fn upload_file(
    client: &Client,
    inv: &Invocation,
    cloud_path: &str,
    content: Source,
) -> Result<UploadedFile, WxError> {
    let content = open_upload(client, cloud_path, content).await?;
    let mut params = action("storage.getUploadMetadata");
    params.text("path", cloud_path);
    params.text("method", "put");
    let reply = call_json(client, inv, params).await?;
    let data = reply.get("data").cloned().unwrap_or(Value::Null);
    let url = data_str(&data, "url")?;
    let authorization = data_str(&data, "authorization")?;
    for secret in [authorization, data_str(&data, "token")?] {
        client.secrets().add_recent(secret);
    }
    let key: String = cloud_path
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let (body, len) = (raw_body(&content.payload, content.len), content.len);
    let timeout = client.config().timeouts.transfer;
    let request = client
        .http()?
        .request(Method::PUT, url)
        .timeout(timeout)
        .header("Signature", authorization)
        .header("x-cos-security-token", data_str(&data, "token")?)
        .header("x-cos-meta-fileid", data_str(&data, "cosFileId")?)
        .header("authorization", authorization)
        .header("key", key)
        .header(reqwest::header::CONTENT_LENGTH, len)
        .body(body);
    let reply = {
        let _permit = client.permit().await?;
        let mut response = request
            .send()
            .await
            .map_err(|e| transport_error(e, "the COS upload", timeout))?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let body = read_body(
            response,
            MAX_JSON_REPLY_BYTES,
            "the COS upload",
            timeout,
            None,
        )
        .await?;
        Reply {
            status,
            headers,
            body,
        }
    };
    // A COS `<Error>` document is a failure whatever the status.
    if parse_cos_error(&reply.body).is_some() || !reply.is_success() {
        let mut err = cos_error(&reply, "the COS upload");
        if err.kind != ErrorKind::Cos {
            err = WxError::new(
                ErrorKind::Cos,
                STORAGE_REQUEST_FAIL,
                format!("the COS upload answered HTTP {}", reply.status),
            )
            .with_status(reply.status);
        }
        return Err(err);
    }
    Ok(UploadedFile {
        file_id: data_str(&data, "fileId")?.to_string(),
        status_code: reply.status,
    })
}

/// One batch item's outcome: `SUCCESS` (or no code) is status 0; an asked
/// fileID the reply did not answer is that item's failure.
fn outcome(item: Option<&Value>) -> (i64, String) {
    let Some(item) = item else {
        return batch::item_outcome(None);
    };
    match item.get("code").and_then(Value::as_str) {
        None | Some("") | Some("SUCCESS") => (0, "ok".to_string()),
        Some(code) => {
            let status = tcb_err_code(code);
            (status, errcode_text(status).to_string())
        }
    }
}

/// The reply's `data.<key>` items for the asked fileIDs, in the order asked,
/// matched by fileID with the shared batch helper (the gateway names the
/// field `fileID`, WeChat HTTP `fileid`).
fn answers(reply: &Value, key: &str, asked: &[&str]) -> Result<Vec<Option<Value>>, WxError> {
    let list = batch::reply_items(reply.get("data"), key)?;
    let keyed: Vec<Value> = list
        .iter()
        .map(|item| {
            let mut item = item.clone();
            let id = item.get("fileID").cloned();
            if let (Some(map), Some(id)) = (item.as_object_mut(), id) {
                map.insert("fileid".into(), id);
            }
            item
        })
        .collect();
    Ok(batch::match_by_file_id(asked, &keyed)
        .into_iter()
        .map(|v| v.cloned())
        .collect())
}

async fn temp_url_batch(
    client: &Client,
    inv: &Invocation,
    items: &[TempUrlItem],
) -> Result<Vec<TempUrl>, WxError> {
    let list: Vec<Value> = items
        .iter()
        .map(|i| json!({ "fileid": i.file_id, "max_age": i.max_age }))
        .collect();
    let mut params = action("storage.batchGetDownloadUrl");
    params.push("file_list", Param::Json(Value::Array(list)));
    let reply = call_json(client, inv, params).await?;
    let asked: Vec<&str> = items.iter().map(|i| i.file_id.as_str()).collect();
    let answered = answers(&reply, "download_list", &asked)?;
    Ok(items
        .iter()
        .zip(answered)
        .map(|(asked, got)| {
            let (status, err_msg) = outcome(got.as_ref());
            TempUrl {
                file_id: asked.file_id.clone(),
                temp_file_url: if status == 0 {
                    got.as_ref()
                        .and_then(|g| g.get("tempFileURL"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                } else {
                    String::new()
                },
                max_age: got
                    .as_ref()
                    .and_then(|g| g.get("maxAge"))
                    .and_then(Value::as_u64)
                    .unwrap_or(asked.max_age),
                status,
                err_msg,
            }
        })
        .collect())
}

pub async fn get_temp_file_urls(
    client: &Client,
    inv: &Invocation,
    items: Vec<TempUrlItem>,
) -> Result<Vec<TempUrl>, WxError> {
    check_file_list(items.iter().map(|i| i.file_id.as_str()))?;
    in_batches(items, |batch| async move {
        temp_url_batch(client, inv, &batch).await
    })
    .await
}

pub async fn delete_files(
    client: &Client,
    inv: &Invocation,
    file_ids: Vec<String>,
) -> Result<Vec<Deleted>, WxError> {
    check_file_list(file_ids.iter().map(String::as_str))?;
    in_batches(file_ids, |batch| async move {
        let mut params = action("storage.batchDeleteFile");
        params.push("fileid_list", Param::Json(json!(batch)));
        let reply = call_json(client, inv, params).await?;
        let asked: Vec<&str> = batch.iter().map(String::as_str).collect();
        let answered = answers(&reply, "delete_list", &asked)?;
        Ok(batch
            .iter()
            .zip(answered)
            .map(|(file_id, got)| {
                let (status, err_msg) = outcome(got.as_ref());
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

/// `encodeURI`: leaves `A-Za-z0-9;,/?:@&=+$-_.!~*'()#` alone, encodes the rest
/// (the gateway hands out raw links; wx-server-sdk encodes them this way).
fn encode_uri(url: &str) -> String {
    url.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b";,/?:@&=+$-_.!~*'()#".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A link through `storage.batchGetDownloadUrl`, then `GET` it.
pub async fn download_file(
    client: &Client,
    inv: &Invocation,
    file_id: &str,
) -> Result<DownloadedFile, WxError> {
    let item = download_link_item(file_id)?;
    let links = temp_url_batch(client, inv, &[item]).await?;
    let url = download_link(links, "storage.batchGetDownloadUrl", file_id)?;
    let request = download_request(client, encode_uri(&url));
    let reply = client.send(&request, None).await?;
    if reply.status != 200 {
        return Err(cos_error(&reply, "the download"));
    }
    Ok(DownloadedFile {
        status_code: reply.status,
        content: reply.body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_uri_is_javascripts() {
        assert_eq!(
            encode_uri("http://h:1/dl/a b/测?x=1&y=%"),
            "http://h:1/dl/a%20b/%E6%B5%8B?x=1&y=%25"
        );
    }

    #[test]
    fn items_are_matched_by_file_id_not_position() {
        let reply = json!({"data": {"delete_list": [
            {"fileID": "cloud://b", "code": "STORAGE_FILE_NONEXIST"},
            {"fileID": "cloud://a", "code": "SUCCESS"},
        ]}});
        let got = answers(
            &reply,
            "delete_list",
            &["cloud://a", "cloud://b", "cloud://c"],
        )
        .expect("ok");
        assert_eq!(outcome(got[0].as_ref()), (0, "ok".to_string()));
        assert_eq!(
            outcome(got[1].as_ref()),
            (-503003, "storage file not exists".to_string())
        );
        assert_eq!(outcome(got[2].as_ref()).0, -1);
    }
}
