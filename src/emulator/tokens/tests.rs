//! Unit tests of the emulator's token endpoints and token checks.

use super::*;

const T0: u64 = 1_700_000_000_000;

#[test]
fn legacy_refetch_gives_the_old_token_five_minutes() {
    let mut store = TokenStore::default();
    let first = store.fetch_legacy("app", T0);
    let second = store.fetch_legacy("app", T0 + 1000);
    assert_ne!(first, second);
    assert!(store.check(&first, T0 + 1000 + GRACE_MS - 1).is_ok());
    let err = store.check(&first, T0 + 1000 + GRACE_MS).err();
    assert_eq!(err.map(|e| e.code), Some(40001));
    assert!(store.check(&second, T0 + 1000 + GRACE_MS).is_ok());
}

#[test]
fn stable_returns_the_same_token_with_remaining_time_then_rotates() {
    let mut store = TokenStore::default();
    let (a, ttl) = store.fetch_stable("app", false, T0).expect("stable token");
    assert_eq!(ttl, 7200);
    let (b, ttl) = store
        .fetch_stable("app", false, T0 + 1_000_000)
        .expect("stable token");
    assert_eq!(a, b);
    assert_eq!(ttl, 6200);
    let near_end = T0 + TOKEN_TTL_MS - STABLE_ROTATE_MS + 1;
    let (c, ttl) = store
        .fetch_stable("app", false, near_end)
        .expect("stable token");
    assert_ne!(a, c);
    assert_eq!(ttl, 7200);
    // The rotated-out token still runs to its own expiry.
    assert!(store.check(&a, near_end).is_ok());
}

#[test]
fn stable_and_legacy_are_independent() {
    let mut store = TokenStore::default();
    let (stable, _) = store.fetch_stable("app", false, T0).expect("stable token");
    store.fetch_legacy("app", T0);
    store.fetch_legacy("app", T0);
    assert!(store.check(&stable, T0 + GRACE_MS * 2).is_ok());
}

#[test]
fn force_refresh_quota_is_twenty_a_day() {
    let mut store = TokenStore::default();
    for i in 0..20 {
        assert!(store.fetch_stable("app", true, T0 + i).is_ok());
    }
    let err = store.fetch_stable("app", true, T0 + 20).err();
    assert_eq!(err.map(|e| e.code), Some(45009));
    assert!(store.fetch_stable("app", true, T0 + DAY_MS).is_ok());
}

#[test]
fn expire_all_makes_tokens_expired_and_next_stable_fetch_fresh() {
    let mut store = TokenStore::default();
    let (stable, _) = store.fetch_stable("app", false, T0).expect("stable token");
    let issued = store.issue("app", TokenKind::Issued, T0);
    store.expire_all(T0 + 10);
    for token in [&stable, &issued] {
        let err = store.check(token, T0 + 10).err();
        assert_eq!(err.map(|e| e.code), Some(42001));
    }
    let (fresh, _) = store
        .fetch_stable("app", false, T0 + 10)
        .expect("stable token");
    assert_ne!(fresh, stable);
    assert!(store.check(&fresh, T0 + 10).is_ok());
}

#[test]
fn tokens_look_real() {
    let mut store = TokenStore::default();
    let token = store.issue("app", TokenKind::Issued, T0);
    assert!(token.starts_with("EMU_"));
    assert!(token.len() >= 100);
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    let err = store.check("nope", T0).err();
    assert_eq!(err.map(|e| e.code), Some(40001));
}
