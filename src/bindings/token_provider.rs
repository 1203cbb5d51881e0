//! A JS token function (`accessToken` / `cloudbaseAccessToken`) called from
//! Rust. Whatever it does — throws, returns `42` or `{}`, resolves to a
//! non-string, rejects — becomes a `TOKEN_ERROR` of the call that needed the
//! token; nothing reaches Node as an uncaught exception, and no JS exception
//! is left pending. The caller bounds how long it waits (token.rs).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use tokio::sync::oneshot;

use crate::config::{TokenFuture, TokenProvider};
use crate::error::{ErrorKind, WxError};

use super::args::describe;
use super::js_settle::{self, Settled, Wording};

type ProviderFn = ThreadsafeFunction<(), Unknown<'static>, (), Status, false, true>;
type Outcome = std::result::Result<String, String>;

pub struct JsTokenProvider {
    tsfn: Arc<ProviderFn>,
    option: &'static str,
}

impl JsTokenProvider {
    pub fn new(func: Function<(), Unknown<'static>>, option: &'static str) -> Result<Self> {
        // Weak: a pending provider must not keep the process alive by itself.
        let tsfn = func
            .build_threadsafe_function::<()>()
            .callee_handled::<false>()
            .weak::<true>()
            .build()?;
        Ok(JsTokenProvider {
            tsfn: Arc::new(tsfn),
            option,
        })
    }
}

impl TokenProvider for JsTokenProvider {
    fn fetch(&self) -> TokenFuture {
        let tsfn = self.tsfn.clone();
        let option = self.option;
        Box::pin(async move {
            let failed = |detail: String| {
                WxError::new(
                    ErrorKind::Token,
                    -1,
                    format!("the {option} function failed: {detail}"),
                )
            };
            let (tx, rx) = oneshot::channel::<Outcome>();
            let status = tsfn.call_with_return_value(
                (),
                ThreadsafeFunctionCallMode::NonBlocking,
                move |returned, env| {
                    settle_returned(&env, returned, tx);
                    Ok(())
                },
            );
            if status != Status::Ok {
                return Err(failed(format!("cannot call it ({status})")));
            }
            rx.await
                .map_err(|_| failed("it was not called (the JS environment is closing)".into()))?
                .map_err(failed)
        })
    }
}

/// On the JS thread: what the provider returned, as a string or an error
/// sent through `tx` (now, or when its promise settles).
fn settle_returned(env: &Env, returned: Result<Unknown<'static>>, tx: oneshot::Sender<Outcome>) {
    let wording = Wording {
        threw: "it threw".into(),
        rejected: "its promise rejected".into(),
        unawaitable: "it returned a promise that cannot be awaited".into(),
    };
    js_settle::settle(env, returned, tx, wording, |_, value, how| {
        let (what, otherwise) = match how {
            Settled::Returned => ("it returned", "it must return a string or a promise of one"),
            Settled::Resolved => (
                "its promise resolved to",
                "its promise must resolve to a string",
            ),
        };
        string_or_refusal(value, what)
            .unwrap_or_else(|| Err(format!("{otherwise}, got {}", describe(&value))))
    });
}

/// `Some(Ok(token))` for a string, `Some(Err)` for a string that cannot be
/// read, `None` for anything else.
fn string_or_refusal(value: Unknown, what: &str) -> Option<Outcome> {
    if !matches!(value.get_type(), Ok(ValueType::String)) {
        return None;
    }
    Some(
        String::from_unknown(value)
            .map_err(|e| format!("{what} an unreadable string: {}", e.reason)),
    )
}
