//! The debug log: with `WX_MEDIA_LOG=debug`, or `DEBUG=wx-media` (also a
//! `DEBUG` list naming it, `wx-media*`, `wx-*` or `*`, as the `debug`
//! package reads it), one line per HTTP attempt, retry and token fetch goes
//! to stderr: method, path (never the query), status or error code, attempt
//! and milliseconds. Every line goes through [`crate::secrets::scrub`], the
//! redaction the errors use, so no token, secret or signature is written.

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::error::WxError;
use crate::secrets::scrub;

const NAME: &str = "wx-media";

/// Whether the log is on; read from the environment once per process.
pub fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| {
        wanted(
            std::env::var("WX_MEDIA_LOG").ok().as_deref(),
            std::env::var("DEBUG").ok().as_deref(),
        )
    })
}

/// `WX_MEDIA_LOG=debug` (or `trace`), or a `DEBUG` list that names us and
/// does not exclude us (`-wx-media`).
fn wanted(wx_media_log: Option<&str>, debug: Option<&str>) -> bool {
    if let Some(level) = wx_media_log {
        if matches!(
            level.trim().to_ascii_lowercase().as_str(),
            "debug" | "trace"
        ) {
            return true;
        }
    }
    let Some(list) = debug else {
        return false;
    };
    let mut on = false;
    for pattern in list.split([',', ' ']).filter(|p| !p.is_empty()) {
        match pattern.strip_prefix('-') {
            Some(excluded) if matches(excluded) => return false,
            Some(_) => {}
            None => on |= matches(pattern),
        }
    }
    on
}

fn matches(pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => NAME.starts_with(prefix),
        None => pattern == NAME,
    }
}

fn emit(line: String) {
    eprintln!("{NAME} {}", scrub(&line));
}

fn outcome_text<T>(outcome: &Result<T, WxError>, status: impl Fn(&T) -> u16) -> String {
    match outcome {
        Ok(reply) => format!("status={}", status(reply)),
        Err(e) => match e.status {
            Some(s) => format!("status={s} error={}", e.kind.as_str()),
            None => format!("status=- error={}", e.kind.as_str()),
        },
    }
}

/// One HTTP attempt and how it ended.
pub fn request<T>(
    method: &str,
    path: &str,
    attempt: u32,
    elapsed: Duration,
    outcome: &Result<T, WxError>,
    status: impl Fn(&T) -> u16,
) {
    if enabled() {
        emit(format!(
            "request {method} {path} {} attempt={attempt} ms={}",
            outcome_text(outcome, status),
            elapsed.as_millis()
        ));
    }
}

/// The next attempt of a request, after `delay`.
pub fn retry(method: &str, path: &str, next_attempt: u32, delay: Duration) {
    if enabled() {
        emit(format!(
            "retry {method} {path} attempt={next_attempt} after_ms={}",
            delay.as_millis()
        ));
    }
}

/// Runs a token fetch from `source` and logs how it ended.
pub async fn token_fetch<T>(
    source: &str,
    fetch: impl Future<Output = Result<T, WxError>>,
) -> Result<T, WxError> {
    let started = Instant::now();
    let outcome = fetch.await;
    if enabled() {
        let result = match &outcome {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("error={} errCode={}", e.kind.as_str(), e.err_code),
        };
        emit(format!(
            "token fetch source={source} {result} ms={}",
            started.elapsed().as_millis()
        ));
    }
    outcome
}

/// A warning written once (per `WarnOnce`) when the log is on: a fleet
/// store that failed, and the call went on without it.
pub struct WarnOnce(std::sync::atomic::AtomicBool);

impl WarnOnce {
    pub const fn new() -> Self {
        WarnOnce(std::sync::atomic::AtomicBool::new(false))
    }

    pub fn warn(&self, text: &str) {
        use std::sync::atomic::Ordering;
        if enabled() && !self.0.swap(true, Ordering::Relaxed) {
            emit(format!("warning {text}"));
        }
    }
}

impl Default for WarnOnce {
    fn default() -> Self {
        Self::new()
    }
}

/// What the media cache did for one upload (`hit`, `miss`, `wait`, `bypass`).
pub fn media_cache(event: &str, media_type: &str) {
    if enabled() {
        emit(format!("media-cache {event} type={media_type}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wx_media_log_and_debug_lists() {
        assert!(wanted(Some("debug"), None));
        assert!(wanted(Some("DEBUG"), None));
        assert!(!wanted(Some("info"), None));
        assert!(!wanted(None, None));
        assert!(wanted(None, Some("wx-media")));
        assert!(wanted(None, Some("express:*,wx-media")));
        assert!(wanted(None, Some("express:* wx-*")));
        assert!(wanted(None, Some("*")));
        assert!(!wanted(None, Some("*,-wx-media")));
        assert!(!wanted(None, Some("wx-mediax,express")));
        assert!(!wanted(None, Some("")));
    }
}
