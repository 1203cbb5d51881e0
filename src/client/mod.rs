//! One client per appid: a pooled HTTP client, a concurrency limit, the
//! token manager, and the request loop with retries and token replay.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::config::ClientConfig;
use crate::debug_log;
use crate::error::{is_token_errcode, WxError};
use crate::lifecycle::Lifecycle;
use crate::media_cache::MediaCache;
use crate::retry::{may_retry, Outcome};
use crate::secrets::Secrets;
use crate::token::{Token, TokenManager};
use crate::transport::{build_http_client, register_config_secrets};
pub(crate) use crate::transport::{read_body, receive_to_file, transport_error};

pub use crate::reply::{errcode_of, parse_json_reply};

mod exchange;
mod request;

use crate::reply::{unexpected_status, wechat_error};
pub use request::{
    ApiReply, Reply, Request, RequestBody, Target, TimeoutClass, MAX_JSON_REPLY_BYTES,
};

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

    /// Runs one call's whole work under the client's lifecycle, so that
    /// `close()` ends it wherever it is — sending, fetching a `{ url }`
    /// source, a gateway or COS transfer, waiting for a token or the media
    /// cache. Every binding runs its call through here, so this is the one
    /// guard a call has.
    /// The work is boxed: a whole call's future is large, and keeping it
    /// inline in another future's frame overflowed a worker's stack in debug
    /// builds.
    pub async fn run<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, WxError>>,
    ) -> Result<T, WxError> {
        self.life.guard(Box::pin(work)).await
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
    /// (`close()` ends it through the call's [`Client::run`].)
    pub async fn call_api(&self, request: Request) -> Result<ApiReply, WxError> {
        // Boxed: the nested request futures are large, and tokio's worker
        // stacks are not (a debug build overflowed 2 MiB unboxed).
        Box::pin(self.call_api_inline(request)).await
    }

    async fn call_api_inline(&self, request: Request) -> Result<ApiReply, WxError> {
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
        Box::pin(self.send_inline(request, token, deadline, budget)).await
    }

    async fn send_inline(
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
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= Duration::from_millis(150));
        assert!(backoff(10) <= Duration::from_millis(3000));
        assert!(backoff(10) >= Duration::from_millis(1000));
    }
}
