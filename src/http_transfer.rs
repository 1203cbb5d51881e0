//! `http.uploadFile` and `http.downloadFile`: seed 004's mini-program
//! `wx.uploadFile` / `wx.downloadFile`, for the caller's own servers.
//!
//! They use the client's pool, proxy, CA and `maxConcurrency` (the same
//! reqwest client and limiter as the WeChat calls), but their own redirect
//! policy: the pooled client follows none, and these calls follow up to
//! `maxRedirects` themselves (default 5, 0 = none). A redirect to another
//! origin (scheme, host or port) drops `Authorization`, `Cookie` and
//! `Proxy-Authorization`, as browsers and undici do; 303, and 301/302 after a
//! POST, continue as a GET without the body, 307/308 resend it unchanged.
//! Any HTTP status resolves (as in the mini-program API); requests are not
//! retried, since the caller's server may not be idempotent.

use bytes::Bytes;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE,
    LOCATION, PROXY_AUTHORIZATION,
};
use reqwest::{Method, Url};

use crate::client::{read_body, receive_to_file, transport_error, Client, MAX_JSON_REPLY_BYTES};
use crate::error::WxError;
use crate::multipart::{MultipartBody, MultipartBuilder};
use crate::source::{Limit, Source};
use crate::storage::sniff_mime;
use crate::transfer;

pub const UPLOAD_API: &str = "http.uploadFile";
pub const DOWNLOAD_API: &str = "http.downloadFile";

/// Redirects followed when neither the call nor the client says otherwise.
pub const DEFAULT_MAX_REDIRECTS: u32 = 5;

/// What `http.uploadFile` sends: `form_data` text fields in order, then the
/// file part `name`.
#[derive(Debug, Clone)]
pub struct HttpUpload {
    pub url: String,
    pub name: String,
    /// Any upload source (SPEC §10), buffered or streamed as `source` decides.
    pub content: Source,
    /// The part's filename; else the basename of a file source; else
    /// `file.<sniffed extension>`.
    pub filename: Option<String>,
    pub form_data: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub max_redirects: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct HttpDownload {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub max_redirects: Option<u32>,
}

/// The final reply (after redirects). `body` is empty when it went to a file.
#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    /// Header names in lower case; repeated headers joined with `, `.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// `scheme://host:port/path` of a URL, for messages: never the query or
/// the userinfo, which may hold credentials or signatures.
fn shown(url: &Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    ) + url.path()
}

pub fn parse_url(raw: &str, what: &str) -> Result<Url, WxError> {
    let url = Url::parse(raw).map_err(|e| {
        WxError::invalid_param(format!(
            "{what} must be an absolute http(s) URL ({e}), got '{}'",
            raw.split(['?', '#']).next().unwrap_or("")
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(WxError::invalid_param(format!(
            "{what} must use http or https, not '{}'",
            url.scheme()
        )));
    }
    Ok(url)
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, WxError> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            WxError::invalid_param(format!(
                "header name '{name}' is not a valid HTTP header name"
            ))
        })?;
        // The body's own headers are set from the body.
        if n == CONTENT_TYPE || n == CONTENT_LENGTH {
            continue;
        }
        let v = HeaderValue::from_str(value).map_err(|_| {
            WxError::invalid_param(format!(
                "header '{name}' has a value that is not valid in HTTP"
            ))
        })?;
        map.append(n, v);
    }
    Ok(map)
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Sends the request, following redirects per the policy above; returns the
/// final response and its URL.
async fn send_following(
    client: &Client,
    mut method: Method,
    mut url: Url,
    mut headers: HeaderMap,
    mut body: Option<MultipartBody>,
    max_redirects: Option<u32>,
) -> Result<(reqwest::Response, Url, std::time::Duration), WxError> {
    let max = max_redirects
        .or(client.config().max_redirects)
        .unwrap_or(DEFAULT_MAX_REDIRECTS);
    let timeout = transfer::timeout(client.config().timeouts.transfer);
    let mut hops = 0;
    loop {
        let mut builder = client
            .http()?
            .request(method.clone(), url.clone())
            .timeout(timeout)
            .headers(headers.clone());
        if let Some(form) = &body {
            builder = builder
                .header(CONTENT_TYPE, form.content_type())
                .header(CONTENT_LENGTH, form.len())
                .body(transfer::upload_body(form));
        }
        let response = builder
            .send()
            .await
            .map_err(|e| transport_error(e, &shown(&url), timeout))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok());
        let next = match location {
            Some(loc) if (300..400).contains(&status) && status != 304 && hops < max => {
                url.join(loc).map_err(|_| {
                    WxError::http_status(
                        status,
                        format!("{} redirected to an invalid Location", shown(&url)),
                    )
                })?
            }
            _ => return Ok((response, url, timeout)),
        };
        if !matches!(next.scheme(), "http" | "https") {
            return Err(WxError::http_status(
                status,
                format!(
                    "{} redirected to a '{}' URL, which is not followed",
                    shown(&url),
                    next.scheme()
                ),
            ));
        }
        if !same_origin(&url, &next) {
            for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
                headers.remove(name);
            }
        }
        let to_get = status == 303 || (matches!(status, 301 | 302) && method == Method::POST);
        if to_get {
            if method != Method::HEAD {
                method = Method::GET;
            }
            body = None;
        }
        drop(response);
        hops += 1;
        url = next;
    }
}

fn reply_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let joined = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        out.push((name.as_str().to_owned(), joined));
    }
    out
}

/// The part's filename and content type.
fn file_part_meta(upload: &HttpUpload, head: &[u8]) -> (String, &'static str) {
    let mime = sniff_mime(head);
    let from_path = match &upload.content {
        Source::File { path, .. } => path.file_name().map(|n| n.to_string_lossy().into_owned()),
        _ => None,
    };
    let filename = upload
        .filename
        .clone()
        .filter(|f| !f.is_empty())
        .or(from_path)
        .unwrap_or_else(|| {
            let ext = infer::get(head).map_or("bin", |k| k.extension());
            format!("file.{ext}")
        });
    (filename, mime)
}

/// The multipart body of an upload: text fields in order, the file last.
/// The source is opened (measured, and refused when over `maxUploadBytes`)
/// before anything is sent.
pub async fn upload_body(client: &Client, upload: &HttpUpload) -> Result<MultipartBody, WxError> {
    if upload.name.is_empty() {
        return Err(WxError::invalid_param(
            "name is empty: pass the form field name of the file, e.g. name: 'file'",
        ));
    }
    let limit = Limit::new(client.config().max_upload_bytes, "value", "maxUploadBytes");
    let opened = upload.content.clone().open(client, &limit).await?;
    let mut form = MultipartBuilder::new();
    for (key, value) in &upload.form_data {
        form = form.text(key, value);
    }
    let (filename, mime) = file_part_meta(upload, &opened.head);
    Ok(form.finish_with(&upload.name, &filename, mime, opened.payload, opened.len))
}

/// `http.uploadFile`: POST the form, resolve with the reply as text.
pub async fn upload_file(client: &Client, upload: HttpUpload) -> Result<HttpReply, WxError> {
    let url = parse_url(&upload.url, "url")?;
    let headers = header_map(&upload.headers)?;
    let body = upload_body(client, &upload).await?;
    let _permit = client.permit().await?;
    let (response, final_url, timeout) = send_following(
        client,
        Method::POST,
        url,
        headers,
        Some(body),
        upload.max_redirects,
    )
    .await?;
    let status = response.status().as_u16();
    let headers = reply_headers(response.headers());
    let body = read_body(
        response,
        MAX_JSON_REPLY_BYTES,
        &shown(&final_url),
        timeout,
        None,
    )
    .await?;
    Ok(HttpReply {
        status,
        headers,
        body,
    })
}

/// `http.downloadFile`: GET, into memory (up to `maxDownloadBytes`) or, with
/// the call's `filePath`, streamed to that file.
pub async fn download_file(client: &Client, download: HttpDownload) -> Result<HttpReply, WxError> {
    let url = parse_url(&download.url, "url")?;
    let headers = header_map(&download.headers)?;
    if let Some(sink) = transfer::call_sink() {
        sink.check().await?;
    }
    let _permit = client.permit().await?;
    let (response, final_url, timeout) = send_following(
        client,
        Method::GET,
        url,
        headers,
        None,
        download.max_redirects,
    )
    .await?;
    let status = response.status().as_u16();
    let headers = reply_headers(response.headers());
    let progress = transfer::call_download_progress();
    let shown_url = shown(&final_url);
    let body = match transfer::call_sink() {
        Some(sink) => {
            receive_to_file(response, &sink, progress, &shown_url, timeout).await?;
            Bytes::new()
        }
        None => {
            let max = client.config().max_download_bytes;
            read_body(response, max, &shown_url, timeout, progress).await?
        }
    };
    Ok(HttpReply {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_never_show_query_or_userinfo() {
        let url = Url::parse("https://u:p@cdn.example:8443/a/b.png?sign=SECRET").expect("url");
        assert_eq!(shown(&url), "https://cdn.example:8443/a/b.png");
        let e = parse_url("ftp://x/y?sign=SECRET", "url").expect_err("scheme");
        assert!(!e.detail.contains("SECRET"));
        let e = parse_url("not a url?sign=SECRET", "url").expect_err("bad");
        assert!(!e.detail.contains("SECRET"), "{}", e.detail);
    }

    #[test]
    fn origins() {
        let a = Url::parse("http://127.0.0.1:1/x").expect("url");
        assert!(same_origin(
            &a,
            &Url::parse("http://127.0.0.1:1/y?z").expect("url")
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("http://127.0.0.1:2/x").expect("url")
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("https://127.0.0.1:1/x").expect("url")
        ));
    }

    #[test]
    fn body_headers_from_the_caller_are_ignored_and_bad_ones_refused() {
        let map = header_map(&[
            ("Content-Type".into(), "text/plain".into()),
            ("X-A".into(), "1".into()),
        ])
        .expect("map");
        assert!(map.get(CONTENT_TYPE).is_none());
        assert_eq!(map.get("x-a").map(|v| v.as_bytes()), Some(&b"1"[..]));
        assert!(header_map(&[("bad name".into(), "1".into())]).is_err());
        assert!(header_map(&[("x".into(), "a\nb".into())]).is_err());
    }
}
