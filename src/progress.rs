//! Transfer progress: counts bytes as they go out or come in and reports
//! them, throttled, to whoever listens (the JS `onProgress` callback).
//!
//! Rules (seed 004's `onProgressUpdate`, made predictable):
//! - an event is sent when `progress` has grown by at least 1 point, or
//!   100 ms after the previous one if bytes moved since, so a 10 MiB
//!   transfer gives about 100 events, however it is chunked;
//! - intermediate events never say 100; the one event with `progress: 100`
//!   is the last, sent once the call has succeeded and delivered before the
//!   call's promise settles;
//! - when a request is sent again (a retry, or the replay after a token
//!   refresh) the byte count starts over from 0 and the first event of the
//!   new attempt carries `retry: true`; apart from that `progress` never
//!   goes backwards.
//!
//! Nothing here exists for calls without `onProgress`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::observed_body::{Observed, Observer};

/// Minimum time between two events that each moved less than 1 %.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `{ progress, totalBytesSent, totalBytesExpectedToSend }`
    Upload,
    /// `{ progress, totalBytesWritten, totalBytesExpectedToWrite }`
    Download,
}

/// One progress report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressEvent {
    pub direction: Direction,
    /// Whole percent, 0–100 (0 while the total is unknown).
    pub progress: u32,
    /// Bytes sent or received so far in this attempt.
    pub done: u64,
    /// Bytes expected in total (0 while unknown: a reply without length).
    pub total: u64,
    /// The first event after the request was started again.
    pub retry: bool,
}

pub type Delivered = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where events go. `report` must not block; `report_last` resolves once the
/// event has been handled (so the final event precedes the call's result).
pub trait Reporter: Send + Sync {
    fn report(&self, event: ProgressEvent);
    fn report_last(&self, event: ProgressEvent) -> Delivered;
}

#[derive(Debug)]
struct State {
    attempts: u32,
    done: u64,
    total: u64,
    last_progress: u32,
    last_done: u64,
    last_at: Option<Instant>,
    retry_pending: bool,
}

/// The progress of one call in one direction.
pub struct Progress {
    direction: Direction,
    reporter: Arc<dyn Reporter>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}

fn percent(done: u64, total: u64) -> u32 {
    if total == 0 {
        return 0;
    }
    ((done.min(total) as u128 * 100) / total as u128) as u32
}

impl Progress {
    pub fn new(direction: Direction, reporter: Arc<dyn Reporter>) -> Self {
        Progress {
            direction,
            reporter,
            state: Mutex::new(State {
                attempts: 0,
                done: 0,
                total: 0,
                last_progress: 0,
                last_done: 0,
                last_at: None,
                retry_pending: false,
            }),
        }
    }

    pub fn direction(&self) -> Direction {
        self.direction
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new attempt starts, expecting `total` bytes (0: unknown).
    pub fn begin(&self, total: u64) {
        let mut s = self.state();
        s.attempts += 1;
        s.retry_pending = s.attempts > 1;
        s.done = 0;
        s.total = total;
        s.last_progress = 0;
        s.last_done = 0;
    }

    /// `n` more bytes went through.
    pub fn advance(&self, n: u64) {
        let event = {
            let mut s = self.state();
            s.done = s.done.saturating_add(n);
            if s.total > 0 && s.done >= s.total {
                return; // 100 is said once, by `finish`
            }
            let progress = percent(s.done, s.total);
            let now = Instant::now();
            let stepped = progress > s.last_progress;
            let waited =
                s.last_at.is_none_or(|at| now - at >= MIN_INTERVAL) && s.done > s.last_done;
            if !(stepped || waited || s.retry_pending) {
                return;
            }
            s.last_progress = progress;
            s.last_done = s.done;
            s.last_at = Some(now);
            let retry = std::mem::take(&mut s.retry_pending);
            ProgressEvent {
                direction: self.direction,
                progress,
                done: s.done,
                total: s.total,
                retry,
            }
        };
        self.reporter.report(event);
    }

    /// The call succeeded: the final event (100 %), delivered before this
    /// resolves. A call that never started a transfer reports nothing.
    pub async fn finish(&self) {
        let event = {
            let s = self.state();
            if s.attempts == 0 {
                return;
            }
            let total = if s.total == 0 { s.done } else { s.total };
            ProgressEvent {
                direction: self.direction,
                progress: 100,
                done: total,
                total,
                retry: s.retry_pending,
            }
        };
        self.reporter.report_last(event).await;
    }
}

impl Observer for Progress {
    fn on_data(&self, len: u64) {
        self.advance(len);
    }
}

/// A request body that reports each frame as it is handed to the connection.
pub type CountingBody<B> = Observed<B, Arc<Progress>>;

impl<B> CountingBody<B> {
    pub fn new(inner: B, progress: Arc<Progress>, len: u64) -> Self {
        progress.begin(len);
        Observed::wrap(inner, progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<ProgressEvent>>);

    impl Reporter for Recorder {
        fn report(&self, event: ProgressEvent) {
            self.0.lock().expect("lock").push(event);
        }
        fn report_last(&self, event: ProgressEvent) -> Delivered {
            self.report(event);
            Box::pin(async {})
        }
    }

    fn tracker() -> (Arc<Recorder>, Progress) {
        let rec = Arc::new(Recorder::default());
        (rec.clone(), Progress::new(Direction::Download, rec))
    }

    #[tokio::test]
    async fn at_most_one_event_per_percent_and_last_is_100() {
        let (rec, p) = tracker();
        p.begin(10 * 1024 * 1024);
        for _ in 0..(10 * 1024 * 1024 / 1024) {
            p.advance(1024);
        }
        p.finish().await;
        let events = rec.0.lock().expect("lock").clone();
        assert!(events.len() <= 101, "{} events", events.len());
        assert!(events.windows(2).all(|w| w[0].progress <= w[1].progress));
        let last = events.last().expect("events");
        assert_eq!((last.progress, last.done), (100, 10 * 1024 * 1024));
        assert_eq!(events.iter().filter(|e| e.progress == 100).count(), 1);
    }

    #[tokio::test]
    async fn a_second_attempt_says_retry() {
        let (rec, p) = tracker();
        p.begin(100);
        p.advance(50);
        p.begin(100);
        p.advance(10);
        p.finish().await;
        let events = rec.0.lock().expect("lock").clone();
        assert_eq!(events[0].progress, 50);
        assert!(!events[0].retry);
        assert_eq!((events[1].progress, events[1].retry), (10, true));
        assert_eq!(events.last().map(|e| e.progress), Some(100));
    }

    #[tokio::test]
    async fn unknown_total_reports_bytes_and_ends_at_what_arrived() {
        let (rec, p) = tracker();
        p.begin(0);
        p.advance(7);
        p.finish().await;
        let events = rec.0.lock().expect("lock").clone();
        assert_eq!((events[0].progress, events[0].done), (0, 7));
        let last = events.last().expect("last");
        assert_eq!((last.progress, last.done, last.total), (100, 7, 7));
    }
}
