//! Access tokens (SPEC §5): cache with a margin, single-flight refresh,
//! compare-and-invalidate.
//!
//! Reads take a short `RwLock` read. A cold or expired cache starts one
//! fetch (a "flight"); every caller that arrives while it is under way waits
//! for it and gets its outcome, success or failure, so N concurrent callers
//! cause one token request. Each waiter is bounded by its own deadline; if
//! the fetching caller goes away, the next caller starts a new fetch.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Deserialize;

use crate::client::{Client, Request, RequestBody, TimeoutClass};
use crate::config::{Credential, TokenMode, TokenSupply};
use crate::debug_log;
use crate::error::{ErrorKind, WxError};
use crate::retry::Retry;
use crate::secrets::Secrets;
use crate::token_store::shared::{Fleet, Obtained};

/// Refresh this long before WeChat's expiry. WeChat keeps a replaced token
/// valid for 5 minutes, so a 300 s margin never hands out a dead token.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);
/// How long a token from a user provider or the cloud-run token file is
/// reused before asking again (a rejected one is dropped at once).
const EXTERNAL_TOKEN_TTL: Duration = Duration::from_secs(60);
/// Static tokens are never refreshed; "fresh" for a very long time.
const STATIC_TOKEN_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A token and the query parameter it travels in.
#[derive(Clone)]
pub struct Token {
    pub value: Arc<str>,
    /// `access_token` or `cloudbase_access_token`.
    pub param: &'static str,
}

struct Cached {
    token: Token,
    fresh_until: Instant,
}

pub struct TokenManager {
    credential: Credential,
    /// Every token obtained is registered here, so no report can show it.
    secrets: Arc<Secrets>,
    cached: RwLock<Option<Cached>>,
    /// The fetch under way, if any: its outcome is published here.
    flight: Mutex<Option<FlightRx>>,
    fetches: AtomicU64,
    /// The fleet's shared store (`tokenStore`), if any.
    fleet: Option<Fleet>,
}

type FlightOutcome = Option<Result<Token, WxError>>;
type FlightRx = tokio::sync::watch::Receiver<FlightOutcome>;

/// Clears the flight slot when the fetching caller finishes or is dropped.
struct FlightGuard<'a> {
    slot: &'a Mutex<Option<FlightRx>>,
    tx: tokio::sync::watch::Sender<FlightOutcome>,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if slot
            .as_ref()
            .is_some_and(|rx| rx.same_channel(&self.tx.subscribe()))
        {
            *slot = None;
        }
    }
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: Option<String>,
    /// Untrusted: any JSON (see `trusted_expires_in`).
    expires_in: Option<serde_json::Value>,
    errcode: Option<i64>,
    errmsg: Option<String>,
}

impl TokenManager {
    pub fn new(credential: Credential, secrets: Arc<Secrets>) -> Self {
        TokenManager {
            credential,
            secrets,
            cached: RwLock::new(None),
            flight: Mutex::new(None),
            fetches: AtomicU64::new(0),
            fleet: None,
        }
    }

    /// Shares tokens through `tokenStore` (only for appid + secret).
    pub fn with_store(
        mut self,
        options: Option<&crate::token_store::StoreOptions>,
    ) -> Result<Self, WxError> {
        let (Some(options), Credential::AppSecret { appid, secret, .. }) =
            (options, &self.credential)
        else {
            return Ok(self);
        };
        let (store, lock_ms) = options.open()?;
        self.fleet = Some(Fleet::new(store, lock_ms, appid, secret));
        Ok(self)
    }

    /// Whether a rejected token can be replaced by asking again.
    pub fn can_refresh(&self) -> bool {
        match &self.credential {
            Credential::AccessToken(TokenSupply::Static(_))
            | Credential::Cloudbase(TokenSupply::Static(_))
            | Credential::OpenApiService
            | Credential::Missing => false,
            Credential::AppSecret { .. }
            | Credential::AccessToken(TokenSupply::Provider(_))
            | Credential::Cloudbase(TokenSupply::Provider(_))
            | Credential::CloudbaseFile(_) => true,
        }
    }

    /// How many times a token was fetched or asked for (diagnostics, tests).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The token to use now, fetching one if the cache is cold or stale;
    /// `None` when requests go without a token (open API service). Bounded
    /// by the JSON timeout.
    pub async fn get(&self, client: &Client) -> Result<Option<Token>, WxError> {
        let budget = client.config().timeouts.json;
        self.get_until(client, tokio::time::Instant::now() + budget, budget)
            .await
    }

    /// [`TokenManager::get`] for a call whose own deadline is `deadline`:
    /// waiting for a fetch ends there (`budget` is the timeout named in messages).
    pub async fn get_until(
        &self,
        client: &Client,
        deadline: tokio::time::Instant,
        budget: Duration,
    ) -> Result<Option<Token>, WxError> {
        if matches!(self.credential, Credential::OpenApiService) {
            return Ok(None);
        }
        loop {
            if let Some(token) = self.fresh() {
                return Ok(Some(token));
            }
            let joined = {
                let mut slot = self.flight.lock().unwrap_or_else(|e| e.into_inner());
                match slot.as_ref() {
                    Some(rx) if rx.has_changed().is_ok() => Err(rx.clone()),
                    _ => {
                        let (tx, rx) = tokio::sync::watch::channel(None);
                        *slot = Some(rx);
                        Ok(FlightGuard {
                            slot: &self.flight,
                            tx,
                        })
                    }
                }
            };
            match joined {
                Ok(guard) => return self.lead(client, guard, deadline, budget).await,
                Err(mut rx) => {
                    let waited = tokio::time::timeout_at(deadline, rx.wait_for(Option::is_some));
                    match waited.await {
                        Err(_) => {
                            return Err(WxError::timeout(format!(
                                "waiting for the access token timed out after {} ms",
                                budget.as_millis()
                            )))
                        }
                        Ok(Ok(outcome)) => {
                            if let Some(outcome) = outcome.as_ref() {
                                return outcome.clone().map(Some);
                            }
                        }
                        // The fetching caller went away without an outcome: fetch anew.
                        Ok(Err(_)) => {}
                    }
                }
            }
        }
    }

    /// Fetches for everyone waiting on `guard`'s flight and publishes the outcome.
    async fn lead(
        &self,
        client: &Client,
        guard: FlightGuard<'_>,
        deadline: tokio::time::Instant,
        budget: Duration,
    ) -> Result<Option<Token>, WxError> {
        // Whoever fetched just before us may have filled the cache.
        let outcome = if let Some(token) = self.fresh() {
            Ok(token)
        } else {
            // A token fetch is a JSON call: bounded by the JSON timeout and
            // by the caller's own deadline, whichever ends first.
            let json = client.config().timeouts.json;
            let (deadline, budget) = {
                let own = tokio::time::Instant::now() + json;
                if own < deadline {
                    (own, json)
                } else {
                    (deadline, budget)
                }
            };
            // The fetch bounds itself (the HTTP deadline, the provider's JSON
            // timeout with its own TOKEN_ERROR); this is only a backstop.
            let backstop = deadline + Duration::from_millis(100);
            let fetch = self.shared_fetch(client, deadline, budget);
            let fetched = tokio::time::timeout_at(backstop, fetch)
                .await
                .unwrap_or_else(|_| {
                    Err(WxError::timeout(format!(
                        "fetching the access token timed out after {} ms",
                        budget.as_millis()
                    )))
                });
            fetched.map(|(token, ttl)| {
                self.secrets.add_recent(&token.value);
                let mut slot = self.cached.write().unwrap_or_else(|e| e.into_inner());
                *slot = Some(Cached {
                    token: token.clone(),
                    // A TTL too large for the clock means "for as long as we run".
                    fresh_until: fresh_until(ttl),
                });
                token
            })
        };
        guard.tx.send_replace(Some(outcome.clone()));
        drop(guard);
        outcome.map(Some)
    }

    /// Drops the cached token, but only if it is the one that failed: a
    /// request that started with an older token must not throw away the
    /// fresh one another request just fetched.
    pub fn invalidate(&self, failed: &str) {
        if let Some(fleet) = &self.fleet {
            fleet.rejected(failed);
        }
        let mut slot = self.cached.write().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(|c| &*c.token.value == failed) {
            *slot = None;
        }
    }

    fn fresh(&self) -> Option<Token> {
        let slot = self.cached.read().unwrap_or_else(|e| e.into_inner());
        slot.as_ref()
            .filter(|c| Instant::now() < c.fresh_until)
            .map(|c| c.token.clone())
    }

    /// Where tokens come from, for the debug log.
    fn source(&self) -> &'static str {
        match &self.credential {
            Credential::AppSecret {
                mode: TokenMode::Legacy,
                ..
            } => "/cgi-bin/token",
            Credential::AppSecret { .. } => "/cgi-bin/stable_token",
            Credential::AccessToken(TokenSupply::Static(_))
            | Credential::Cloudbase(TokenSupply::Static(_)) => "static",
            Credential::AccessToken(TokenSupply::Provider(_)) => "accessToken()",
            Credential::Cloudbase(TokenSupply::Provider(_)) => "cloudbaseAccessToken()",
            Credential::CloudbaseFile(_) => "token-file",
            Credential::OpenApiService | Credential::Missing => "none",
        }
    }

    /// A token from the fleet's store, or fetched here (and stored).
    async fn shared_fetch(
        &self,
        client: &Client,
        deadline: tokio::time::Instant,
        budget: Duration,
    ) -> Result<(Token, Duration), WxError> {
        let Some(fleet) = &self.fleet else {
            return self.logged_fetch(client, deadline, budget).await;
        };
        let fetch = || async {
            let fetched = self.logged_fetch(client, deadline, budget).await;
            let fresh = fetched.as_ref().ok().map(|(t, ttl)| {
                // Known before the store sees it: a store error quoting it is redacted.
                self.secrets.add_recent(&t.value);
                (t.value.to_string(), *ttl)
            });
            (fetched, fresh)
        };
        match fleet.obtain(deadline, fetch).await {
            Obtained::FromStore(value, ttl) => Ok((token(&value, "access_token"), ttl)),
            Obtained::Fetched(fetched) => fetched,
        }
    }

    async fn logged_fetch(
        &self,
        client: &Client,
        deadline: tokio::time::Instant,
        budget: Duration,
    ) -> Result<(Token, Duration), WxError> {
        debug_log::token_fetch(self.source(), self.fetch(client, deadline, budget)).await
    }

    async fn fetch(
        &self,
        client: &Client,
        deadline: tokio::time::Instant,
        budget: Duration,
    ) -> Result<(Token, Duration), WxError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match &self.credential {
            Credential::AppSecret {
                appid,
                secret,
                mode,
            } => fetch_from_wechat(client, appid, secret, *mode, deadline, budget).await,
            Credential::AccessToken(supply) => {
                let limit = client.config().timeouts.json;
                from_supply(supply, "access_token", "accessToken", limit).await
            }
            Credential::Cloudbase(supply) => {
                let limit = client.config().timeouts.json;
                from_supply(
                    supply,
                    "cloudbase_access_token",
                    "cloudbaseAccessToken",
                    limit,
                )
                .await
            }
            Credential::CloudbaseFile(path) => {
                let text = tokio::fs::read_to_string(path).await.map_err(|e| {
                    WxError::new(
                        ErrorKind::Token,
                        -1,
                        format!(
                            "cannot read the cloudbase access token file {}: {e}",
                            path.display()
                        ),
                    )
                })?;
                let value = non_empty(text.trim(), "the cloudbase access token file")?;
                Ok((token(value, "cloudbase_access_token"), EXTERNAL_TOKEN_TTL))
            }
            Credential::OpenApiService => {
                Err(WxError::invalid_param("open API service uses no token"))
            }
            Credential::Missing => Err(WxError::invalid_param(
                "no credentials: pass { appid, secret } (or set WX_APPID and WX_APPSECRET), \
                 or accessToken, or cloudbaseAccessToken, or openApiService: true",
            )),
        }
    }
}

fn token(value: &str, param: &'static str) -> Token {
    Token {
        value: Arc::from(value),
        param,
    }
}

fn non_empty<'a>(value: &'a str, what: &str) -> Result<&'a str, WxError> {
    if value.is_empty() {
        Err(WxError::new(
            ErrorKind::Token,
            -1,
            format!("{what} gave an empty token"),
        ))
    } else {
        Ok(value)
    }
}

async fn from_supply(
    supply: &TokenSupply,
    param: &'static str,
    option: &str,
    limit: Duration,
) -> Result<(Token, Duration), WxError> {
    match supply {
        TokenSupply::Static(value) => {
            Ok((token(non_empty(value, option)?, param), STATIC_TOKEN_TTL))
        }
        TokenSupply::Provider(provider) => {
            // A provider that never settles fails like a hung token endpoint
            // would, after the JSON timeout, but as TOKEN_ERROR: the fault is
            // the provider's, not the network's.
            let value = tokio::time::timeout(limit, provider.fetch())
                .await
                .map_err(|_| {
                    WxError::new(
                        ErrorKind::Token,
                        -1,
                        format!(
                            "the {option} function did not settle within {} ms (timeout.json)",
                            limit.as_millis()
                        ),
                    )
                })??;
            let value = non_empty(value.trim(), &format!("the {option} provider"))?;
            Ok((token(value, param), EXTERNAL_TOKEN_TTL))
        }
    }
}

async fn fetch_from_wechat(
    client: &Client,
    appid: &str,
    secret: &str,
    mode: TokenMode,
    deadline: tokio::time::Instant,
    budget: Duration,
) -> Result<(Token, Duration), WxError> {
    let (request, endpoint) = match mode {
        TokenMode::Stable => {
            let body = serde_json::json!({
                "grant_type": "client_credential",
                "appid": appid,
                "secret": secret,
                "force_refresh": false,
            });
            (
                // force_refresh: false — asking again returns the same token.
                Request::post_json("/cgi-bin/stable_token", Bytes::from(body.to_string()))
                    .idempotent(),
                "stable_token",
            )
        }
        TokenMode::Legacy => (
            Request {
                method: reqwest::Method::GET,
                target: crate::client::Target::Api("/cgi-bin/token"),
                query: vec![
                    ("grant_type", "client_credential".to_string()),
                    ("appid", appid.to_string()),
                    ("secret", secret.to_string()),
                ],
                body: RequestBody::Empty,
                timeout: TimeoutClass::Json,
                max_reply_bytes: 64 * 1024,
                retry: Retry::Idempotent,
            },
            "token",
        ),
    };
    let reply = client.send_until(&request, None, deadline, budget).await?;
    let parsed: TokenReply = serde_json::from_slice(&reply.body).map_err(|_| {
        WxError::http_status(
            reply.status,
            format!(
                "/cgi-bin/{endpoint} answered HTTP {} with no token JSON",
                reply.status
            ),
        )
    })?;
    match (parsed.errcode.unwrap_or(0), parsed.access_token) {
        (0, Some(value)) if !value.is_empty() => {
            let expires_in = trusted_expires_in(parsed.expires_in.as_ref());
            Ok((token(&value, "access_token"), cache_ttl(expires_in)))
        }
        (code, _) => {
            let code = if code == 0 { -1 } else { code };
            let msg = parsed
                .errmsg
                .unwrap_or_else(|| "no access_token in reply".into());
            Err(WxError::new(
                ErrorKind::Token,
                code,
                format!("fetching access_token from /cgi-bin/{endpoint} failed: {msg}"),
            ))
        }
    }
}

/// WeChat tokens live 7200 s; a reply is not trusted beyond that.
const MAX_EXPIRES_IN: u64 = 7200;
/// Below this a token would be fetched again almost at once.
const MIN_EXPIRES_IN: u64 = 60;

/// `expires_in` from a token reply, clamped to [60 s, 7200 s]: absurd
/// (2^63−1, 1e300), negative, zero and fractional values are untrusted input,
/// and a missing or non-numeric one counts as WeChat's documented 7200 s.
pub fn trusted_expires_in(value: Option<&serde_json::Value>) -> u64 {
    let Some(secs) = value.and_then(serde_json::Value::as_f64) else {
        return MAX_EXPIRES_IN;
    };
    // `as` saturates (negative → 0); the clamp keeps it in range.
    (secs.floor() as u64).clamp(MIN_EXPIRES_IN, MAX_EXPIRES_IN)
}

/// `now + ttl`, or a far-off instant when that would overflow the clock.
fn fresh_until(ttl: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(ttl)
        .or_else(|| now.checked_add(STATIC_TOKEN_TTL))
        .unwrap_or(now)
}

/// How long to reuse a token WeChat said is valid for `expires_in` seconds:
/// the margin before expiry, or half the lifetime when it is shorter than twice the margin.
pub fn cache_ttl(expires_in: u64) -> Duration {
    let lifetime = Duration::from_secs(expires_in);
    if lifetime > EXPIRY_MARGIN * 2 {
        lifetime - EXPIRY_MARGIN
    } else {
        lifetime / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_keeps_a_margin() {
        assert_eq!(cache_ttl(7200), Duration::from_secs(6900));
        assert_eq!(cache_ttl(500), Duration::from_secs(250));
        assert_eq!(cache_ttl(0), Duration::ZERO);
    }

    #[test]
    fn expires_in_is_clamped_and_never_overflows() {
        use serde_json::json;
        let cases = [
            (json!(7200), 7200),
            (json!(9_223_372_036_854_775_807_i64), 7200),
            (json!(18_446_744_073_709_551_615_u64), 7200),
            (json!(1e300), 7200),
            (json!(-5), 60),
            (json!(i64::MIN), 60),
            (json!(0), 60),
            (json!(7199.9), 7199),
            (json!(59.5), 60),
            (json!("7200"), 7200),
            (json!(null), 7200),
            (json!({}), 7200),
        ];
        for (value, secs) in cases {
            assert_eq!(trusted_expires_in(Some(&value)), secs, "{value}");
        }
        assert_eq!(trusted_expires_in(None), 7200);
        // The cache deadline of any trusted value, or even a huge TTL, is computable.
        let reply: TokenReply =
            serde_json::from_str(r#"{"access_token":"T","expires_in":9223372036854775807}"#)
                .expect("parses");
        let ttl = cache_ttl(trusted_expires_in(reply.expires_in.as_ref()));
        assert_eq!(ttl, Duration::from_secs(6900));
        assert!(fresh_until(Duration::MAX) > Instant::now());
    }

    #[test]
    fn invalidate_only_the_failed_token() {
        let m = TokenManager::new(Credential::Missing, Secrets::new());
        *m.cached.write().expect("lock") = Some(Cached {
            token: token("NEW", "access_token"),
            fresh_until: Instant::now() + Duration::from_secs(60),
        });
        m.invalidate("OLD");
        assert!(m.fresh().is_some());
        m.invalidate("NEW");
        assert!(m.fresh().is_none());
    }

    #[test]
    fn static_tokens_cannot_refresh() {
        let m = TokenManager::new(
            Credential::AccessToken(TokenSupply::Static("t".into())),
            Secrets::new(),
        );
        assert!(!m.can_refresh());
        let m = TokenManager::new(Credential::CloudbaseFile("/x".into()), Secrets::new());
        assert!(m.can_refresh());
    }
}
