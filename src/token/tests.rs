use super::fetch::TokenReply;
use super::*;

#[test]
fn ttl_keeps_a_margin() {
    assert_eq!(cache_ttl(7200), Duration::from_secs(6900));
    assert_eq!(cache_ttl(500), Duration::from_secs(250));
    assert_eq!(cache_ttl(0), Duration::ZERO);
}

#[test]
fn expires_in_is_clamped_and_never_overflows() {
    use serde_json::json;
    let cases = [
        (json!(7200), 7200),
        (json!(9_223_372_036_854_775_807_i64), 7200),
        (json!(18_446_744_073_709_551_615_u64), 7200),
        (json!(1e300), 7200),
        (json!(-5), 60),
        (json!(i64::MIN), 60),
        (json!(0), 60),
        (json!(7199.9), 7199),
        (json!(59.5), 60),
        (json!("7200"), 7200),
        (json!(null), 7200),
        (json!({}), 7200),
    ];
    for (value, secs) in cases {
        assert_eq!(trusted_expires_in(Some(&value)), secs, "{value}");
    }
    assert_eq!(trusted_expires_in(None), 7200);
    // The cache deadline of any trusted value, or even a huge TTL, is computable.
    let reply: TokenReply =
        serde_json::from_str(r#"{"access_token":"T","expires_in":9223372036854775807}"#)
            .expect("parses");
    let ttl = cache_ttl(trusted_expires_in(reply.expires_in.as_ref()));
    assert_eq!(ttl, Duration::from_secs(6900));
    assert!(fresh_until(Duration::MAX) > Instant::now());
}

#[test]
fn invalidate_only_the_failed_token() {
    let m = TokenManager::new(Credential::Missing, Secrets::new());
    *m.cached.write().expect("lock") = Some(Cached {
        token: token("NEW", "access_token"),
        fresh_until: Instant::now() + Duration::from_secs(60),
    });
    m.invalidate("OLD");
    assert!(m.fresh().is_some());
    m.invalidate("NEW");
    assert!(m.fresh().is_none());
}

#[test]
fn static_tokens_cannot_refresh() {
    let m = TokenManager::new(
        Credential::AccessToken(TokenSupply::Static("t".into())),
        Secrets::new(),
    );
    assert!(!m.can_refresh());
    let m = TokenManager::new(Credential::CloudbaseFile("/x".into()), Secrets::new());
    assert!(m.can_refresh());
}
