//! The built-in Redis token store (`tokenStore: { redis }`): one JSON value
//! `{ token, expiresAt }` per key, a `SET NX PX` refresh lock beside it, and
//! Lua scripts for the compare-and-delete operations, so it works with any
//! Redis-compatible server (Redis, Valkey, the cloud Redis services).
//!
//! The connection, timeouts and reconnect pause are [`RedisLink`]'s; a
//! failed operation makes the caller fall back to its own cache.

use redis::Script;
use serde::{Deserialize, Serialize};

use super::{now_ms, StoreError, StoreFuture, Stored, TokenStore};
use crate::redis_link::{LinkError, RedisLink};

const INVALIDATE_IF: &str = r"local v = redis.call('GET', KEYS[1])
if v then
  local ok, t = pcall(cjson.decode, v)
  if ok and type(t) == 'table' and t.token == ARGV[1] then
    return redis.call('DEL', KEYS[1])
  end
end
return 0";

pub struct RedisStore {
    link: RedisLink,
    invalidate_if: Script,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Value {
    token: String,
    expires_at: u64,
}

fn failed(e: LinkError) -> StoreError {
    StoreError(e.0)
}

impl RedisStore {
    /// `url` is `redis://[user:password@]host:port[/db]` (or `rediss://`, `unix://`).
    pub fn new(url: &str, prefix: Option<String>) -> Result<Self, String> {
        Ok(RedisStore {
            link: RedisLink::new(url, prefix, "tokenStore.redis")?,
            invalidate_if: Script::new(INVALIDATE_IF),
        })
    }

    pub fn key(&self, key: &str) -> String {
        self.link.key(key)
    }
}

impl TokenStore for RedisStore {
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Stored>> {
        Box::pin(async move {
            let Some(text) = self.link.get(key).await.map_err(failed)? else {
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
            self.link.set(key, &text, ms).await.map_err(failed)
        })
    }

    fn lock<'a>(&'a self, key: &'a str, ms: u64) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move { self.link.lock(key, ms).await.map_err(failed) })
    }

    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.link.unlock(key, owner).await.map_err(failed) })
    }

    fn invalidate_if<'a>(&'a self, key: &'a str, failed_token: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.link
                .eval(&self.invalidate_if, key, &[failed_token])
                .await
                .map(|_| ())
                .map_err(failed)
        })
    }

    fn name(&self) -> &'static str {
        "Redis"
    }

    fn has_lock(&self) -> bool {
        true
    }
}
