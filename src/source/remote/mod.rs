//! Remote sources: `{ url }`, `{ mediaId }` (through `media/get`) and
//! `{ fileID }` (through its download link), fetched with the client's HTTP
//! stack (proxy, CA, timeouts) but outside its concurrency limit, since the
//! upload they feed already holds a slot.
//!
//! With a Content-Length the body is streamed through with that length (its
//! first bytes read ahead for sniffing); without one it is buffered up to the
//! limit. Messages name a URL without its query string, which may hold a
//! signature, and never the token of a `media/get` URL.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::Value;

use super::body::{IoStream, Reopen, StreamPayload};
use super::{Limit, Opened, Payload, HEAD_BYTES};
use crate::client::{errcode_of, Client};
use crate::error::{is_token_errcode, ErrorKind, WxError};
use crate::storage::{self, TempUrlItem};

/// Bytes read ahead of a streamed source to sniff its content type.
const SNIFF_BYTES: usize = 512;
/// A JSON reply of `media/get` (an error, or a video's URL) is small.
const MAX_JSON_BYTES: usize = 64 * 1024;
/// Lifetime asked for the download link of a `{ fileID }` source.
const LINK_MAX_AGE: u64 = 600;

/// `scheme://host[:port]/path`: no user info, query or fragment.
pub(crate) fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default(),
            u.path()
        ),
        Err(_) => "(an invalid URL)".to_string(),
    }
}

/// What one GET of a source needs; cheap to clone into a re-opener.
#[derive(Clone)]
struct Fetch {
    http: reqwest::Client,
    url: reqwest::Url,
    headers: Vec<(String, String)>,
    timeout: Duration,
    /// How messages name the source.
    name: String,
}

impl Fetch {
    async fn get(&self) -> Result<reqwest::Response, WxError> {
        let mut builder = self.http.get(self.url.clone()).timeout(self.timeout);
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let response = builder.send().await.map_err(|e| self.failure(e))?;
        let status = response.status().as_u16();
        if !response.status().is_success() {
            return Err(WxError::source(
                Some(status),
                format!("{} answered HTTP {status}", self.name),
            ));
        }
        Ok(response)
    }

    fn failure(&self, e: reqwest::Error) -> WxError {
        if e.is_timeout() {
            return WxError::source(
                None,
                format!(
                    "{} timed out after {} ms",
                    self.name,
                    self.timeout.as_millis()
                ),
            );
        }
        let e = e.without_url();
        let mut detail = format!("fetching {} failed: {e}", self.name);
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            detail.push_str(": ");
            detail.push_str(&c.to_string());
            cause = c.source();
        }
        WxError::source(None, detail)
    }

    /// Opens the source again for a replay; it must still announce a length.
    fn reopener(&self) -> Reopen {
        let fetch = self.clone();
        Box::new(move || {
            let fetch = fetch.clone();
            Box::pin(async move {
                let response = fetch.get().await?;
                let len = response.content_length().ok_or_else(|| {
                    WxError::source(
                        None,
                        format!("{} no longer announces its length on a replay", fetch.name),
                    )
                })?;
                Ok((len, body_stream(response)))
            })
        })
    }
}

fn body_stream(response: reqwest::Response) -> IoStream {
    response
        .bytes_stream()
        .map_err(|e| std::io::Error::other(e.without_url()))
        .boxed()
}

fn fetch_for(
    client: &Client,
    url: &str,
    headers: Vec<(String, String)>,
    what: &str,
) -> Result<Fetch, WxError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| WxError::invalid_param(format!("{what}.url is not a valid URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(WxError::invalid_param(format!(
            "{what}.url must be an http: or https: URL, got '{}:'",
            parsed.scheme()
        )));
    }
    Ok(Fetch {
        http: client.http()?,
        name: format!("the source {}", redacted_url(url)),
        url: parsed,
        headers,
        timeout: client.config().timeouts.transfer,
    })
}

pub(super) async fn open_url(
    client: &Client,
    url: String,
    headers: Vec<(String, String)>,
    limit: &Limit,
) -> Result<Opened, WxError> {
    let fetch = fetch_for(client, &url, headers, limit.what)?;
    let response = fetch.get().await?;
    from_response(&fetch, response, limit).await
}

/// Streams a response with a length through; buffers one without.
async fn from_response(
    fetch: &Fetch,
    response: reqwest::Response,
    limit: &Limit,
) -> Result<Opened, WxError> {
    let Some(len) = response.content_length() else {
        return buffered(fetch, response, limit).await;
    };
    limit.check(len)?;
    let mut body = body_stream(response);
    let mut ahead = Vec::new();
    let mut have = 0usize;
    while (have as u64) < len.min(SNIFF_BYTES as u64) {
        match body.next().await {
            Some(Ok(chunk)) => {
                have += chunk.len();
                ahead.push(chunk);
            }
            Some(Err(e)) => {
                return Err(WxError::source(
                    None,
                    format!("{} failed after {have} of {len} bytes: {e}", fetch.name),
                ))
            }
            None => break,
        }
    }
    let head = concat(&ahead, HEAD_BYTES);
    let replayed = futures_util::stream::iter(ahead.into_iter().map(Ok));
    let first: IoStream = replayed.chain(body).boxed();
    let payload = StreamPayload::new(len, fetch.name.clone(), first, fetch.reopener());
    Ok(Opened {
        len,
        head,
        payload: Payload::Stream(Arc::new(payload)),
    })
}

fn concat(chunks: &[Bytes], max: usize) -> Bytes {
    match chunks {
        [one] => one.slice(..one.len().min(max)),
        _ => {
            let mut buf = BytesMut::new();
            for c in chunks {
                let room = max - buf.len();
                buf.extend_from_slice(&c[..c.len().min(room)]);
            }
            buf.freeze()
        }
    }
}

/// A source without a Content-Length, held in memory up to the limit.
async fn buffered(
    fetch: &Fetch,
    response: reqwest::Response,
    limit: &Limit,
) -> Result<Opened, WxError> {
    let mut body = body_stream(response);
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            WxError::source(
                None,
                format!("{} failed after {} bytes: {e}", fetch.name, buf.len()),
            )
        })?;
        if buf.len() as u64 + chunk.len() as u64 > limit.max {
            return Err(limit.exceeded(&format!("more than {}", limit.max)));
        }
        buf.extend_from_slice(&chunk);
    }
    let data = buf.freeze();
    Ok(Opened {
        len: data.len() as u64,
        head: data.slice(..data.len().min(HEAD_BYTES)),
        payload: Payload::Memory(data),
    })
}

/// `{ mediaId }`: `media/get` with the client's token; a video's bytes come
/// from the `video_url` it answers with.
pub(super) async fn open_media(
    client: &Client,
    media_id: &str,
    limit: &Limit,
) -> Result<Opened, WxError> {
    crate::media::check_media_id(media_id)?;
    let mut refreshed = false;
    loop {
        let token = client.tokens().get(client).await?;
        let mut url =
            reqwest::Url::parse(&format!("{}/cgi-bin/media/get", client.config().base_url))
                .map_err(|e| WxError::invalid_param(format!("invalid baseUrl ({e})")))?;
        {
            let mut pairs = url.query_pairs_mut();
            if let Some(token) = &token {
                pairs.append_pair(token.param, &token.value);
            }
            pairs.append_pair("media_id", media_id);
        }
        let fetch = Fetch {
            http: client.http()?,
            url,
            headers: Vec::new(),
            timeout: client.config().timeouts.transfer,
            name: format!("the source mediaId {media_id}"),
        };
        let response = fetch.get().await?;
        if !is_json_reply(&response) {
            // Only what is clearly media is media (an HTML error page is not):
            // the same header rules as getTempMedia.
            if response.status().is_success() {
                crate::media_get::classify_media_reply(
                    response.status().as_u16(),
                    response.headers(),
                    None,
                )
                .map_err(|e| {
                    let mut err = WxError::new(
                        ErrorKind::Source,
                        e.err_code,
                        format!("{} could not be fetched: {}", fetch.name, e.detail),
                    );
                    err.status = e.status;
                    err
                })?;
            }
            return from_response(&fetch, response, limit).await;
        }
        let json = small_json(&fetch, response).await?;
        let video = json.get("video_url").and_then(Value::as_str);
        if let Some(video) =
            video.filter(|v| !v.trim().is_empty() && errcode_of(Some(&json)).is_none())
        {
            let video = fetch_for(client, video, Vec::new(), limit.what)?;
            let response = video.get().await?;
            return from_response(&video, response, limit).await;
        }
        let code = errcode_of(Some(&json)).unwrap_or(-1);
        if is_token_errcode(code) && !refreshed && client.tokens().can_refresh() {
            if let Some(token) = token {
                client.tokens().invalidate(&token.value);
                refreshed = true;
                continue;
            }
        }
        let msg = json.get("errmsg").and_then(Value::as_str).unwrap_or("");
        let mut err = WxError::new(
            ErrorKind::Source,
            code,
            format!("{} could not be fetched: errcode {code} {msg}", fetch.name),
        );
        err.status = Some(200);
        return Err(err);
    }
}

/// `media/get` answers JSON (sometimes labelled text/plain) unless it sends a file.
fn is_json_reply(response: &reqwest::Response) -> bool {
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    if header(CONTENT_DISPOSITION).contains("attachment") {
        return false;
    }
    let ct = header(CONTENT_TYPE);
    ct.contains("json") || ct.starts_with("text/plain")
}

async fn small_json(fetch: &Fetch, response: reqwest::Response) -> Result<Value, WxError> {
    let limit = Limit::new(MAX_JSON_BYTES as u64, "media/get's reply", "its JSON limit");
    let opened = buffered(fetch, response, &limit).await?;
    let Payload::Memory(data) = opened.payload else {
        return Err(WxError::source(
            None,
            format!("{} sent an unreadable reply", fetch.name),
        ));
    };
    serde_json::from_slice(&data).map_err(|_| {
        WxError::source(
            Some(200),
            format!("{} sent an unreadable reply", fetch.name),
        )
    })
}

/// The env of a `cloud://<env>.<bucket>/<path>` fileID.
fn env_of(file_id: &str) -> Option<&str> {
    let host = file_id.strip_prefix("cloud://")?.split('/').next()?;
    host.split('.').next().filter(|e| !e.is_empty())
}

/// `{ fileID }`: a download link from `batchdownloadfile`, then streamed.
pub(super) async fn open_cloud_file(
    client: &Client,
    file_id: &str,
    env: Option<String>,
    limit: &Limit,
) -> Result<Opened, WxError> {
    storage::check_file_id(file_id, &format!("{}.fileID", limit.what))?;
    let env = env.or_else(|| env_of(file_id).map(str::to_string));
    let env = storage::resolve_env(env, client)?;
    let item = TempUrlItem {
        file_id: file_id.to_string(),
        max_age: LINK_MAX_AGE,
    };
    let link = storage::get_temp_file_urls(client, &env, vec![item])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            WxError::source(None, format!("no download link for the source {file_id}"))
        })?;
    if link.status != 0 || link.temp_file_url.is_empty() {
        return Err(WxError::new(
            ErrorKind::Source,
            link.status,
            format!(
                "the source {file_id} could not be fetched: {}",
                link.err_msg
            ),
        ));
    }
    let mut fetch = fetch_for(client, &link.temp_file_url, Vec::new(), limit.what)?;
    fetch.name = format!("the source {file_id}");
    let response = fetch.get().await?;
    from_response(&fetch, response, limit).await
}

#[cfg(test)]
mod tests;
