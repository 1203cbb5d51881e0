use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::*;

fn uploaded(id: &str, created_at: i64) -> UploadedMedia {
    UploadedMedia {
        media_type: "image".into(),
        media_id: id.into(),
        created_at,
    }
}

fn in_process() -> MediaCache {
    MediaCache::new(&MediaCacheOptions::default()).expect("an in-process cache needs no I/O")
}

#[test]
fn the_key_names_app_type_and_digest_but_not_the_bytes() {
    let digest = Sha256::digest(b"same bytes");
    let key = cache_key(Some("wx123"), "image", &digest);
    assert_eq!(
        key,
        format!("wx-media:media:wx123:image:{}", hex::encode(digest))
    );
    assert_ne!(key, cache_key(Some("wx123"), "thumb", &digest));
    assert_ne!(key, cache_key(Some("wx456"), "image", &digest));
    assert!(cache_key(None, "image", &digest).starts_with("wx-media:media:-:image:"));
}

#[test]
fn an_entry_ends_by_the_ttl_and_never_within_the_margin_of_the_media_end() {
    let now = 1_700_000_000_000;
    assert_eq!(entry_end(now, 0, 1000), now + 1000);
    let created = 1_700_000_000; // seconds
    assert_eq!(entry_end(now, created, MAX_TTL_MS), now + MAX_TTL_MS);
    // Media created a day before: it ends 2 days from now, the entry 1 h earlier.
    let a_day_ago = created - 86_400;
    assert_eq!(
        entry_end(now, a_day_ago, MAX_TTL_MS),
        now + 2 * 86_400_000 - SAFETY_MARGIN_MS
    );
    assert!(entry_end(now, created, u64::MAX) <= now + MAX_TTL_MS);
}

#[tokio::test]
async fn concurrent_misses_of_one_key_make_one_upload() {
    let cache = Arc::new(in_process());
    let uploads = Arc::new(AtomicUsize::new(0));
    let calls = (0..50).map(|_| {
        let (cache, uploads) = (cache.clone(), uploads.clone());
        tokio::spawn(async move {
            cache
                .through(
                    "k",
                    "image",
                    || 1_000,
                    || async move {
                        uploads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(uploaded("M1", 0))
                    },
                )
                .await
        })
    });
    let outcomes = futures_util::future::join_all(calls).await;
    assert_eq!(uploads.load(Ordering::SeqCst), 1);
    let mut cached = 0;
    for outcome in outcomes {
        let outcome = outcome.expect("task").expect("upload");
        assert_eq!(outcome.media.media_id, "M1");
        cached += usize::from(outcome.cached);
    }
    assert_eq!(cached, 49);
    assert!(cache.flights.lock().expect("flights").is_empty());
}

#[tokio::test]
async fn a_failed_upload_is_not_cached() {
    let cache = in_process();
    let failed = cache
        .through(
            "k",
            "image",
            || 1_000,
            || async { Err(WxError::wechat(45009, "reach max api daily quota limit")) },
        )
        .await;
    assert!(failed.is_err());
    let next = cache
        .through("k", "image", || 1_000, || async { Ok(uploaded("M2", 0)) })
        .await
        .expect("upload");
    assert_eq!((next.media.media_id.as_str(), next.cached), ("M2", false));
}

#[tokio::test]
async fn an_entry_ends_with_the_server_clock() {
    let cache = in_process();
    let clock = AtomicU64::new(1_700_000_000_000);
    let now = || clock.load(Ordering::SeqCst);
    let upload = |id: &'static str| move || async move { Ok(uploaded(id, 1_700_000_000)) };
    let first = cache
        .through("k", "image", now, upload("A"))
        .await
        .expect("first");
    let hit = cache
        .through("k", "image", now, upload("B"))
        .await
        .expect("hit");
    assert!(!first.cached && hit.cached);
    assert_eq!(
        (hit.media.media_id.as_str(), hit.media.created_at),
        ("A", 1_700_000_000)
    );
    clock.fetch_add(MAX_TTL_MS, Ordering::SeqCst);
    let after = cache
        .through("k", "image", now, upload("C"))
        .await
        .expect("after");
    assert_eq!((after.media.media_id.as_str(), after.cached), ("C", false));
}

#[tokio::test]
async fn media_already_past_its_end_is_not_cached() {
    let cache = in_process();
    let now = || 1_700_000_000_000;
    // WeChat says it was created 3 days ago.
    let old = 1_700_000_000 - 3 * 86_400;
    let upload = |id: &'static str| move || async move { Ok(uploaded(id, old)) };
    cache
        .through("k", "image", now, upload("A"))
        .await
        .expect("first");
    let next = cache
        .through("k", "image", now, upload("B"))
        .await
        .expect("next");
    assert_eq!((next.media.media_id.as_str(), next.cached), ("B", false));
}
