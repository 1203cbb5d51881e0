//! What a JS function called from Rust returned — a value, or a promise of
//! one — settled into a oneshot on the JS thread, whatever the function did:
//! a throw, a rejection or a `then` that cannot be attached become an error
//! text, no exception is left pending, and nothing reaches Node as an
//! uncaught exception. The token providers and the `tokenStore` hooks use it.

use std::cell::Cell;
use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi::sys;
use tokio::sync::oneshot;

/// How the value being converted was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The function returned it (not a promise).
    Returned,
    /// The function's promise resolved to it.
    Resolved,
}

/// The words an error text starts with (`it threw`, `tokenStore.get rejected`…).
pub struct Wording {
    pub threw: String,
    pub rejected: String,
    pub unawaitable: String,
}

/// On the JS thread: converts what the function returned (now, or when its
/// promise settles) and sends it through `tx`.
pub fn settle<T: 'static>(
    env: &Env,
    returned: Result<Unknown<'static>>,
    tx: oneshot::Sender<std::result::Result<T, String>>,
    wording: Wording,
    convert: impl FnOnce(&Env, Unknown, Settled) -> std::result::Result<T, String> + 'static,
) {
    let value = match returned {
        Ok(value) => value,
        Err(e) => {
            clear_pending_exception(env);
            let _ = tx.send(Err(format!("{}: {}", wording.threw, thrown_reason(&e))));
            return;
        }
    };
    if !value.is_promise().unwrap_or(false) {
        let _ = tx.send(convert(env, value, Settled::Returned));
        return;
    }
    let slot = Rc::new(Cell::new(Some(tx)));
    let (on_resolve, on_reject) = (slot.clone(), slot.clone());
    let rejected = wording.rejected;
    let attached = PromiseRaw::<Unknown>::from_unknown(value).and_then(|promise| {
        promise
            .then(move |ctx: CallbackContext<Unknown>| {
                if let Some(tx) = on_resolve.take() {
                    let _ = tx.send(convert(&ctx.env, ctx.value, Settled::Resolved));
                }
                Ok(())
            })?
            .catch(move |ctx: CallbackContext<Unknown>| {
                if let Some(tx) = on_reject.take() {
                    let e = Error::from_unknown_without_coercion(ctx.value);
                    let _ = tx.send(Err(format!("{rejected}: {}", thrown_reason(&e))));
                }
                Ok(())
            })
    });
    if attached.is_err() {
        // e.g. a `then` getter that throws: take the exception so it cannot
        // surface later as an uncaught one.
        clear_pending_exception(env);
        if let Some(tx) = slot.take() {
            let _ = tx.send(Err(wording.unawaitable));
        }
    }
}

/// A short reason for a thrown or rejected value (its message, never coerced).
pub fn thrown_reason(e: &Error) -> String {
    let reason: String = e.reason.chars().take(200).collect();
    if reason.trim().is_empty() {
        "(no message)".into()
    } else {
        reason
    }
}

pub fn clear_pending_exception(env: &Env) {
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
