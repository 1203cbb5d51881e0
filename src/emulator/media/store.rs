//! The temporary media store: keeping checked uploads (with their 3-day
//! lifetime and owning app) and looking them up.

use bytes::Bytes;
use serde_json::{json, Value};

use super::super::http::{random_string, WxError, URL_SAFE};
use super::super::state::{lock, Shared, StoredLen};
use super::super::tokens::Caller;
use super::kinds::{sniff, MediaType};
use super::parts::{check_media, MediaPart};
use super::MEDIA_TTL_MS;

/// The type of a live media `media_id` the caller may use, if there is one.
pub(crate) fn media_type_of(shared: &Shared, caller: &Caller, media_id: &str) -> Option<MediaType> {
    let now = shared.clock.now_ms();
    let store = lock(&shared.media);
    store
        .get(media_id)
        .filter(|entry| entry.is_live(now) && entry.readable_by(caller))
        .map(|entry| entry.media_type)
}

/// A stored temporary media.
pub(crate) struct MediaEntry {
    pub(super) data: Bytes,
    pub(super) content_type: String,
    pub(super) media_type: MediaType,
    pub(super) extension: String,
    created_at_ms: u64,
    /// The app whose token uploaded it; other apps cannot read it.
    owner: Option<String>,
}

impl StoredLen for MediaEntry {
    fn stored_len(&self) -> usize {
        self.data.len()
    }
}

impl MediaEntry {
    pub(super) fn is_live(&self, now_ms: u64) -> bool {
        now_ms < self.created_at_ms + MEDIA_TTL_MS
    }

    pub(super) fn readable_by(&self, caller: &Caller) -> bool {
        match (self.owner.as_deref(), caller.appid()) {
            (Some(owner), Some(appid)) => owner == appid,
            _ => true,
        }
    }
}

/// Checks and keeps one upload; the `media/upload` reply.
pub(crate) fn store_upload(
    shared: &Shared,
    media_type: MediaType,
    part: MediaPart,
    owner: Option<String>,
) -> Result<Value, WxError> {
    let extension = check_media(media_type, &part, &shared.opts.media_limits)?;
    let now = shared.clock.now_ms();
    let media_id = random_string(64, URL_SAFE);
    // Lean mode (benchmarks): validate everything, keep nothing.
    if !shared.opts.lean {
        let content_type = part
            .content_type
            .or_else(|| sniff(&part.data).map(|f| f.mime().to_owned()))
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let entry = MediaEntry {
            content_type,
            data: part.data,
            media_type,
            extension,
            created_at_ms: now,
            owner,
        };
        store_media(shared, media_id.clone(), entry, now);
    }
    let id_key = match media_type {
        MediaType::Thumb => "thumb_media_id",
        _ => "media_id",
    };
    Ok(json!({
        "errcode": 0,
        "errmsg": "ok",
        "type": media_type.as_str(),
        id_key: media_id,
        "created_at": now / 1000,
    }))
}

/// A live media readable by `appid`: (bytes, content type, is video).
pub(crate) fn lookup_media(
    shared: &Shared,
    media_id: &str,
    appid: Option<&str>,
) -> Result<(Bytes, String, bool), WxError> {
    let now = shared.clock.now_ms();
    let store = lock(&shared.media);
    let caller = match appid {
        Some(appid) => Caller::App {
            appid: appid.to_owned(),
        },
        None => Caller::OpenApiService,
    };
    let entry = store
        .get(media_id)
        .filter(|entry| entry.is_live(now) && entry.readable_by(&caller))
        .ok_or_else(|| WxError::new(40007, "invalid media_id"))?;
    Ok((
        entry.data.clone(),
        entry.content_type.clone(),
        entry.media_type == MediaType::Video,
    ))
}

fn store_media(shared: &Shared, media_id: String, entry: MediaEntry, now_ms: u64) {
    let mut store = lock(&shared.media);
    // Insertion order is creation order, so expired media sit at the front.
    while store.oldest().is_some_and(|oldest| !oldest.is_live(now_ms)) {
        store.evict_oldest();
    }
    store.insert(media_id, entry);
}
