//! "Now" as the server a client talks to sees it, for decisions that depend
//! on the server's clock rather than on ours (how long a `media_id` lives).
//!
//! For real servers that is our own wall clock. An emulator started in this
//! process registers its clock under its origin, so a client of that origin
//! shares it: `advanceClock(3 days)` then ages a cached `media_id` exactly as
//! it ages the emulator's media, as it would for both sides in the real
//! world. An emulator in another process is not seen (its clients keep their
//! own time).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

/// Origins (`http://127.0.0.1:PORT`) of in-process emulators and their clock offsets.
static CLOCKS: Mutex<Vec<(String, Weak<AtomicU64>)>> = Mutex::new(Vec::new());

/// Milliseconds since the epoch by our wall clock.
pub fn system_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Registers the clock offset of a server at `origin` (an emulator); the
/// registration ends when the last `Arc` of `offset` is dropped.
pub fn register(origin: &str, offset: &Arc<AtomicU64>) {
    let mut clocks = CLOCKS.lock().unwrap_or_else(|e| e.into_inner());
    clocks.retain(|(_, weak)| weak.strong_count() > 0);
    clocks.push((
        origin.trim_end_matches('/').to_string(),
        Arc::downgrade(offset),
    ));
}

/// How far ahead of our wall clock the server at `origin` is (0 for any
/// server but an in-process emulator).
fn offset_ms(origin: &str) -> u64 {
    let origin = origin.trim_end_matches('/');
    let clocks = CLOCKS.lock().unwrap_or_else(|e| e.into_inner());
    clocks
        .iter()
        .rev()
        .find(|(o, _)| o == origin)
        .and_then(|(_, weak)| weak.upgrade())
        .map_or(0, |offset| offset.load(Ordering::Relaxed))
}

/// "Now" in milliseconds since the epoch as the server at `origin` sees it.
pub fn now_ms(origin: &str) -> u64 {
    system_now_ms().saturating_add(offset_ms(origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_origin_is_our_own_time() {
        let before = system_now_ms();
        let now = now_ms("http://127.0.0.1:1");
        assert!(now >= before && now < before + 60_000);
    }

    #[test]
    fn a_registered_clock_is_shared_until_it_is_dropped() {
        let offset = Arc::new(AtomicU64::new(0));
        register("http://127.0.0.1:2/", &offset);
        offset.fetch_add(86_400_000, Ordering::Relaxed);
        assert!(now_ms("http://127.0.0.1:2") >= system_now_ms() + 86_400_000 - 1);
        drop(offset);
        assert!(now_ms("http://127.0.0.1:2") < system_now_ms() + 60_000);
    }
}
