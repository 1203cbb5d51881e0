//! One client per appid: a pooled HTTP client, a concurrency limit, the
//! token manager, and the request loop with retries and token replay.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::Method;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::config::ClientConfig;
use crate::debug_log;
use crate::error::{is_token_errcode, ErrorKind, WxError};
use crate::lifecycle::Lifecycle;
use crate::media_cache::MediaCache;
use crate::multipart::MultipartBody;
use crate::retry::{may_retry, provably_unsent, Outcome, Retry, Tracked};
use crate::secrets::Secrets;
use crate::token::{Token, TokenManager};
use crate::transport::{build_http_client, register_config_secrets};
pub(crate) use crate::transport::{read_body, receive_to_file, transport_error};

pub use crate::reply::{errcode_of, parse_json_reply};
use crate::reply::{unexpected_status, wechat_error};

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
    /// How freely it may be sent again (see [`crate::retry`]).
    pub retry: Retry,
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
            // A POST may act: repeated only when provably unsent, unless the
            // caller says it is a lookup ([`Request::idempotent`]).
            retry: Retry::UnsentOnly,
        }
    }

    /// Marks the request as safe to repeat (lookups, puts to the same key).
    pub fn idempotent(mut self) -> Self {
        self.retry = Retry::Idempotent;
        self
    }

    /// False for calls that could act twice if sent twice (an upload, a
    /// customer service message): those are resent only when provably unsent.
    pub fn is_idempotent(&self) -> bool {
        self.retry == Retry::Idempotent
    }

    /// The path, for messages (never the query).
    pub fn path(&self) -> &str {
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
    /// The connection pool; `None` once the client is closed.
    http: RwLock<Option<reqwest::Client>>,
    limiter: Semaphore,
    tokens: TokenManager,
    /// `mediaCache`: the `mediaId`s of bytes already uploaded.
    media_cache: Option<MediaCache>,
    life: Lifecycle,
}

impl Client {
    pub fn new(cfg: ClientConfig) -> Result<Self, WxError> {
        let secrets = Secrets::new();
        register_config_secrets(&cfg, &secrets);
        let http = build_http_client(&cfg)?;
        Ok(Client {
            limiter: Semaphore::new(cfg.max_concurrency),
            tokens: TokenManager::new(cfg.credential.clone(), secrets.clone())
                .with_store(cfg.token_store.as_ref())?,
            media_cache: cfg.media_cache.as_ref().map(MediaCache::new).transpose()?,
            secrets,
            http: RwLock::new(Some(http)),
            cfg,
            life: Lifecycle::default(),
        })
    }

    /// Ends the client: calls in flight reject `CLIENT_CLOSED`, later calls
    /// too; resolves once none is running and the connection pool is dropped.
    pub async fn close(&self) {
        self.limiter.close();
        self.life.close().await;
        let pool = self.http.write().unwrap_or_else(|e| e.into_inner()).take();
        drop(pool);
    }

    pub fn is_closed(&self) -> bool {
        self.life.is_closed()
    }

    /// The secrets of this client; calls register per-request credentials
    /// (COS upload tickets) here before using them.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    pub fn media_cache(&self) -> Option<&MediaCache> {
        self.media_cache.as_ref()
    }

    pub fn tokens(&self) -> &TokenManager {
        &self.tokens
    }

    /// The pooled HTTP client (proxy, CA), also for fetching upload sources
    /// (it does not take a concurrency slot: the upload it feeds holds one);
    /// `CLIENT_CLOSED` once the client is closed.
    pub fn http(&self) -> Result<reqwest::Client, WxError> {
        self.http
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(WxError::client_closed)
    }

    /// A slot of `maxConcurrency`, held for one HTTP exchange.
    pub(crate) async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, WxError> {
        self.limiter
            .acquire()
            .await
            .map_err(|_| WxError::client_closed())
    }

    /// The timeout of a class of request (a call's own `config.timeout` wins).
    pub fn timeout_of(&self, class: TimeoutClass) -> Duration {
        crate::transfer::timeout(match class {
            TimeoutClass::Json => self.cfg.timeouts.json,
            TimeoutClass::Transfer => self.cfg.timeouts.transfer,
        })
    }

    /// A WeChat API call: adds the token; on a token errcode drops that token,
    /// fetches a new one and replays the identical request once; retries
    /// errcode -1 (system busy: not processed); any other errcode rejects.
    /// The whole call, token wait and queue time included, is bounded by the
    /// request's timeout.
    pub async fn call_api(&self, request: Request) -> Result<ApiReply, WxError> {
        // Boxed: the nested request futures are large, and tokio's worker
        // stacks are not (a debug build overflowed 2 MiB unboxed).
        self.life
            .guard(Box::pin(self.call_api_unguarded(request)))
            .await
    }

    async fn call_api_unguarded(&self, request: Request) -> Result<ApiReply, WxError> {
        let budget = self.timeout_of(request.timeout);
        let deadline = Instant::now() + budget;
        let mut replayed = false;
        let mut busy_retries = 0;
        loop {
            let token = self.tokens.get_until(self, deadline, budget).await?;
            let reply = self
                .send_until(&request, token.as_ref(), deadline, budget)
                .await?;
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
                Some(-1)
                    if busy_retries < self.cfg.retries
                        && may_retry(request.retry, Outcome::Busy)
                        && sleep_before(deadline, backoff(busy_retries + 1)).await =>
                {
                    busy_retries += 1;
                }
                Some(code) => return Err(wechat_error(code, json.as_ref(), &reply)),
                None if reply.is_success() => return Ok(ApiReply { reply, json }),
                None => return Err(unexpected_status(&request, &reply)),
            }
        }
    }

    /// One HTTP exchange within the request's own timeout, retried per
    /// [`crate::retry`] with jittered backoff.
    pub async fn send(&self, request: &Request, token: Option<&Token>) -> Result<Reply, WxError> {
        let budget = self.timeout_of(request.timeout);
        self.send_until(request, token, Instant::now() + budget, budget)
            .await
    }

    /// [`Client::send`] bounded by `deadline` (queue time, every attempt and
    /// the waits between them); `budget` is the timeout named in messages.
    pub async fn send_until(
        &self,
        request: &Request,
        token: Option<&Token>,
        deadline: Instant,
        budget: Duration,
    ) -> Result<Reply, WxError> {
        self.life
            .guard(Box::pin(
                self.send_unguarded(request, token, deadline, budget),
            ))
            .await
    }

    async fn send_unguarded(
        &self,
        request: &Request,
        token: Option<&Token>,
        deadline: Instant,
        budget: Duration,
    ) -> Result<Reply, WxError> {
        let url = self.url_for(request, token)?;
        let method = request.method.as_str();
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            let (result, outcome) = self.exchange(request, url.clone(), deadline, budget).await;
            debug_log::request(
                method,
                request.path(),
                attempt + 1,
                started.elapsed(),
                &result,
                |reply| reply.status,
            );
            if attempt >= self.cfg.retries || !may_retry(request.retry, outcome) {
                return result;
            }
            attempt += 1;
            let delay = backoff(attempt);
            debug_log::retry(method, request.path(), attempt + 1, delay);
            if !sleep_before(deadline, delay).await {
                return result;
            }
        }
    }

    async fn exchange(
        &self,
        request: &Request,
        url: reqwest::Url,
        deadline: Instant,
        budget: Duration,
    ) -> (Result<Reply, WxError>, Outcome) {
        let path = request.path();
        let timed_out = |what: &str| {
            (
                Err(WxError::timeout(format!(
                    "request to {path} timed out after {} ms{what}",
                    budget.as_millis()
                ))),
                Outcome::TimedOut,
            )
        };
        // Waiting for a slot counts toward the timeout.
        let permit = match tokio::time::timeout_at(deadline, self.limiter.acquire()).await {
            Err(_) => return timed_out(" (waiting in the maxConcurrency queue)"),
            Ok(Err(_)) => {
                let closed = WxError::client_closed();
                return (Err(closed), Outcome::TimedOut);
            }
            Ok(Ok(permit)) => permit,
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return timed_out(" (waiting in the maxConcurrency queue)");
        }
        let http = match self.http() {
            Ok(http) => http,
            Err(closed) => return (Err(closed), Outcome::Final),
        };
        let mut builder = http.request(request.method.clone(), url).timeout(remaining);
        let (body, progress) = match &request.body {
            RequestBody::Empty => Tracked::new(reqwest::Body::from(Bytes::new())),
            RequestBody::Json(json) => {
                builder = builder
                    .header(CONTENT_TYPE, "application/json")
                    .header(CONTENT_LENGTH, json.len());
                Tracked::new(reqwest::Body::from(json.clone()))
            }
            RequestBody::Multipart(form) => {
                builder = builder
                    .header(CONTENT_TYPE, form.content_type())
                    .header(CONTENT_LENGTH, form.len());
                Tracked::new(crate::transfer::upload_body(form))
            }
        };
        if !matches!(request.body, RequestBody::Empty) {
            builder = builder.body(reqwest::Body::wrap(body));
        }
        let mut response = match builder.send().await {
            Ok(response) => response,
            Err(e) => {
                // A source that failed mid-body is its own failure, not retried.
                let source_failure = match &request.body {
                    RequestBody::Multipart(form) => form.source_failure(),
                    _ => None,
                };
                if let Some(err) = source_failure {
                    return (Err(err), Outcome::Final);
                }
                let outcome = if e.is_timeout() {
                    Outcome::TimedOut
                } else {
                    Outcome::Failed {
                        unsent: provably_unsent(&e, &progress),
                    }
                };
                return (Err(transport_error(e, path, budget)), outcome);
            }
        };
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            // Not followed, not read: the target is no concern of this call.
            let err = WxError::http_status(
                status,
                format!(
                    "{path} answered HTTP {status}, a redirect; WeChat and COS calls do not follow redirects"
                ),
            );
            return (
                Err(err),
                Outcome::Reply {
                    status,
                    empty_body: false,
                },
            );
        }
        let headers = std::mem::take(response.headers_mut());
        let progress = crate::transfer::download_progress(request);
        let body = match crate::transfer::sink_for(request, status, &headers) {
            // Streamed to the caller's filePath: no size limit, nothing held.
            Some(sink) => receive_to_file(response, &sink, progress, path, budget)
                .await
                .map(|()| Bytes::new()),
            None => read_body(response, request.max_reply_bytes, path, budget, progress).await,
        };
        drop(permit);
        match body {
            Ok(body) => {
                let outcome = Outcome::Reply {
                    status,
                    empty_body: body.iter().all(u8::is_ascii_whitespace),
                };
                let reply = Reply {
                    status,
                    headers,
                    body,
                };
                (Ok(reply), outcome)
            }
            // The reply was cut short: the request reached the server.
            Err(e) if e.kind == ErrorKind::Timeout => (Err(e), Outcome::TimedOut),
            Err(e) if e.kind == ErrorKind::TooLarge => (Err(e), Outcome::Final),
            Err(e) => (Err(e), Outcome::Failed { unsent: false }),
        }
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

/// Sleeps `wait` unless that would end past `deadline`; whether it slept.
async fn sleep_before(deadline: Instant, wait: Duration) -> bool {
    if Instant::now() + wait >= deadline {
        return false;
    }
    tokio::time::sleep(wait).await;
    true
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
