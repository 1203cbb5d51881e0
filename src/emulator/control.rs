//! The emulator's own controls (stats, faults, clock, tokens), as methods on
//! the shared state and as `/__emulator/*` HTTP routes for a separate process.

use hyper::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::fault_body;
use super::faults::Fault;
use super::http::{Incoming, Reply};
use super::media::VIDEO_PREFIX;
use super::state::{lock, Shared};
use super::tokens::TokenKind;

const CONTROL_PREFIX: &str = "/__emulator/";

impl Shared {
    pub(crate) fn stats(&self) -> Value {
        let recorder = lock(&self.recorder);
        let counts = recorder.counts();
        let token_fetches: u64 = ["/cgi-bin/token", "/cgi-bin/stable_token"]
            .iter()
            .filter_map(|route| counts.get(*route))
            .sum();
        let (stored_media, stored_media_bytes) = {
            let media = lock(&self.media);
            (media.len(), media.total_bytes())
        };
        let (stored_objects, stored_object_bytes) = {
            let storage = lock(&self.storage);
            (storage.object_count(), storage.object_bytes())
        };
        json!({
            "requests": counts,
            "tokenFetches": token_fetches,
            "storedMedia": stored_media,
            "storedMediaBytes": stored_media_bytes,
            "storedObjects": stored_objects,
            "storedObjectBytes": stored_object_bytes,
        })
    }

    pub(crate) fn requests(&self, path_prefix: Option<&str>) -> Value {
        lock(&self.recorder).records(path_prefix)
    }

    pub(crate) fn clear_requests(&self) {
        lock(&self.recorder).clear_records();
    }

    /// Clears the request log, the counters and the faults (not the stores).
    pub(crate) fn reset(&self) {
        lock(&self.recorder).clear();
        lock(&self.faults).clear();
        lock(&self.outbox).clear();
    }

    pub(crate) fn expire_tokens(&self) {
        let now = self.clock.now_ms();
        lock(&self.tokens).expire_all(now);
    }

    pub(crate) fn advance_clock(&self, ms: u64) {
        self.clock.advance(ms);
    }

    pub(crate) fn inject_fault(&self, fault: Fault) {
        lock(&self.faults).push(fault);
    }

    pub(crate) fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    /// The active faults, in matching order, with the hits each has left.
    pub(crate) fn faults(&self) -> Value {
        lock(&self.faults).list()
    }

    /// A valid access token for `appid` (default: the first app), as an
    /// external token service would hand out; only for an app it knows.
    pub(crate) fn issue_token(&self, appid: Option<&str>) -> Result<String, String> {
        let appid = match appid {
            None => self.first_appid(),
            Some(appid) if self.secret_of(appid).is_some() => appid.to_owned(),
            Some(appid) => {
                let known: Vec<&str> = self.opts.apps.iter().map(|(a, _)| a.as_str()).collect();
                return Err(format!(
                    "unknown appid '{appid}': this emulator knows {}",
                    known.join(", ")
                ));
            }
        };
        let now = self.clock.now_ms();
        Ok(lock(&self.tokens).issue(&appid, TokenKind::Issued, now))
    }

    pub(crate) fn issue_cloudbase_token(&self) -> String {
        let now = self.clock.now_ms();
        lock(&self.tokens).issue(&self.first_appid(), TokenKind::Cloudbase, now)
    }

    pub(crate) fn info(&self) -> Value {
        let apps: Vec<Value> = self
            .opts
            .apps
            .iter()
            .map(|(appid, secret)| json!({ "appid": appid, "secret": secret }))
            .collect();
        json!({ "url": self.base_url, "apps": apps, "envs": self.opts.envs })
    }
}

/// Control routes are not counted, logged or subject to faults; the video
/// download path under the same prefix is emulated service content and is.
pub(crate) fn is_control_path(path: &str) -> bool {
    path.starts_with(CONTROL_PREFIX) && !path.starts_with(VIDEO_PREFIX)
}

/// `/__emulator/<action>`
pub(crate) fn handle(shared: &Shared, req: &Incoming) -> Reply {
    let action = req.path.strip_prefix(CONTROL_PREFIX).unwrap_or_default();
    let result = match (&req.method, action) {
        (&Method::GET, "stats") => Ok(shared.stats()),
        (&Method::GET, "requests") => Ok(shared.requests(req.query_param("path"))),
        (&Method::DELETE, "requests") => done(|| shared.clear_requests()),
        (&Method::GET, "info") => Ok(shared.info()),
        (&Method::GET, "faults") => Ok(shared.faults()),
        (&Method::POST, "faults") => inject_faults(shared, &req.body),
        (&Method::DELETE, "faults") => done(|| shared.clear_faults()),
        (&Method::POST, "expire-tokens") => done(|| shared.expire_tokens()),
        (&Method::POST, "advance-clock") => advance_clock(shared, &req.body),
        (&Method::POST, "issue-token") => issue_token(shared, &req.body),
        (&Method::POST, "issue-cloudbase-token") => {
            Ok(json!({ "cloudbase_access_token": shared.issue_cloudbase_token() }))
        }
        (&Method::POST, "reset") => done(|| shared.reset()),
        (&Method::GET, "cloud-function-env") => {
            Ok(json!(super::gateway::cloud_function_env(shared)))
        }
        (&Method::POST, "rotate-cloud-credentials") => Ok(json!(super::gateway::rotate(shared))),
        _ => {
            return Reply::json_with_status(
                StatusCode::NOT_FOUND,
                &json!({ "error": "unknown emulator control" }),
            )
        }
    };
    match result {
        Ok(body) => Reply::json(&body),
        Err(message) => {
            Reply::json_with_status(StatusCode::BAD_REQUEST, &json!({ "error": message }))
        }
    }
}

fn done(action: impl FnOnce()) -> Result<Value, String> {
    action();
    Ok(json!({ "ok": true }))
}

/// An optional JSON body: empty means `T::default()`.
fn parse_body<T: for<'de> Deserialize<'de> + Default>(body: &[u8]) -> Result<T, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| format!("bad JSON body: {e}"))
}

fn inject_faults(shared: &Shared, body: &[u8]) -> Result<Value, String> {
    let faults = fault_body::parse(body)?;
    let injected = faults.len();
    for fault in faults {
        shared.inject_fault(fault);
    }
    Ok(json!({ "ok": true, "injected": injected, "active": lock(&shared.faults).len() }))
}

fn advance_clock(shared: &Shared, body: &[u8]) -> Result<Value, String> {
    #[derive(Deserialize)]
    struct Advance {
        ms: u64,
    }
    let Advance { ms } =
        serde_json::from_slice(body).map_err(|e| format!("expected {{\"ms\": N}}: {e}"))?;
    shared.advance_clock(ms);
    Ok(json!({ "ok": true, "now": shared.clock.now_ms() }))
}

fn issue_token(shared: &Shared, body: &[u8]) -> Result<Value, String> {
    #[derive(Deserialize, Default)]
    struct Issue {
        appid: Option<String>,
    }
    let Issue { appid } = parse_body(body)?;
    Ok(json!({ "access_token": shared.issue_token(appid.as_deref())? }))
}
