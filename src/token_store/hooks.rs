//! `tokenStore: { get(key), set(key, { token, expiresAt }) }`: the user's
//! hooks as a [`TokenStore`] (issue 10, co-wechat-api's `getToken` /
//! `saveToken`). The JS side (bindings/token_hooks.rs) only calls the
//! functions and reads what they give back into a [`RawEntry`]; what is
//! acceptable is decided here.
//!
//! Every hook call is bounded by [`STORE_TIMEOUT`]: a hook that throws,
//! rejects, returns something else or never settles is a [`StoreError`],
//! and the token manager then uses its own cache and fetch (shared.rs).
//!
//! Hooks have no fleet lock (the lock is granted at once, so every cold
//! process whose `get` finds nothing fetches, and the last `set` wins) and
//! no delete: a token WeChat rejected is never taken from the store again
//! by this process (shared.rs skips it), and the fresh one it fetches is
//! `set` over it.

use std::future::Future;
use std::pin::Pin;

use super::{StoreError, StoreFuture, Stored, TokenStore, STORE_TIMEOUT};

/// What a hook call gave back, or why it failed (a sentence starting with
/// the hook's name, never holding the token).
pub type HookFuture<T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send>>;

/// The user's two functions, called on the JS thread.
pub trait HookFns: Send + Sync {
    /// `get(key)`: `None` for `null`/`undefined`, else the object's fields.
    fn get(&self, key: &str) -> HookFuture<Option<RawEntry>>;
    /// `set(key, { token, expiresAt })`, settled.
    fn set(&self, key: &str, value: &Stored) -> HookFuture<()>;
}

/// One field of the object `get` resolved to: its value when it has the
/// right JS type, else a description of what it is ("undefined", "a number").
#[derive(Debug, Clone, PartialEq)]
pub enum JsField<T> {
    Value(T),
    Other(&'static str),
}

/// The object `get` resolved to, as read on the JS thread.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEntry {
    pub token: JsField<String>,
    pub expires_at: JsField<f64>,
}

/// Longest token accepted from a hook (WeChat's are ~150 characters).
const MAX_TOKEN_LEN: usize = 2048;
/// Below this an `expiresAt` is seconds, not milliseconds, since the epoch
/// (10^11 ms is March 1973; 10^11 s is the year 5138).
const SECONDS_NOT_MS: f64 = 1e11;

/// Checks what `get` resolved to. A past `expiresAt` is accepted (the
/// caller treats the token as absent); the message never holds the token.
pub fn parse_entry(raw: RawEntry) -> Result<Stored, String> {
    const SHAPE: &str = "tokenStore.get must resolve to { token: string, expiresAt: number (ms since the epoch) }, null or undefined";
    let token = match raw.token {
        JsField::Value(t) => t,
        JsField::Other(what) => return Err(format!("{SHAPE}; its token is {what}")),
    };
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(format!(
            "{SHAPE}; its token is a string of {} characters (1 to {MAX_TOKEN_LEN} expected)",
            token.chars().count()
        ));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{SHAPE}; its token holds spaces or control characters"
        ));
    }
    let ms = match raw.expires_at {
        JsField::Value(ms) => ms,
        JsField::Other(what) => return Err(format!("{SHAPE}; its expiresAt is {what}")),
    };
    if !ms.is_finite() || ms < 0.0 {
        return Err(format!(
            "{SHAPE}; its expiresAt is {ms}, not a time in ms since the epoch"
        ));
    }
    if ms > 0.0 && ms < SECONDS_NOT_MS {
        return Err(format!(
            "tokenStore.get resolved to expiresAt {ms}, which looks like seconds: expiresAt is in milliseconds since the epoch (as Date.now())"
        ));
    }
    Ok(Stored {
        token,
        // Finite, ≥ 0 and < 2^64 ms here; the cast floors the fraction.
        expires_at: ms.min(u64::MAX as f64) as u64,
    })
}

/// The user's hooks behind the [`TokenStore`] seam.
pub struct HooksStore {
    fns: Box<dyn HookFns>,
}

impl HooksStore {
    pub fn new(fns: Box<dyn HookFns>) -> Self {
        HooksStore { fns }
    }
}

async fn bounded<T>(hook: &str, call: HookFuture<T>) -> Result<T, StoreError> {
    match tokio::time::timeout(STORE_TIMEOUT, call).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(why)) => Err(StoreError(why)),
        Err(_) => Err(StoreError(format!(
            "tokenStore.{hook} did not settle within {} ms",
            STORE_TIMEOUT.as_millis()
        ))),
    }
}

impl TokenStore for HooksStore {
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Stored>> {
        let call = self.fns.get(key);
        Box::pin(async move {
            match bounded("get", call).await? {
                None => Ok(None),
                Some(raw) => parse_entry(raw).map(Some).map_err(StoreError),
            }
        })
    }

    fn set<'a>(&'a self, key: &'a str, value: &'a Stored) -> StoreFuture<'a, ()> {
        let call = self.fns.set(key, value);
        Box::pin(bounded("set", call))
    }

    fn lock<'a>(&'a self, _key: &'a str, _ms: u64) -> StoreFuture<'a, Option<String>> {
        Box::pin(async { Ok(Some(String::new())) })
    }

    fn unlock<'a>(&'a self, _key: &'a str, _owner: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    /// Two hooks, no delete: nothing to remove. The rejected token is
    /// skipped when read back (shared.rs) and the fresh one is `set` over it,
    /// so asking `get` here first would only cost a call.
    fn invalidate_if<'a>(&'a self, _key: &'a str, _failed: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    fn name(&self) -> &'static str {
        "hooks"
    }

    fn has_lock(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn entry(token: JsField<String>, expires_at: JsField<f64>) -> RawEntry {
        RawEntry { token, expires_at }
    }
    fn ok(token: &str, ms: f64) -> RawEntry {
        entry(JsField::Value(token.into()), JsField::Value(ms))
    }

    #[test]
    fn a_good_entry_is_taken_and_its_time_floored() {
        let s = parse_entry(ok("TOKEN_abc-1", 1_764_600_000_123.7)).unwrap();
        assert_eq!(s.token, "TOKEN_abc-1");
        assert_eq!(s.expires_at, 1_764_600_000_123);
        // A past time is not an error: the caller treats it as absent.
        assert_eq!(parse_entry(ok("T", 0.0)).unwrap().expires_at, 0);
        assert_eq!(
            parse_entry(ok("T", 2e12)).unwrap().expires_at,
            2_000_000_000_000
        );
    }

    #[test]
    fn wrong_shapes_are_refused_without_the_token() {
        let secret_token = "SECRET_TOKEN_VALUE";
        let cases = [
            (
                entry(JsField::Other("undefined"), JsField::Value(2e12)),
                "token is undefined",
            ),
            (
                entry(JsField::Other("a number"), JsField::Value(2e12)),
                "token is a number",
            ),
            (ok("", 2e12), "0 characters"),
            (ok(&"x".repeat(MAX_TOKEN_LEN + 1), 2e12), "2049 characters"),
            (ok("SECRET TOKEN", 2e12), "spaces or control"),
            (ok("SECRET\nTOKEN", 2e12), "spaces or control"),
            (
                entry(
                    JsField::Value(secret_token.into()),
                    JsField::Other("a string"),
                ),
                "expiresAt is a string",
            ),
            (
                entry(
                    JsField::Value(secret_token.into()),
                    JsField::Other("undefined"),
                ),
                "expiresAt is undefined",
            ),
            (ok(secret_token, f64::NAN), "expiresAt is NaN"),
            (ok(secret_token, f64::INFINITY), "expiresAt is inf"),
            (ok(secret_token, -5.0), "expiresAt is -5"),
            (ok(secret_token, 1_764_600_000.0), "looks like seconds"),
        ];
        for (raw, want) in cases {
            let err = parse_entry(raw).unwrap_err();
            assert!(err.contains(want), "{err:?} should say {want:?}");
            assert!(err.starts_with("tokenStore.get "), "{err}");
            assert!(!err.contains(secret_token), "{err}");
            assert!(!err.contains("SECRET"), "{err}");
        }
    }

    /// Hooks whose answers the test chooses; records what `set` got.
    struct Fake {
        get: Mutex<Option<HookFuture<Option<RawEntry>>>>,
        set_result: Result<(), String>,
        sets: Mutex<Vec<(String, Stored)>>,
    }

    impl HookFns for std::sync::Arc<Fake> {
        fn get(&self, _key: &str) -> HookFuture<Option<RawEntry>> {
            self.get
                .lock()
                .unwrap()
                .take()
                .unwrap_or_else(|| Box::pin(async { Ok(None) }))
        }
        fn set(&self, key: &str, value: &Stored) -> HookFuture<()> {
            self.sets.lock().unwrap().push((key.into(), value.clone()));
            let r = self.set_result.clone();
            Box::pin(async move { r })
        }
    }

    fn store(
        get: HookFuture<Option<RawEntry>>,
        set_result: Result<(), String>,
    ) -> (HooksStore, std::sync::Arc<Fake>) {
        let fake = std::sync::Arc::new(Fake {
            get: Mutex::new(Some(get)),
            set_result,
            sets: Mutex::new(Vec::new()),
        });
        (HooksStore::new(Box::new(fake.clone())), fake)
    }

    #[tokio::test]
    async fn get_set_and_the_lockless_operations() {
        let (s, fake) = store(Box::pin(async { Ok(Some(ok("T1", 2e12))) }), Ok(()));
        let got = s.get("k").await.unwrap().unwrap();
        assert_eq!(
            (got.token.as_str(), got.expires_at),
            ("T1", 2_000_000_000_000)
        );
        assert_eq!(s.get("k").await.unwrap(), None);
        let v = Stored {
            token: "T2".into(),
            expires_at: 3,
        };
        s.set("k", &v).await.unwrap();
        assert_eq!(
            fake.sets.lock().unwrap().as_slice(),
            &[("k".to_string(), v)]
        );
        assert!(!s.has_lock());
        assert_eq!(s.lock("k", 5000).await.unwrap(), Some(String::new()));
        s.unlock("k", "").await.unwrap();
        s.invalidate_if("k", "T1").await.unwrap();
        assert_eq!(s.name(), "hooks");
    }

    #[tokio::test]
    async fn failures_are_store_errors() {
        let (s, _) = store(
            Box::pin(async { Err("tokenStore.get threw: boom".to_string()) }),
            Err("tokenStore.set rejected: nope".into()),
        );
        assert_eq!(
            s.get("k").await.unwrap_err().0,
            "tokenStore.get threw: boom"
        );
        let v = Stored {
            token: "T".into(),
            expires_at: 3,
        };
        assert_eq!(
            s.set("k", &v).await.unwrap_err().0,
            "tokenStore.set rejected: nope"
        );
        let (s, _) = store(Box::pin(async { Ok(Some(ok("T", f64::NAN))) }), Ok(()));
        assert!(s.get("k").await.unwrap_err().0.contains("NaN"));
    }

    #[tokio::test]
    async fn a_hook_that_never_settles_times_out() {
        let (s, _) = store(Box::pin(std::future::pending()), Ok(()));
        let err = s.get("k").await.unwrap_err();
        assert_eq!(err.0, "tokenStore.get did not settle within 1000 ms");
    }
}
