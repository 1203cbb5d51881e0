//! The built-in Redis token store (`tokenStore: { redis }`): one JSON value
//! `{ token, expiresAt }` per key, a `SET NX PX` refresh lock beside it, and
//! Lua scripts for the compare-and-delete operations, so it works with any
//! Redis-compatible server (Redis, Valkey, the cloud Redis services).
//!
//! A [`ConnectionManager`] reconnects by itself in the background; while
//! Redis is unreachable, operations fail fast (for one second after a failed
//! connect nothing is tried) and callers fall back to their own cache.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};

use super::{now_ms, StoreError, StoreFuture, Stored, TokenStore, CONNECT_TIMEOUT, STORE_TIMEOUT};

/// After a failed connect, calls skip Redis this long before trying again.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

const UNLOCK: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

const INVALIDATE_IF: &str = r"local v = redis.call('GET', KEYS[1])
if v then
  local ok, t = pcall(cjson.decode, v)
  if ok and type(t) == 'table' and t.token == ARGV[1] then
    return redis.call('DEL', KEYS[1])
  end
end
return 0";

pub struct RedisStore {
    client: redis::Client,
    prefix: String,
    conn: tokio::sync::Mutex<Option<ConnectionManager>>,
    paused_until: Mutex<Option<Instant>>,
    unlock: Script,
    invalidate_if: Script,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Value {
    token: String,
    expires_at: u64,
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError(crate::secrets::scrub(&e.to_string()))
}

impl RedisStore {
    /// `url` is `redis://[user:password@]host:port[/db]` (or `rediss://`, `unix://`).
    pub fn new(url: &str, prefix: Option<String>) -> Result<Self, String> {
        let client = redis::Client::open(url)
            .map_err(|e| format!("tokenStore.redis is not a valid Redis URL ({:?})", e.kind()))?;
        Ok(RedisStore {
            client,
            prefix: prefix.unwrap_or_default(),
            conn: tokio::sync::Mutex::new(None),
            paused_until: Mutex::new(None),
            unlock: Script::new(UNLOCK),
            invalidate_if: Script::new(INVALIDATE_IF),
        })
    }

    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        {
            let paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
            if paused.is_some_and(|until| Instant::now() < until) {
                return Err(StoreError("Redis is unreachable (retrying)".into()));
            }
        }
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(STORE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        match tokio::time::timeout(
            CONNECT_TIMEOUT,
            self.client.get_connection_manager_with_config(config),
        )
        .await
        {
            Ok(Ok(conn)) => {
                *slot = Some(conn.clone());
                Ok(conn)
            }
            Ok(Err(e)) => Err(self.pause(failed(e))),
            Err(_) => Err(self.pause(StoreError("connecting to Redis timed out".into()))),
        }
    }

    fn pause(&self, e: StoreError) -> StoreError {
        *self.paused_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + RECONNECT_PAUSE);
        e
    }

    async fn bounded<T>(
        &self,
        op: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(STORE_TIMEOUT, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(failed(e)),
            Err(_) => Err(StoreError(format!(
                "Redis did not answer within {} ms",
                STORE_TIMEOUT.as_millis()
            ))),
        }
    }

    pub async fn get_raw(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.connection().await?;
        let key = self.key(key);
        self.bounded(conn.get::<_, Option<String>>(key)).await
    }

    pub async fn set_raw(&self, key: &str, value: &str, ms: u64) -> Result<(), StoreError> {
        let mut conn = self.connection().await?;
        let key = self.key(key);
        let opts = redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(ms.max(1)));
        self.bounded(conn.set_options::<_, _, ()>(key, value, opts))
            .await
    }

    pub async fn lock_raw(&self, key: &str, ms: u64) -> Result<Option<String>, StoreError> {
        let mut conn = self.connection().await?;
        let owner = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let opts = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(ms.max(1)));
        let key = self.key(&format!("{key}:lock"));
        let taken: Option<String> = self
            .bounded(conn.set_options(key, owner.as_str(), opts))
            .await?;
        Ok(taken.map(|_| owner))
    }

    pub async fn unlock_raw(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        let mut conn = self.connection().await?;
        let key = self.key(&format!("{key}:lock"));
        let mut call = self.unlock.key(key);
        call.arg(owner);
        self.bounded(call.invoke_async::<i64>(&mut conn))
            .await
            .map(|_| ())
    }
}

impl TokenStore for RedisStore {
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Stored>> {
        Box::pin(async move {
            let Some(text) = self.get_raw(key).await? else {
                return Ok(None);
            };
            // A value that is not ours is treated as absent (and overwritten).
            Ok(serde_json::from_str::<Value>(&text).ok().map(|v| Stored {
                token: v.token,
                expires_at: v.expires_at,
            }))
        })
    }

    fn set<'a>(&'a self, key: &'a str, value: &'a Stored) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let text = serde_json::json!({ "token": value.token, "expiresAt": value.expires_at })
                .to_string();
            let ms = value.expires_at.saturating_sub(now_ms());
            if ms == 0 {
                return Ok(());
            }
            self.set_raw(key, &text, ms).await
        })
    }

    fn lock<'a>(&'a self, key: &'a str, ms: u64) -> StoreFuture<'a, Option<String>> {
        Box::pin(self.lock_raw(key, ms))
    }

    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.unlock_raw(key, owner))
    }

    fn invalidate_if<'a>(&'a self, key: &'a str, failed_token: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.connection().await?;
            let mut call = self.invalidate_if.key(self.key(key));
            call.arg(failed_token);
            self.bounded(call.invoke_async::<i64>(&mut conn))
                .await
                .map(|_| ())
        })
    }

    fn name(&self) -> &'static str {
        "Redis"
    }

    fn has_lock(&self) -> bool {
        true
    }
}
