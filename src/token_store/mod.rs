//! A token store shared by a fleet of processes (issue 10, SPEC §5): the
//! seam between the token cache (token.rs) and where tokens are shared —
//! the user's `get`/`set` hooks or Redis.
//!
//! Every store operation is bounded by [`STORE_TIMEOUT`]; any failure makes
//! the caller fall back to its own in-process cache and fetch (a store never
//! fails a call), warns once through the debug log, and the store is asked
//! again on later calls.

pub mod hooks;
pub mod redis;
pub mod shared;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// Bound on one store operation; past it the call goes on without the store.
pub const STORE_TIMEOUT: Duration = Duration::from_millis(1000);
/// Bound on connecting to the store (a cold process under load connects slowly).
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(2000);
/// How long a refresher holds the fleet lock at most by default (a crashed
/// holder's lock expires after it).
pub const DEFAULT_LOCK_MS: u64 = 5_000;

/// `tokenStore`: which store the fleet shares its tokens through.
#[derive(Clone)]
pub enum StoreOptions {
    /// `{ redis: url | { url, prefix?, lockMs? } }`.
    Redis(RedisOptions),
    /// `{ get, set }`: the user's hooks, already wrapped by the JS binding
    /// (see [`hooks::HooksStore`]).
    Hooks(Arc<dyn TokenStore>),
}

#[derive(Clone)]
pub struct RedisOptions {
    pub url: String,
    pub prefix: Option<String>,
    pub lock_ms: u64,
}

impl std::fmt::Debug for StoreOptions {
    // The URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreOptions::Redis(r) => write!(f, "StoreOptions(redis: ***, lock_ms: {})", r.lock_ms),
            StoreOptions::Hooks(_) => f.write_str("StoreOptions(hooks)"),
        }
    }
}

impl StoreOptions {
    /// The store these options name, and how long a refresher holds its
    /// lock (stores without a lock ignore it).
    pub fn open(&self) -> Result<(Arc<dyn TokenStore>, u64), crate::error::WxError> {
        match self {
            StoreOptions::Redis(r) => {
                let store = redis::RedisStore::new(&r.url, r.prefix.clone())
                    .map_err(crate::error::WxError::invalid_param)?;
                Ok((Arc::new(store), r.lock_ms))
            }
            StoreOptions::Hooks(store) => Ok((store.clone(), DEFAULT_LOCK_MS)),
        }
    }

    /// The Redis URL, whose password must be redacted everywhere.
    pub fn redis_url(&self) -> Option<&str> {
        match self {
            StoreOptions::Redis(r) => Some(&r.url),
            StoreOptions::Hooks(_) => None,
        }
    }
}

/// A token as stored: the value and when it stops being fresh (ms since the epoch).
#[derive(Clone, PartialEq, Eq)]
pub struct Stored {
    pub token: String,
    pub expires_at: u64,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stored(***, expires_at: {})", self.expires_at)
    }
}

/// Why a store operation failed; the text never holds a secret.
#[derive(Debug, Clone)]
pub struct StoreError(pub String);

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where a fleet shares its tokens.
pub trait TokenStore: Send + Sync {
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Stored>>;
    fn set<'a>(&'a self, key: &'a str, value: &'a Stored) -> StoreFuture<'a, ()>;
    /// Takes the refresh lock of `key` for `ms`: `Some(owner id)` if taken,
    /// `None` if another holds it. Stores without locks always grant it.
    fn lock<'a>(&'a self, key: &'a str, ms: u64) -> StoreFuture<'a, Option<String>>;
    /// Releases the lock if `owner` still holds it.
    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> StoreFuture<'a, ()>;
    /// Removes the stored token only if it is still `failed` (atomically).
    fn invalidate_if<'a>(&'a self, key: &'a str, failed: &'a str) -> StoreFuture<'a, ()>;
    /// Human name for warnings (`tokenStore hooks`, `Redis`).
    fn name(&self) -> &'static str;
    /// Whether the store has a fleet-wide lock (waiters poll for the holder's token).
    fn has_lock(&self) -> bool;
}

/// `wx-media:token:<appid>:<first 16 bytes of sha256(appid:secret), hex>`:
/// two secrets for one appid never share a token, and the secret is not in it.
pub fn token_key(appid: &str, secret: &str) -> String {
    let digest = Sha256::digest(format!("{appid}:{secret}").as_bytes());
    format!("wx-media:token:{appid}:{}", hex::encode(&digest[..16]))
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// One warning per store through the debug log (`WX_MEDIA_LOG=debug`).
pub use crate::debug_log::WarnOnce;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_has_the_appid_and_no_secret() {
        let k = token_key("wx123", "s3cr3t-value");
        assert!(k.starts_with("wx-media:token:wx123:"));
        assert!(!k.contains("s3cr3t"));
        assert_ne!(k, token_key("wx123", "other"));
        assert_eq!(k, token_key("wx123", "s3cr3t-value"));
    }
}
