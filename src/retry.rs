//! When a request may be sent again (README "Retries"), and the body
//! wrapper that tells whether a request body was ever handed over in full.
//!
//! A request that is not idempotent (`media/upload`, a message send) is sent
//! again only when it provably did not reach the server: the connection
//! failed before its body was fully handed to the connection, the pooled
//! connection was found closed before sending, or the server answered that
//! it did not process it (429, 503 with an empty body). An
//! idempotent request (token and JSON lookups, a COS upload to the same key,
//! downloads) is also retried after other network errors, any 5xx and
//! errcode -1 (system busy).
//! Timeouts are never retried: the server may have acted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use http_body::Body;

use crate::observed_body::{Observed, Observer};

/// How freely a request may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Sending it twice has the effect of sending it once.
    Idempotent,
    /// Sending it twice may act twice: only provably unsent attempts are repeated.
    UnsentOnly,
}

/// What happened to one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP reply arrived.
    Reply { status: u16, empty_body: bool },
    /// The server said "busy, not processed" in its JSON (`errcode` -1).
    Busy,
    /// The transport failed; `unsent` when the request provably never reached the server whole.
    Failed { unsent: bool },
    /// Timed out (never retried).
    TimedOut,
    /// A failure repeating cannot help: the upload's own source failed, or
    /// the reply is over the size limit (never retried).
    Final,
}

/// Whether `outcome` may be followed by another attempt of a request of class `retry`.
pub fn may_retry(retry: Retry, outcome: Outcome) -> bool {
    match outcome {
        Outcome::Reply { status, empty_body } => {
            let not_processed = status == 429 || (status == 503 && empty_body);
            not_processed || (retry == Retry::Idempotent && status >= 500)
        }
        // errcode -1 says "busy", not "not processed": only lookups repeat it.
        Outcome::Busy => retry == Retry::Idempotent,
        Outcome::Failed { unsent } => unsent || retry == Retry::Idempotent,
        Outcome::TimedOut | Outcome::Final => false,
    }
}

/// Shared view of how far a request body got.
#[derive(Debug, Default)]
pub struct Progress {
    handed: AtomicU64,
    complete: AtomicBool,
}

impl Progress {
    /// True once every byte of the body was handed to the connection (it may
    /// have reached the server). False means the server cannot have the whole request.
    pub fn complete(&self) -> bool {
        self.complete.load(Ordering::Acquire)
    }

    pub fn handed(&self) -> u64 {
        self.handed.load(Ordering::Relaxed)
    }
}

/// Records in [`Progress`] how much of a body of `len` bytes was polled out.
pub struct HandOff {
    len: Option<u64>,
    progress: Arc<Progress>,
}

impl Observer for HandOff {
    fn on_data(&self, len: u64) {
        let handed = self.progress.handed.fetch_add(len, Ordering::Relaxed) + len;
        if self.len.is_some_and(|len| handed >= len) {
            self.progress.complete.store(true, Ordering::Release);
        }
    }

    fn on_end(&self) {
        self.progress.complete.store(true, Ordering::Release);
    }
}

/// A body that records in [`Progress`] how much of it was polled out.
pub type Tracked<B> = Observed<B, HandOff>;

impl<B: Body> Tracked<B> {
    pub fn new(inner: B) -> (Self, Arc<Progress>) {
        let progress = Arc::new(Progress::default());
        let len = inner.size_hint().exact();
        if len == Some(0) {
            progress.complete.store(true, Ordering::Release);
        }
        let observer = HandOff {
            len,
            progress: progress.clone(),
        };
        (Observed::wrap(inner, observer), progress)
    }
}

/// Whether a transport error proves the request was never sent: a failed
/// connect, or a request hyper cancelled because its pooled connection
/// closed before it was written.
pub fn provably_unsent(err: &reqwest::Error, progress: &Progress) -> bool {
    if err.is_connect() || !progress.complete() {
        return true;
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if cause
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_canceled)
        {
            return true;
        }
        source = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};

    #[test]
    fn rules_per_class() {
        use Outcome::*;
        use Retry::*;
        let stored_then_dropped = Failed { unsent: false };
        assert!(!may_retry(UnsentOnly, stored_then_dropped));
        assert!(may_retry(Idempotent, stored_then_dropped));
        assert!(may_retry(UnsentOnly, Failed { unsent: true }));
        for (status, empty, unsent_only, idempotent) in [
            (429, false, true, true),
            (503, true, true, true),
            (503, false, false, true),
            (502, true, false, true),
            (500, true, false, true),
            (400, true, false, false),
            (200, false, false, false),
        ] {
            let o = Reply {
                status,
                empty_body: empty,
            };
            assert_eq!(may_retry(UnsentOnly, o), unsent_only, "{status}");
            assert_eq!(may_retry(Idempotent, o), idempotent, "{status}");
        }
        assert!(!may_retry(UnsentOnly, Busy));
        assert!(may_retry(Idempotent, Busy));
        assert!(!may_retry(Idempotent, TimedOut));
    }

    #[tokio::test]
    async fn progress_completes_with_the_last_byte() {
        let (body, progress) = Tracked::new(Full::new(Bytes::from_static(b"hello")));
        assert!(!progress.complete());
        let collected = body.collect().await.expect("infallible").to_bytes();
        assert_eq!(&collected[..], b"hello");
        assert!(progress.complete());
        assert_eq!(progress.handed(), 5);
        let (_, empty) = Tracked::new(Full::new(Bytes::new()));
        assert!(empty.complete());
    }
}
