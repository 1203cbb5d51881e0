//! `WxClient.close()`: a client's work can be ended. Every call runs under
//! [`Lifecycle::guard`] (through `Client::run`, once per call); closing cancels what is in flight (the call
//! rejects `CLIENT_CLOSED`), refuses what comes later, and waits until every
//! guarded call has let go, so that the connection pool can be dropped.

use std::future::Future;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::error::WxError;

#[derive(Default)]
pub struct Lifecycle {
    closed: CancellationToken,
    in_flight: TaskTracker,
}

impl Lifecycle {
    pub fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Runs `work` unless the client is or gets closed; then it is dropped
    /// where it stands and the call rejects `CLIENT_CLOSED`.
    pub async fn guard<T>(
        &self,
        work: impl Future<Output = Result<T, WxError>>,
    ) -> Result<T, WxError> {
        if self.is_closed() {
            return Err(WxError::client_closed());
        }
        let work = self.in_flight.track_future(work);
        tokio::select! {
            biased;
            _ = self.closed.cancelled() => Err(WxError::client_closed()),
            outcome = work => outcome,
        }
    }

    /// Cancels every guarded call and resolves once none is left running.
    pub async fn close(&self) {
        self.closed.cancel();
        self.in_flight.close();
        self.in_flight.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn close_cancels_pending_work_and_refuses_new_work() {
        let life = Arc::new(Lifecycle::default());
        let pending = tokio::spawn({
            let life = life.clone();
            async move {
                life.guard(async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(())
                })
                .await
            }
        });
        tokio::task::yield_now().await;
        assert_eq!(life.guard(async { Ok(7) }).await, Ok(7));
        tokio::time::timeout(Duration::from_secs(5), life.close())
            .await
            .expect("close does not wait for the sleeping call");
        let err = pending.await.expect("joined").expect_err("cancelled");
        assert_eq!(err.kind, ErrorKind::ClientClosed);
        let later = life.guard(async { Ok(1) }).await.expect_err("refused");
        assert_eq!(later.kind, ErrorKind::ClientClosed);
        assert!(later.detail.contains("closed"));
    }
}
