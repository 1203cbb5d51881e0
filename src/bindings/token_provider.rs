//! A JS token function (`accessToken` / `cloudbaseAccessToken`) called from
//! Rust. Whatever it does — throws, returns `42` or `{}`, resolves to a
//! non-string, rejects — becomes a `TOKEN_ERROR` of the call that needed the
//! token; nothing reaches Node as an uncaught exception, and no JS exception
//! is left pending. The caller bounds how long it waits (token.rs).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::sys;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use tokio::sync::oneshot;

use crate::config::{TokenFuture, TokenProvider};
use crate::error::{ErrorKind, WxError};

use super::args::describe;

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
    let value = match returned {
        Ok(value) => value,
        Err(e) => {
            let _ = tx.send(Err(format!("it threw: {}", thrown_reason(&e))));
            return;
        }
    };
    if let Some(outcome) = string_or_refusal(value, "it returned") {
        let _ = tx.send(outcome);
        return;
    }
    if !value.is_promise().unwrap_or(false) {
        let _ = tx.send(Err(format!(
            "it must return a string or a promise of one, got {}",
            describe(&value)
        )));
        return;
    }
    let on_resolve = Rc::new(Cell::new(Some(tx)));
    let on_reject = on_resolve.clone();
    let attached = PromiseRaw::<Unknown>::from_unknown(value).and_then(|promise| {
        promise
            .then(move |ctx: CallbackContext<Unknown>| {
                if let Some(tx) = on_resolve.take() {
                    let outcome = string_or_refusal(ctx.value, "its promise resolved to")
                        .unwrap_or_else(|| {
                            Err(format!(
                                "its promise must resolve to a string, got {}",
                                describe(&ctx.value)
                            ))
                        });
                    let _ = tx.send(outcome);
                }
                Ok(())
            })?
            .catch(move |ctx: CallbackContext<Unknown>| {
                if let Some(tx) = on_reject.take() {
                    let e = Error::from_unknown_without_coercion(ctx.value);
                    let _ = tx.send(Err(format!("its promise rejected: {}", thrown_reason(&e))));
                }
                Ok(())
            })
    });
    if attached.is_err() {
        // e.g. a `then` getter that throws: take the exception so it cannot
        // surface later as an uncaught one; dropping the sender fails the call.
        clear_pending_exception(env);
    }
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

/// A short reason for a thrown or rejected value (its message, never coerced).
pub(super) fn thrown_reason(e: &Error) -> String {
    let reason: String = e.reason.chars().take(200).collect();
    if reason.trim().is_empty() {
        "(no message)".into()
    } else {
        reason
    }
}

pub(super) fn clear_pending_exception(env: &Env) {
    let raw = env.raw();
    let mut pending = false;
    // SAFETY: called on the JS thread with the env napi handed to this
    // callback; the out pointers are valid locals.
    unsafe {
        if sys::napi_is_exception_pending(raw, &mut pending) == sys::Status::napi_ok && pending {
            let mut exception = std::ptr::null_mut();
            sys::napi_get_and_clear_last_exception(raw, &mut exception);
        }
    }
}
