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

use crate::client::Client;
use crate::config::{Credential, TokenMode, TokenSupply};
use crate::debug_log;
use crate::error::WxError;
use crate::secrets::Secrets;
use crate::token_store::shared::{Fleet, Obtained};

mod fetch;

pub use fetch::{cache_ttl, trusted_expires_in};
use fetch::{token, STATIC_TOKEN_TTL};

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
        fetch::from_credential(&self.credential, client, deadline, budget).await
    }
}

/// `now + ttl`, or a far-off instant when that would overflow the clock.
fn fresh_until(ttl: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(ttl)
        .or_else(|| now.checked_add(STATIC_TOKEN_TTL))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests;
