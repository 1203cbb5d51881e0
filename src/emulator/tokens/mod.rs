//! Access tokens: `/cgi-bin/token`, `/cgi-bin/stable_token`, and the check
//! every other WeChat endpoint makes on `access_token` / `cloudbase_access_token`.

use std::collections::HashMap;

use hyper::Method;
use serde_json::{json, Value};

use super::http::{random_string, Incoming, Reply, WxError, URL_SAFE};
use super::state::{lock, Shared};

/// Lifetime WeChat gives every access token.
pub(crate) const TOKEN_TTL_MS: u64 = 7_200_000;
/// How long a superseded token keeps working (both endpoints, per the docs).
const GRACE_MS: u64 = 300_000;
/// Normal-mode stable_token hands out a new token once the current one has
/// less than this left ("the platform refreshes 5 minutes early").
const STABLE_ROTATE_MS: u64 = 300_000;
const FORCE_REFRESHES_PER_DAY: u32 = 20;
const DAY_MS: u64 = 86_400_000;
const TOKEN_PREFIX: &str = "EMU_";
/// Real tokens are 130+ chars; clients must not assume a shorter length.
const TOKEN_RANDOM_LEN: usize = 132;
/// Tokens dead for longer than this are forgotten (they then read as unknown → 40001).
const FORGET_AFTER_MS: u64 = DAY_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Legacy,
    Stable,
    Issued,
    Cloudbase,
}

#[derive(Debug, Clone)]
pub(crate) struct TokenRecord {
    pub(crate) appid: String,
    pub(crate) kind: TokenKind,
    pub(crate) expires_at_ms: u64,
    /// Set when a newer token superseded this one: the end of its grace.
    pub(crate) invalid_after_ms: Option<u64>,
}

#[derive(Default)]
struct AppTokens {
    legacy_current: Option<String>,
    stable_current: Option<String>,
    /// (emulator day number, force refreshes that day)
    force_refreshes: (u64, u32),
}

/// Every token minted so far, and which one is current per app and endpoint.
#[derive(Default)]
pub(crate) struct TokenStore {
    tokens: HashMap<String, TokenRecord>,
    apps: HashMap<String, AppTokens>,
}

impl TokenStore {
    pub(crate) fn issue(&mut self, appid: &str, kind: TokenKind, now_ms: u64) -> String {
        self.forget_long_dead(now_ms);
        let token = format!(
            "{TOKEN_PREFIX}{}",
            random_string(TOKEN_RANDOM_LEN, URL_SAFE)
        );
        let record = TokenRecord {
            appid: appid.to_owned(),
            kind,
            expires_at_ms: now_ms + TOKEN_TTL_MS,
            invalid_after_ms: None,
        };
        self.tokens.insert(token.clone(), record);
        token
    }

    /// `/cgi-bin/token`: always a new token; the previous one gets the grace.
    pub(crate) fn fetch_legacy(&mut self, appid: &str, now_ms: u64) -> String {
        let token = self.issue(appid, TokenKind::Legacy, now_ms);
        let previous = self
            .apps
            .entry(appid.to_owned())
            .or_default()
            .legacy_current
            .replace(token.clone());
        self.start_grace(previous, now_ms);
        token
    }

    /// `/cgi-bin/stable_token`: (token, expires_in seconds).
    pub(crate) fn fetch_stable(
        &mut self,
        appid: &str,
        force_refresh: bool,
        now_ms: u64,
    ) -> Result<(String, u64), WxError> {
        if force_refresh {
            self.count_force_refresh(appid, now_ms)?;
            let token = self.issue(appid, TokenKind::Stable, now_ms);
            let previous = self.app(appid).stable_current.replace(token.clone());
            self.start_grace(previous, now_ms);
            return Ok((token, TOKEN_TTL_MS / 1000));
        }
        if let Some((token, remaining_ms)) = self.current_stable(appid, now_ms) {
            if remaining_ms >= STABLE_ROTATE_MS {
                return Ok((token, remaining_ms / 1000));
            }
        }
        // Rotation: the old token simply runs to its own expiry.
        let token = self.issue(appid, TokenKind::Stable, now_ms);
        self.app(appid).stable_current = Some(token.clone());
        Ok((token, TOKEN_TTL_MS / 1000))
    }

    /// Makes every token minted so far expired (42001) and forgets the
    /// current ones, so the next fetch mints fresh tokens.
    pub(crate) fn expire_all(&mut self, now_ms: u64) {
        for record in self.tokens.values_mut() {
            record.expires_at_ms = record.expires_at_ms.min(now_ms);
        }
        for app in self.apps.values_mut() {
            app.legacy_current = None;
            app.stable_current = None;
        }
    }

    /// The record of a usable token, or the errcode WeChat gives for it.
    pub(crate) fn check(&self, token: &str, now_ms: u64) -> Result<&TokenRecord, WxError> {
        let record = self.tokens.get(token).ok_or_else(invalid_credential)?;
        if record.invalid_after_ms.is_some_and(|end| now_ms >= end) {
            return Err(invalid_credential());
        }
        if now_ms >= record.expires_at_ms {
            return Err(WxError::new(42001, "access_token expired"));
        }
        Ok(record)
    }

    fn app(&mut self, appid: &str) -> &mut AppTokens {
        self.apps.entry(appid.to_owned()).or_default()
    }

    fn current_stable(&self, appid: &str, now_ms: u64) -> Option<(String, u64)> {
        let token = self.apps.get(appid)?.stable_current.as_ref()?;
        let record = self.check(token, now_ms).ok()?;
        Some((token.clone(), record.expires_at_ms - now_ms))
    }

    fn start_grace(&mut self, previous: Option<String>, now_ms: u64) {
        let record = previous.and_then(|token| self.tokens.get_mut(&token));
        if let Some(record) = record {
            let end = now_ms + GRACE_MS;
            record.invalid_after_ms = Some(record.invalid_after_ms.map_or(end, |e| e.min(end)));
        }
    }

    fn count_force_refresh(&mut self, appid: &str, now_ms: u64) -> Result<(), WxError> {
        let today = now_ms / DAY_MS;
        let app = self.app(appid);
        if app.force_refreshes.0 != today {
            app.force_refreshes = (today, 0);
        }
        if app.force_refreshes.1 >= FORCE_REFRESHES_PER_DAY {
            return Err(WxError::new(45009, "reach max api daily quota limit"));
        }
        app.force_refreshes.1 += 1;
        Ok(())
    }

    /// Keeps the map bounded when a client fetches tokens in a loop.
    fn forget_long_dead(&mut self, now_ms: u64) {
        if self.tokens.len() % 1024 != 1023 {
            return;
        }
        self.tokens.retain(|_, r| {
            let dead_since = r.invalid_after_ms.unwrap_or(u64::MAX).min(r.expires_at_ms);
            dead_since.saturating_add(FORGET_AFTER_MS) > now_ms
        });
    }
}

fn invalid_credential() -> WxError {
    WxError::new(
        40001,
        "invalid credential, access_token is invalid or not latest",
    )
}

/// Who is calling an API, once its token checked out.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Caller {
    /// Cloud-run open-API service mode: no token at all.
    OpenApiService,
    App {
        appid: String,
    },
}

impl Caller {
    pub(crate) fn appid(&self) -> Option<&str> {
        match self {
            Caller::OpenApiService => None,
            Caller::App { appid } => Some(appid),
        }
    }
}

/// Checks `?access_token=` or `?cloudbase_access_token=` the way WeChat does.
pub(crate) fn authorize(shared: &Shared, req: &Incoming) -> Result<Caller, WxError> {
    let access = req.query_param("access_token").filter(|t| !t.is_empty());
    let cloudbase = req
        .query_param("cloudbase_access_token")
        .filter(|t| !t.is_empty());
    let (token, want_cloudbase) = match (access, cloudbase) {
        (Some(token), _) => (token, false),
        (None, Some(token)) => (token, true),
        (None, None) if shared.opts.open_api_service => return Ok(Caller::OpenApiService),
        (None, None) => return Err(WxError::new(41001, "access_token missing")),
    };
    let now = shared.clock.now_ms();
    let tokens = lock(&shared.tokens);
    let record = tokens.check(token, now)?;
    // A cloudbase token is only good as `cloudbase_access_token`, and vice versa.
    if (record.kind == TokenKind::Cloudbase) != want_cloudbase {
        return Err(invalid_credential());
    }
    Ok(Caller::App {
        appid: record.appid.clone(),
    })
}

/// `GET /cgi-bin/token?grant_type=client_credential&appid=&secret=`
pub(crate) fn handle_legacy(shared: &Shared, req: &Incoming) -> Reply {
    if req.method != Method::GET {
        return WxError::new(43001, "require GET method").reply();
    }
    let credentials = Credentials {
        grant_type: req.query_param("grant_type"),
        appid: req.query_param("appid"),
        secret: req.query_param("secret"),
    };
    match credentials.verify(shared) {
        Ok(appid) => {
            let now = shared.clock.now_ms();
            let token = lock(&shared.tokens).fetch_legacy(appid, now);
            Reply::json(&json!({ "access_token": token, "expires_in": TOKEN_TTL_MS / 1000 }))
        }
        Err(err) => err.reply(),
    }
}

/// `POST /cgi-bin/stable_token` with a JSON body.
pub(crate) fn handle_stable(shared: &Shared, req: &Incoming) -> Reply {
    match stable_token(shared, req) {
        Ok(body) => Reply::json(&body),
        Err(err) => err.reply(),
    }
}

fn stable_token(shared: &Shared, req: &Incoming) -> Result<Value, WxError> {
    if req.method != Method::POST {
        return Err(WxError::new(43002, "require POST method"));
    }
    let body = parse_json_body(&req.body)?;
    let field = |name: &str| body.get(name).and_then(Value::as_str);
    let credentials = Credentials {
        grant_type: field("grant_type"),
        appid: field("appid"),
        secret: field("secret"),
    };
    let appid = credentials.verify(shared)?;
    let force_refresh = match body.get("force_refresh") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(force)) => *force,
        Some(_) => return Err(WxError::new(40097, "invalid args: force_refresh")),
    };
    let now = shared.clock.now_ms();
    let (token, expires_in) = lock(&shared.tokens).fetch_stable(appid, force_refresh, now)?;
    Ok(json!({ "access_token": token, "expires_in": expires_in }))
}

/// A JSON object body, with WeChat's errcodes for empty or malformed ones.
pub(crate) fn parse_json_body(body: &[u8]) -> Result<serde_json::Map<String, Value>, WxError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(WxError::new(44002, "empty post data"));
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(WxError::new(47001, "data format error")),
    }
}

struct Credentials<'a> {
    grant_type: Option<&'a str>,
    appid: Option<&'a str>,
    secret: Option<&'a str>,
}

impl<'a> Credentials<'a> {
    /// The appid, once grant type, appid and secret all check out.
    fn verify(&self, shared: &Shared) -> Result<&'a str, WxError> {
        if self.grant_type != Some("client_credential") {
            return Err(WxError::new(40002, "invalid grant_type"));
        }
        let appid = self
            .appid
            .filter(|a| !a.is_empty())
            .ok_or_else(|| WxError::new(41002, "appid missing"))?;
        let expected = shared
            .secret_of(appid)
            .ok_or_else(|| WxError::new(40013, "invalid appid"))?;
        match self.secret.filter(|s| !s.is_empty()) {
            None => Err(WxError::new(41004, "appsecret missing")),
            Some(secret) if secret != expected => Err(WxError::new(40125, "invalid appsecret")),
            Some(_) => Ok(appid),
        }
    }
}

#[cfg(test)]
mod tests;
