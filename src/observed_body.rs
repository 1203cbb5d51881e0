//! A request body wrapper that tells an [`Observer`] about the bytes as they
//! are polled out (handed to the connection), and that the body ended.
//!
//! The one wrapper behind both byte counters of a request body: upload
//! progress (`progress::CountingBody`) and the hand-over record retries
//! decide on (`retry::Tracked`). It passes every frame through untouched.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// What an [`Observed`] body reports as it is polled.
pub trait Observer {
    /// A data frame of `len` bytes was polled out.
    fn on_data(&self, len: u64);
    /// The body was polled to its end.
    fn on_end(&self) {}
}

impl<T: Observer + ?Sized> Observer for Arc<T> {
    fn on_data(&self, len: u64) {
        (**self).on_data(len)
    }

    fn on_end(&self) {
        (**self).on_end()
    }
}

/// A body whose polled bytes are reported to its observer `O`.
pub struct Observed<B, O> {
    inner: B,
    observer: O,
}

impl<B, O> Observed<B, O> {
    pub fn wrap(inner: B, observer: O) -> Self {
        Observed { inner, observer }
    }
}

impl<B, O> Body for Observed<B, O>
where
    B: Body<Data = Bytes> + Unpin,
    O: Observer + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.observer.on_data(data.len() as u64);
                }
            }
            Poll::Ready(None) => self.observer.on_end(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
