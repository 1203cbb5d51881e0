//! One client per appid: a pooled HTTP client, a concurrency limit, the
//! token manager, and the request loop with retries and token replay.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::Method;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::config::ClientConfig;
use crate::error::{is_token_errcode, ErrorKind, WxError};
use crate::multipart::MultipartBody;
use crate::secrets::Secrets;
use crate::token::{Token, TokenManager};

/// Which timeout applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutClass {
    Json,
    Transfer,
}

/// Where a request goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// A path under the client's `baseUrl`.
    Api(&'static str),
    /// A full URL handed out by WeChat (COS upload, temp download links).
    Absolute(String),
}

#[derive(Debug, Clone)]
pub enum RequestBody {
    Empty,
    Json(Bytes),
    Multipart(MultipartBody),
}

/// A request that can be sent again unchanged (retries and token replays).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub target: Target,
    pub query: Vec<(&'static str, String)>,
    pub body: RequestBody,
    pub timeout: TimeoutClass,
    /// Replies larger than this are refused instead of buffered.
    pub max_reply_bytes: u64,
}

/// JSON API replies are small; anything larger is not a WeChat JSON reply.
pub const MAX_JSON_REPLY_BYTES: u64 = 16 * 1024 * 1024;

impl Request {
    pub fn post_json(path: &'static str, body: Bytes) -> Self {
        Request {
            method: Method::POST,
            target: Target::Api(path),
            query: Vec::new(),
            body: RequestBody::Json(body),
            timeout: TimeoutClass::Json,
            max_reply_bytes: MAX_JSON_REPLY_BYTES,
        }
    }

    /// False for calls that could act twice if sent twice (a customer
    /// service message): those are never resent.
    pub fn is_idempotent(&self) -> bool {
        match &self.target {
            Target::Api(path) => crate::openapi::is_idempotent_path(path),
            Target::Absolute(_) => true,
        }
    }

    fn path(&self) -> &str {
        match &self.target {
            Target::Api(path) => path,
            Target::Absolute(url) => url_path(url),
        }
    }
}

/// The path of a URL, for messages (never the query, which may hold secrets).
fn url_path(url: &str) -> &str {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = without_scheme
        .find('/')
        .map_or("/", |at| &without_scheme[at..]);
    path.split(['?', '#']).next().unwrap_or(path)
}

/// A received HTTP reply, body buffered.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: reqwest::header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A WeChat API reply: the HTTP reply plus its JSON, when it was JSON.
#[derive(Debug, Clone)]
pub struct ApiReply {
    pub reply: Reply,
    pub json: Option<Value>,
}

pub struct Client {
    cfg: ClientConfig,
    /// What this client must never show (see [`crate::secrets`]).
    secrets: Arc<Secrets>,
    http: reqwest::Client,
    limiter: Semaphore,
    tokens: TokenManager,
}

impl Client {
    pub fn new(cfg: ClientConfig) -> Result<Self, WxError> {
        let secrets = Secrets::new();
        register_config_secrets(&cfg, &secrets);
        let http = build_http_client(&cfg)?;
        Ok(Client {
            limiter: Semaphore::new(cfg.max_concurrency),
            tokens: TokenManager::new(cfg.credential.clone(), secrets.clone()),
            secrets,
            http,
            cfg,
        })
    }

    /// The secrets of this client; calls register per-request credentials
    /// (COS upload tickets) here before using them.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    pub fn tokens(&self) -> &TokenManager {
        &self.tokens
    }

    /// The pooled HTTP client (proxy, CA), for fetching upload sources; it
    /// does not take a concurrency slot (the upload it feeds holds one).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A slot of `maxConcurrency`, held for one HTTP exchange.
    pub(crate) async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, WxError> {
        self.limiter
            .acquire()
            .await
            .map_err(|_| WxError::new(ErrorKind::Aborted, -1, "client is closed"))
    }

    /// A WeChat API call: adds the token; on a token errcode drops that token,
    /// fetches a new one and replays the identical request once; retries
    /// errcode -1 (system busy) like a 5xx; any other errcode rejects.
    pub async fn call_api(&self, request: Request) -> Result<ApiReply, WxError> {
        let mut replayed = false;
        let mut busy_retries = 0;
        loop {
            let token = self.tokens.get(self).await?;
            let reply = self.send(&request, token.as_ref()).await?;
            let json = parse_json_reply(&reply);
            match errcode_of(json.as_ref()) {
                Some(code) if is_token_errcode(code) => {
                    let Some(token) = token else {
                        return Err(wechat_error(code, json.as_ref(), &reply));
                    };
                    if !replayed && self.tokens.can_refresh() {
                        self.tokens.invalidate(&token.value);
                        replayed = true;
                        continue;
                    }
                    let mut err = wechat_error(code, json.as_ref(), &reply);
                    if !self.tokens.can_refresh() {
                        err.detail.push_str(
                            " (the token given to wx-media was rejected; supply a valid one)",
                        );
                    }
                    return Err(err);
                }
                Some(-1) if busy_retries < self.cfg.retries && request.is_idempotent() => {
                    busy_retries += 1;
                    tokio::time::sleep(backoff(busy_retries)).await;
                }
                Some(code) => return Err(wechat_error(code, json.as_ref(), &reply)),
                None if reply.is_success() => return Ok(ApiReply { reply, json }),
                None => return Err(unexpected_status(&request, &reply)),
            }
        }
    }

    /// One HTTP exchange, retried on network errors (not timeouts: the server
    /// may have acted on the request) and 5xx, with jittered backoff.
    pub async fn send(&self, request: &Request, token: Option<&Token>) -> Result<Reply, WxError> {
        let url = self.url_for(request, token)?;
        let mut attempt = 0;
        loop {
            let outcome = self.exchange(request, url.clone()).await;
            let retryable = request.is_idempotent()
                && match &outcome {
                    Ok(reply) => reply.status >= 500,
                    Err(e) => e.kind == ErrorKind::Network,
                };
            if !retryable || attempt >= self.cfg.retries {
                return outcome;
            }
            attempt += 1;
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    async fn exchange(&self, request: &Request, url: reqwest::Url) -> Result<Reply, WxError> {
        let _permit = self
            .limiter
            .acquire()
            .await
            .map_err(|_| WxError::new(ErrorKind::Aborted, -1, "client is closed"))?;
        let timeout = crate::transfer::timeout(match request.timeout {
            TimeoutClass::Json => self.cfg.timeouts.json,
            TimeoutClass::Transfer => self.cfg.timeouts.transfer,
        });
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .timeout(timeout);
        builder = match &request.body {
            RequestBody::Empty => builder,
            RequestBody::Json(json) => builder
                .header(CONTENT_TYPE, "application/json")
                .body(json.clone()),
            RequestBody::Multipart(form) => builder
                .header(CONTENT_TYPE, form.content_type())
                .header(CONTENT_LENGTH, form.len())
                .body(crate::transfer::upload_body(form)),
        };
        let path = request.path();
        let mut response = builder.send().await.map_err(|e| {
            // A source that failed mid-body is its own failure, not retried.
            match &request.body {
                RequestBody::Multipart(form) => form.source_failure(),
                _ => None,
            }
            .unwrap_or_else(|| transport_error(e, path, timeout))
        })?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            // Not followed, not read: the target is no concern of this call.
            return Err(WxError::http_status(
                status,
                format!(
                    "{path} answered HTTP {status}, a redirect; WeChat and COS calls do not follow redirects"
                ),
            ));
        }
        let headers = std::mem::take(response.headers_mut());
        let progress = crate::transfer::download_progress(request);
        let body = match crate::transfer::sink_for(request, status, &headers) {
            // Streamed to the caller's filePath: no size limit, nothing held.
            Some(sink) => {
                receive_to_file(response, &sink, progress, path, timeout).await?;
                Bytes::new()
            }
            None => read_body(response, request.max_reply_bytes, path, timeout, progress).await?,
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    fn url_for(&self, request: &Request, token: Option<&Token>) -> Result<reqwest::Url, WxError> {
        let raw = match &request.target {
            Target::Api(path) => format!("{}{}", self.cfg.base_url, path),
            Target::Absolute(url) => url.clone(),
        };
        let mut url = reqwest::Url::parse(&raw).map_err(|e| {
            WxError::http_status(0, format!("invalid URL for {}: {e}", request.path()))
        })?;
        if token.is_some() || !request.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            if let Some(token) = token {
                pairs.append_pair(token.param, &token.value);
            }
            for (name, value) in &request.query {
                pairs.append_pair(name, value);
            }
        }
        Ok(url)
    }
}

/// WeChat and COS calls never follow a redirect: a 307 would re-send the
/// appsecret to another origin, a 302 would turn an upload into a GET and
/// resolve with the target's answer. A 3xx is an `HTTP_STATUS` failure (see
/// [`Client::exchange`]). The generic `http.*` transfers follow redirects
/// by hand on this same client, with their own policy (see `http_transfer`).
pub fn wechat_redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::none()
}

/// The appsecret, static tokens and proxy credentials, registered before
/// anything can fail with them in a message.
fn register_config_secrets(cfg: &ClientConfig, secrets: &Secrets) {
    use crate::config::{Credential, TokenSupply};
    match &cfg.credential {
        Credential::AppSecret { secret, .. } => secrets.add_permanent(secret),
        Credential::AccessToken(TokenSupply::Static(t))
        | Credential::Cloudbase(TokenSupply::Static(t)) => secrets.add_permanent(t),
        _ => {}
    }
    if let Some(proxy) = &cfg.proxy {
        for secret in crate::config::url_credentials(proxy) {
            secrets.add_permanent(&secret);
        }
    }
}

fn build_http_client(cfg: &ClientConfig) -> Result<reqwest::Client, WxError> {
    let mut builder = reqwest::Client::builder()
        .redirect(wechat_redirect_policy())
        // Only redirects set a Referer in reqwest; say so explicitly anyway.
        .referer(false)
        .connect_timeout(Duration::from_secs(10).min(cfg.timeouts.json))
        .pool_idle_timeout(Duration::from_secs(50))
        .pool_max_idle_per_host(cfg.max_concurrency)
        .tcp_nodelay(true)
        .user_agent(concat!("wx-media/", env!("CARGO_PKG_VERSION")));
    if let Some(proxy) = &cfg.proxy {
        // The message never quotes the proxy URL: it may carry a password.
        let proxy = reqwest::Proxy::all(proxy).map_err(|e| {
            WxError::invalid_param(format!(
                "proxy must be a URL such as http://user:password@127.0.0.1:3128 ({})",
                e.without_url()
            ))
        })?;
        builder = builder.proxy(proxy);
    }
    if let Some(pem) = &cfg.ca_cert {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
            WxError::invalid_param(format!(
                "caCert must be PEM text of one or more certificates ({e})"
            ))
        })?;
        if certs.is_empty() {
            return Err(WxError::invalid_param(
                "caCert holds no certificate: pass PEM text starting with -----BEGIN CERTIFICATE-----",
            ));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| WxError::invalid_param(format!("cannot build the HTTP client: {e}")))
}

/// Streams a reply body into the call's file sink (temp file, kept for the
/// rename once the call succeeds).
pub(crate) async fn receive_to_file(
    response: reqwest::Response,
    sink: &crate::sink::FileSink,
    progress: Option<std::sync::Arc<crate::progress::Progress>>,
    path: &str,
    timeout: Duration,
) -> Result<(), WxError> {
    if let Some(p) = &progress {
        p.begin(response.content_length().unwrap_or(0));
    }
    crate::sink::write_stream(
        sink,
        response.bytes_stream(),
        |n| {
            if let Some(p) = &progress {
                p.advance(n as u64);
            }
        },
        |e| transport_error(e, path, timeout),
    )
    .await
}

/// Reads the whole body, refusing one larger than `max` before buffering it.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    max: u64,
    path: &str,
    timeout: Duration,
    progress: Option<std::sync::Arc<crate::progress::Progress>>,
) -> Result<Bytes, WxError> {
    let status = response.status().as_u16();
    let too_large = |n: u64| {
        WxError::new(
            ErrorKind::TooLarge,
            crate::error::LOCAL_ERR_CODE,
            format!(
                "reply from {path} is larger than the {max}-byte limit for replies held in memory ({n} bytes): raise maxDownloadBytes or pass filePath to stream it to a file"
            ),
        )
        .with_status(status)
    };
    let announced = response.content_length();
    if let Some(p) = &progress {
        p.begin(announced.unwrap_or(0));
    }
    if let Some(len) = announced.filter(|&len| len > max) {
        return Err(too_large(len));
    }
    // Most replies arrive as one chunk: hand it over without copying.
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(e, path, timeout))?
    {
        let total = first.as_ref().map_or(0, |f| f.len()) + buf.len() + chunk.len();
        if total as u64 > max {
            return Err(too_large(total as u64));
        }
        if let Some(p) = &progress {
            p.advance(chunk.len() as u64);
        }
        match first.take() {
            None if buf.is_empty() => first = Some(chunk),
            Some(prev) => {
                buf.reserve(announced.map_or(prev.len() + chunk.len(), |n| n as usize));
                buf.extend_from_slice(&prev);
                buf.extend_from_slice(&chunk);
            }
            None => buf.extend_from_slice(&chunk),
        }
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

pub(crate) fn transport_error(e: reqwest::Error, path: &str, timeout: Duration) -> WxError {
    if e.is_timeout() {
        return WxError::timeout(format!(
            "request to {path} timed out after {} ms",
            timeout.as_millis()
        ));
    }
    // The URL (with its token) is dropped; the cause chain says what happened.
    let e = e.without_url();
    let mut detail = format!("request to {path} failed: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    WxError::network(detail)
}

/// Parses a reply as JSON when it looks like JSON and is not an attachment
/// (WeChat sometimes labels JSON as text/plain, so the label is not trusted).
pub fn parse_json_reply(reply: &Reply) -> Option<Value> {
    let attachment = reply
        .header(CONTENT_DISPOSITION)
        .is_some_and(|v| v.to_ascii_lowercase().contains("attachment"));
    if attachment {
        return None;
    }
    let first = reply.body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    serde_json::from_slice(&reply.body).ok()
}

fn errcode_of(json: Option<&Value>) -> Option<i64> {
    json?
        .get("errcode")
        .and_then(Value::as_i64)
        .filter(|&code| code != 0)
}

fn wechat_error(code: i64, json: Option<&Value>, reply: &Reply) -> WxError {
    let msg = json
        .and_then(|j| j.get("errmsg"))
        .and_then(Value::as_str)
        .unwrap_or("");
    WxError::wechat(code, msg).with_status(reply.status)
}

fn unexpected_status(request: &Request, reply: &Reply) -> WxError {
    // Secrets are masked before the body is cut to a snippet (a secret cut
    // at the edge of the scrubbed part is masked as a cut-short tail).
    let head = &reply.body[..reply.body.len().min(2048)];
    let body = crate::secrets::scrub(&String::from_utf8_lossy(head));
    let snippet: String = body.chars().filter(|c| !c.is_control()).take(200).collect();
    WxError::http_status(
        reply.status,
        format!(
            "{} answered HTTP {}{}",
            request.path(),
            reply.status,
            if snippet.is_empty() {
                String::new()
            } else {
                format!(": {snippet}")
            }
        ),
    )
}

/// 100 ms, 200 ms, 400 ms … capped at 2 s, each scaled by a random 0.5–1.5.
fn backoff(attempt: u32) -> Duration {
    let base = 100u64
        .saturating_mul(1 << attempt.saturating_sub(1).min(5))
        .min(2000);
    let jitter = 0.5 + fastrand::f64();
    Duration::from_millis((base as f64 * jitter) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(headers: &[(&'static str, &'static str)], body: &'static [u8]) -> Reply {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, reqwest::header::HeaderValue::from_static(v));
        }
        Reply {
            status: 200,
            headers: map,
            body: Bytes::from_static(body),
        }
    }

    #[test]
    fn json_is_recognised_whatever_the_label() {
        let r = reply(&[("content-type", "text/plain")], b" {\"errcode\":40007}");
        assert_eq!(errcode_of(parse_json_reply(&r).as_ref()), Some(40007));
        let r = reply(
            &[("content-disposition", "attachment; filename=\"a.json\"")],
            b"{\"a\":1}",
        );
        assert!(parse_json_reply(&r).is_none());
        let r = reply(&[("content-type", "image/png")], b"\x89PNG");
        assert!(parse_json_reply(&r).is_none());
    }

    #[test]
    fn url_path_hides_the_query() {
        assert_eq!(url_path("http://h:1/a/b?access_token=x"), "/a/b");
        assert_eq!(url_path("http://h"), "/");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= Duration::from_millis(150));
        assert!(backoff(10) <= Duration::from_millis(3000));
        assert!(backoff(10) >= Duration::from_millis(1000));
    }
}
