//! The fleet layer of the media cache (`mediaCache: { redis }`): one JSON
//! entry per key with a Redis expiry at the entry's end, and the same
//! `SET <key>:lock NX PX` single-flight as the token store, so that one
//! process of the fleet uploads a given image while the others wait for its
//! `mediaId`. A holder that crashes leaves a lock that expires, and a waiter
//! takes over. Every failure is "go on without Redis" for the caller.

use std::time::Duration;

use crate::redis_link::{LinkError, RedisLink};

use super::CachedMedia;

/// How often a waiter looks for the holder's entry.
pub const POLL: Duration = Duration::from_millis(20);

pub struct FleetMedia {
    link: RedisLink,
}

impl FleetMedia {
    pub fn new(url: &str, prefix: Option<String>) -> Result<Self, String> {
        Ok(FleetMedia {
            link: RedisLink::new(url, prefix, "mediaCache.redis")?,
        })
    }

    /// The entry of `key` still alive at `now_ms`; a value that is not an
    /// entry of ours reads as absent (and is overwritten by the next upload).
    pub async fn get(&self, key: &str, now_ms: u64) -> Result<Option<CachedMedia>, LinkError> {
        let text = self.link.get(key).await?;
        Ok(text
            .and_then(|t| serde_json::from_str::<CachedMedia>(&t).ok())
            .filter(|e| e.expires_at > now_ms && !e.media_id.is_empty()))
    }

    /// Stores `entry` until its end (nothing if it has already ended).
    pub async fn put(&self, key: &str, entry: &CachedMedia, now_ms: u64) -> Result<(), LinkError> {
        let ms = entry.expires_at.saturating_sub(now_ms);
        if ms == 0 {
            return Ok(());
        }
        let text = serde_json::to_string(entry)
            .map_err(|e| LinkError(format!("cannot encode the entry: {e}")))?;
        self.link.set(key, &text, ms).await
    }

    pub async fn lock(&self, key: &str, ms: u64) -> Result<Option<String>, LinkError> {
        self.link.lock(key, ms).await
    }

    pub async fn unlock(&self, key: &str, owner: &str) -> Result<(), LinkError> {
        self.link.unlock(key, owner).await
    }
}
