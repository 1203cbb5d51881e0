//! `mediaCache` (issue 10, SPEC §5): identical bytes of one media type for
//! one appid reuse the `mediaId` of their first upload until shortly before
//! its 3 days end, so the same customer-service image sent all day costs one
//! upload of the daily quota instead of one per send.
//!
//! The key is `(appid, type, sha256 of the bytes)`, hashed on a tokio thread
//! (a large buffer on the blocking pool), never on the JS thread. Layers: an
//! in-process LRU, and with `{ redis }` a fleet-wide entry in Redis. Misses
//! of one key are single-flight: one upload in the process (a per-key
//! gate), and one in the fleet (a Redis lock); the others wait and take its
//! `mediaId`. Failed uploads are never cached; Redis trouble means "upload
//! as if there were no fleet layer". The cache sits in front of the
//! [`Backend`]: either transport's upload goes through it.

mod entry;
pub mod fleet;
pub mod lru;

use entry::digest_of;
pub use entry::{cache_key, entry_end, CachedMedia, MAX_TTL_MS, MEDIA_LIFE_MS, SAFETY_MARGIN_MS};

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::time::Instant;

use crate::backend::Backend;
use crate::client::Client;
use crate::debug_log::{self, WarnOnce};
use crate::error::WxError;
use crate::media::{MediaUpload, UploadedMedia};
use crate::source::Source;
use crate::world_clock;

use fleet::{FleetMedia, POLL};
use lru::Lru;

pub const DEFAULT_MAX_ENTRIES: usize = 10_000;
/// Keys are ~110 bytes: the default entry bound is reached first.
pub const DEFAULT_MAX_KEY_BYTES: usize = 4 << 20;
/// How long one fleet uploader holds the lock at most by default.
pub const DEFAULT_LOCK_MS: u64 = 10_000;
/// `mediaCache: true | { redis?, prefix?, ttlMs?, lockMs?, maxEntries? }`.
#[derive(Clone)]
pub struct MediaCacheOptions {
    pub redis: Option<String>,
    pub prefix: Option<String>,
    pub ttl_ms: u64,
    pub lock_ms: u64,
    pub max_entries: usize,
}

impl Default for MediaCacheOptions {
    fn default() -> Self {
        MediaCacheOptions {
            redis: None,
            prefix: None,
            ttl_ms: MAX_TTL_MS,
            lock_ms: DEFAULT_LOCK_MS,
            max_entries: DEFAULT_MAX_ENTRIES,
        }
    }
}

impl std::fmt::Debug for MediaCacheOptions {
    // The Redis URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MediaCacheOptions(redis: {}, ttl_ms: {}, max_entries: {})",
            if self.redis.is_some() { "***" } else { "none" },
            self.ttl_ms,
            self.max_entries
        )
    }
}

/// What an upload through the cache resolves with.
pub struct Outcome {
    pub media: UploadedMedia,
    /// The `mediaId` of an earlier upload of the same bytes.
    pub cached: bool,
}

pub struct MediaCache {
    local: Mutex<Lru>,
    fleet: Option<FleetMedia>,
    ttl_ms: u64,
    lock_ms: u64,
    /// One gate per key being uploaded in this process.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    warn: WarnOnce,
}

/// `uploadTempMedia` through the client's cache: a hit resolves at once;
/// without a cache, with `bypass`, or for a source that is not bytes in
/// memory (a stream can only be hashed by reading it), it is the plain upload.
pub async fn upload_temp_media(
    backend: &Backend,
    client: &Client,
    upload: MediaUpload,
    bypass: bool,
) -> Result<Outcome, WxError> {
    let plain = |upload| async move {
        backend
            .upload_temp_media(client, upload)
            .await
            .map(|media| Outcome {
                media,
                cached: false,
            })
    };
    let Some(cache) = client.media_cache() else {
        return plain(upload).await;
    };
    let media_type = upload.media_type.as_str();
    let Source::Bytes(bytes) = &upload.source else {
        return plain(upload).await;
    };
    if bypass {
        debug_log::media_cache("bypass", media_type);
        return plain(upload).await;
    }
    let digest = digest_of(bytes.clone()).await;
    let key = cache_key(backend.appid(client).as_deref(), media_type, &digest);
    let origin = &client.config().base_url;
    let upload_once = || backend.upload_temp_media(client, upload);
    cache
        .through(
            &key,
            media_type,
            || world_clock::now_ms(origin),
            upload_once,
        )
        .await
}

impl MediaCache {
    pub fn new(options: &MediaCacheOptions) -> Result<Self, WxError> {
        let fleet = options
            .redis
            .as_deref()
            .map(|url| FleetMedia::new(url, options.prefix.clone()))
            .transpose()
            .map_err(WxError::invalid_param)?;
        Ok(MediaCache {
            local: Mutex::new(Lru::new(options.max_entries, DEFAULT_MAX_KEY_BYTES)),
            fleet,
            ttl_ms: options.ttl_ms.min(MAX_TTL_MS),
            lock_ms: options.lock_ms,
            flights: Mutex::new(HashMap::new()),
            warn: WarnOnce::new(),
        })
    }

    fn local_get(&self, key: &str, now_ms: u64) -> Option<CachedMedia> {
        self.local
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key, now_ms)
    }

    fn local_put(&self, key: &str, entry: CachedMedia) {
        self.local
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(key, entry);
    }

    fn local_hit(&self, key: &str, media_type: &str, now_ms: u64) -> Option<Outcome> {
        let hit = self.local_get(key, now_ms)?;
        debug_log::media_cache("hit", media_type);
        Some(hit.into())
    }

    /// A fleet entry: kept here too, so later calls need no Redis round trip.
    fn fleet_hit(&self, key: &str, hit: CachedMedia) -> Outcome {
        self.local_put(key, hit.clone());
        hit.into()
    }

    /// A hit, or the one upload of this key in flight here (and, with Redis,
    /// in the fleet).
    async fn through<N, F, Fut>(
        &self,
        key: &str,
        media_type: &str,
        now: N,
        upload: F,
    ) -> Result<Outcome, WxError>
    where
        N: Fn() -> u64,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<UploadedMedia, WxError>>,
    {
        if let Some(hit) = self.local_hit(key, media_type, now()) {
            return Ok(hit);
        }
        let gate = self.gate(key);
        let outcome = {
            let _turn = gate.lock().await;
            // The call that held the gate may have just kept this key.
            match self.local_hit(key, media_type, now()) {
                Some(hit) => Ok(hit),
                None => match &self.fleet {
                    Some(fleet) => {
                        self.through_fleet(fleet, key, media_type, &now, upload)
                            .await
                    }
                    None => self.upload_and_keep(None, key, &now, upload).await,
                },
            }
        };
        self.leave(key, gate);
        outcome
    }

    fn gate(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.flights
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_string())
            .or_default()
            .clone()
    }

    /// Forgets the gate of `key` once no other call holds or awaits it.
    fn leave(&self, key: &str, gate: Arc<tokio::sync::Mutex<()>>) {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        // Ours and the map's: new callers clone it only under this lock.
        if Arc::strong_count(&gate) <= 2 {
            flights.remove(key);
        }
    }

    /// The fleet's entry, or this process uploads under the fleet lock, or
    /// waits for the holder's entry. Redis failing at any step: upload.
    async fn through_fleet<N, F, Fut>(
        &self,
        fleet: &FleetMedia,
        key: &str,
        media_type: &str,
        now: &N,
        upload: F,
    ) -> Result<Outcome, WxError>
    where
        N: Fn() -> u64,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<UploadedMedia, WxError>>,
    {
        // A waiter gives up on the holder after this and uploads itself;
        // a crashed holder's lock has expired long before.
        let give_up = Instant::now() + std::time::Duration::from_millis(self.lock_ms * 2);
        let mut waited = false;
        loop {
            match fleet.get(key, now()).await {
                Ok(Some(hit)) => {
                    debug_log::media_cache(if waited { "wait-hit" } else { "hit" }, media_type);
                    return Ok(self.fleet_hit(key, hit));
                }
                Ok(None) => {}
                Err(e) => return self.without_fleet(key, &e.0, now, upload).await,
            }
            let owner = match fleet.lock(key, self.lock_ms).await {
                Ok(owner) => owner,
                Err(e) => return self.without_fleet(key, &e.0, now, upload).await,
            };
            if let Some(owner) = owner {
                // Another may have stored its entry between our get and our lock.
                let outcome = match fleet.get(key, now()).await {
                    Ok(Some(hit)) => Ok(self.fleet_hit(key, hit)),
                    _ => {
                        debug_log::media_cache("miss", media_type);
                        self.upload_and_keep(Some(fleet), key, now, upload).await
                    }
                };
                if let Err(e) = fleet.unlock(key, &owner).await {
                    self.warn_fleet("unlock", &e.0);
                }
                return outcome;
            }
            if Instant::now() + POLL >= give_up {
                debug_log::media_cache("wait-timeout", media_type);
                return self.upload_and_keep(Some(fleet), key, now, upload).await;
            }
            waited = true;
            tokio::time::sleep(POLL).await;
        }
    }

    async fn without_fleet<N, F, Fut>(
        &self,
        key: &str,
        why: &str,
        now: &N,
        upload: F,
    ) -> Result<Outcome, WxError>
    where
        N: Fn() -> u64,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<UploadedMedia, WxError>>,
    {
        self.warn_fleet("lookup", why);
        self.upload_and_keep(None, key, now, upload).await
    }

    fn warn_fleet(&self, what: &str, why: &str) {
        self.warn.warn(&format!(
            "mediaCache (Redis) {what} failed, uploading without the fleet cache: {why}"
        ));
    }

    /// Uploads; a success is kept here (and in the fleet); a failure is not.
    async fn upload_and_keep<N, F, Fut>(
        &self,
        fleet: Option<&FleetMedia>,
        key: &str,
        now: &N,
        upload: F,
    ) -> Result<Outcome, WxError>
    where
        N: Fn() -> u64,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<UploadedMedia, WxError>>,
    {
        let media = upload().await?;
        let at = now();
        let entry = CachedMedia {
            media_type: media.media_type.clone(),
            media_id: media.media_id.clone(),
            created_at: media.created_at,
            expires_at: entry_end(at, media.created_at, self.ttl_ms),
        };
        if entry.expires_at > at {
            if let Some(fleet) = fleet {
                if let Err(e) = fleet.put(key, &entry, at).await {
                    self.warn_fleet("store", &e.0);
                }
            }
            self.local_put(key, entry);
        }
        Ok(Outcome {
            media,
            cached: false,
        })
    }
}

impl From<CachedMedia> for Outcome {
    fn from(entry: CachedMedia) -> Self {
        Outcome {
            media: UploadedMedia {
                media_type: entry.media_type,
                media_id: entry.media_id,
                created_at: entry.created_at,
            },
            cached: true,
        }
    }
}

#[cfg(test)]
mod tests;
