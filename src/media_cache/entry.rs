//! What the cache keeps: the key of some bytes (app, type, digest), the
//! entry of one upload, and when that entry ends.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long WeChat keeps a temporary `media_id`.
pub const MEDIA_LIFE_MS: u64 = 3 * 86_400_000;
/// Entries end at least this long before their media does (clock skew, an
/// upload that took a while, a send made just before the end).
pub const SAFETY_MARGIN_MS: u64 = 3_600_000;
/// The default and the longest `ttlMs`.
pub const MAX_TTL_MS: u64 = MEDIA_LIFE_MS - SAFETY_MARGIN_MS;
/// Bytes up to this size are hashed in place; larger ones on the blocking pool.
const HASH_INLINE_MAX: usize = 256 << 10;

/// One cached upload; `expires_at` is in the server's milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedMedia {
    #[serde(rename = "type")]
    pub media_type: String,
    pub media_id: String,
    pub created_at: i64,
    pub expires_at: u64,
}

/// `wx-media:media:<appid>:<type>:<sha256 of the bytes, hex>` (`-` for an
/// app this client cannot name, e.g. a bare `accessToken`).
pub fn cache_key(appid: Option<&str>, media_type: &str, digest: &[u8]) -> String {
    format!(
        "wx-media:media:{}:{media_type}:{}",
        appid.unwrap_or("-"),
        hex::encode(digest)
    )
}

/// When an entry made at `now_ms` for media created at `created_at` (WeChat's
/// Unix seconds; 0 when it did not say) ends: at `now + ttl`, and never later
/// than the safety margin before the media does.
pub fn entry_end(now_ms: u64, created_at: i64, ttl_ms: u64) -> u64 {
    let by_ttl = now_ms.saturating_add(ttl_ms);
    match u64::try_from(created_at) {
        Ok(secs) if secs > 0 => by_ttl.min(
            secs.saturating_mul(1000)
                .saturating_add(MEDIA_LIFE_MS - SAFETY_MARGIN_MS),
        ),
        _ => by_ttl,
    }
}

pub(super) async fn digest_of(bytes: bytes::Bytes) -> Vec<u8> {
    if bytes.len() <= HASH_INLINE_MAX {
        return Sha256::digest(&bytes).to_vec();
    }
    let shared = bytes.clone();
    match tokio::task::spawn_blocking(move || Sha256::digest(&shared).to_vec()).await {
        Ok(digest) => digest,
        // The blocking pool is shutting down: hash here.
        Err(_) => Sha256::digest(&bytes).to_vec(),
    }
}
