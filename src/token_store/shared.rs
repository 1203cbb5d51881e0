//! Fleet single-flight over a [`TokenStore`]: read the shared token; if
//! there is none, one process (the one whose `SET NX PX` wins) fetches and
//! stores it while the others poll the store, bounded by the caller's
//! deadline. A holder that crashes leaves a lock that expires, and the next
//! poller takes over. Any store failure falls back to fetching here.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{now_ms, token_key, StoreError, Stored, TokenStore, WarnOnce, CONNECT_TIMEOUT};

/// How often a waiter looks for the holder's token.
const POLL: Duration = Duration::from_millis(20);

/// The token manager's view of the fleet: the store, the key, and the last
/// token a request saw rejected.
pub struct Fleet {
    store: Arc<dyn TokenStore>,
    key: String,
    lock_ms: u64,
    warn: WarnOnce,
    rejected: Mutex<Option<Arc<str>>>,
}

impl Fleet {
    /// Shares the token of `appid` + `secret` through `store` (see
    /// [`super::StoreOptions::open`]); `lock_ms` bounds a refresher's lock.
    pub fn new(store: Arc<dyn TokenStore>, lock_ms: u64, appid: &str, secret: &str) -> Self {
        Fleet {
            store,
            key: token_key(appid, secret),
            lock_ms,
            warn: WarnOnce::new(),
            rejected: Mutex::new(None),
        }
    }

    /// A request saw `failed` rejected: the next refresh removes it from the
    /// store (if still there) and never takes it from there.
    pub fn rejected(&self, failed: &str) {
        *self.rejected.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::from(failed));
    }

    /// See [`Shared::obtain`].
    pub async fn obtain<T, F, Fut>(&self, deadline: tokio::time::Instant, fetch: F) -> Obtained<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = (T, Option<(String, Duration)>)>,
    {
        let rejected = self
            .rejected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let shared = Shared {
            store: &*self.store,
            key: &self.key,
            lock_ms: self.lock_ms,
            rejected: rejected.as_deref(),
            warn: &self.warn,
            deadline,
        };
        shared.obtain(deadline, fetch).await
    }
}

/// What the token manager needs from the store.
pub struct Shared<'a> {
    pub store: &'a dyn TokenStore,
    pub key: &'a str,
    pub lock_ms: u64,
    /// The token a request just saw rejected: removed from the store if it
    /// is still there, and never taken from it.
    pub rejected: Option<&'a str>,
    pub warn: &'a WarnOnce,
    /// The caller's deadline: a store operation takes at most half of the
    /// time left, so the fallback fetch always has the other half.
    pub deadline: tokio::time::Instant,
}

/// Outcome of [`Shared::obtain`]: a token read from the store (value, ms
/// until stale), or the caller's own fetch.
pub enum Obtained<T> {
    FromStore(String, Duration),
    Fetched(T),
}

impl Shared<'_> {
    async fn op<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Option<T> {
        // The store bounds each operation itself; this also covers connecting,
        // and leaves half the caller's time for its own fetch.
        let left = self
            .deadline
            .saturating_duration_since(tokio::time::Instant::now());
        let bound = (CONNECT_TIMEOUT * 2).min(left / 2);
        let res = match tokio::time::timeout(bound, fut).await {
            Ok(r) => r,
            Err(_) => Err(StoreError(format!(
                "no answer within {} ms",
                bound.as_millis()
            ))),
        };
        match res {
            Ok(v) => Some(v),
            Err(e) => {
                self.warn.warn(&format!(
                    "tokenStore ({}) {what} failed, using this process's own token cache: {}",
                    self.store.name(),
                    e.0
                ));
                None
            }
        }
    }

    async fn read(&self) -> Option<Option<(String, Duration)>> {
        let got = self.op("get", self.store.get(self.key)).await?;
        let now = now_ms();
        Some(got.and_then(|s: Stored| {
            (s.expires_at > now && !s.token.is_empty() && Some(s.token.as_str()) != self.rejected)
                .then(|| (s.token, Duration::from_millis(s.expires_at - now)))
        }))
    }

    /// `fetch` yields `(result, Some((token, ttl)) to store on success)`.
    pub async fn obtain<T, F, Fut>(&self, deadline: tokio::time::Instant, fetch: F) -> Obtained<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = (T, Option<(String, Duration)>)>,
    {
        if let Some(failed) = self.rejected {
            if self
                .op("invalidate", self.store.invalidate_if(self.key, failed))
                .await
                .is_none()
            {
                return Obtained::Fetched(fetch().await.0);
            }
        }
        loop {
            match self.read().await {
                None => return Obtained::Fetched(fetch().await.0),
                Some(Some((token, ttl))) => return Obtained::FromStore(token, ttl),
                Some(None) => {}
            }
            if !self.store.has_lock() {
                return Obtained::Fetched(self.fetch_and_store(fetch).await);
            }
            match self
                .op("lock", self.store.lock(self.key, self.lock_ms))
                .await
            {
                None => return Obtained::Fetched(fetch().await.0),
                Some(Some(owner)) => {
                    // Another may have stored a token between our read and our lock.
                    if let Some(Some((token, ttl))) = self.read().await {
                        let _ = self.op("unlock", self.store.unlock(self.key, &owner)).await;
                        return Obtained::FromStore(token, ttl);
                    }
                    let out = self.fetch_and_store(fetch).await;
                    let _ = self.op("unlock", self.store.unlock(self.key, &owner)).await;
                    return Obtained::Fetched(out);
                }
                Some(None) => {
                    // Another process is refreshing: wait for its token.
                    if tokio::time::Instant::now() + POLL >= deadline {
                        // Out of time: fetch ourselves rather than fail.
                        return Obtained::Fetched(fetch().await.0);
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    async fn fetch_and_store<T, F, Fut>(&self, fetch: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = (T, Option<(String, Duration)>)>,
    {
        let (out, fresh) = fetch().await;
        if let Some((token, ttl)) = fresh {
            let stored = Stored {
                token,
                expires_at: now_ms() + u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX / 2),
            };
            let _ = self.op("set", self.store.set(self.key, &stored)).await;
        }
        out
    }
}
