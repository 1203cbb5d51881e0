//! Settling promises from tokio through one threadsafe function per JS
//! environment.
//!
//! napi's `spawn_future_with_callback` creates a threadsafe function for
//! every promise, and every completion then wakes the event loop on its own,
//! with its own microtask checkpoint. Under load that bookkeeping cost the JS
//! thread more than the upload itself. Here one threadsafe function per
//! environment carries every completion: completions that arrive together
//! are settled in one wake-up, and nothing but the promise is created per call.

use std::cell::RefCell;
use std::ffi::c_void;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use futures_util::FutureExt;
use napi::bindgen_prelude::*;
use napi::sys;

use super::errors::js_error_object;
use crate::error::{ErrorKind, WxError};

/// Builds the settlement on the JS thread: `Ok` resolves, `Err` rejects.
type Settle = Box<dyn FnOnce(&Env) -> std::result::Result<sys::napi_value, sys::napi_value> + Send>;

/// A promise's `napi_deferred`, carried to a tokio thread and back.
struct Deferred(sys::napi_deferred);

// SAFETY: a `napi_deferred` is an opaque handle. It is never dereferenced in
// Rust; it is only handed back to Node in `call_js`, which Node runs on the JS
// thread of the environment that created it, as napi requires.
unsafe impl Send for Deferred {}

struct Job {
    deferred: Deferred,
    settle: Settle,
    bridge: Arc<Bridge>,
}

/// The one threadsafe function of an environment.
struct Bridge {
    tsfn: sys::napi_threadsafe_function,
    /// `true` while the function may be called; turned off (under the write
    /// lock) when Node finalizes it, so no call can start after that.
    open: Arc<RwLock<bool>>,
    /// Promises not yet settled; while there are any, the function keeps the
    /// event loop (and so the process) alive.
    pending: AtomicUsize,
}

// SAFETY: other threads use `tsfn` only through `napi_call_threadsafe_function`,
// which Node documents as callable from any thread while the function exists;
// `post` makes that call under the `open` read lock, and the finalizer clears
// `open` under the write lock before Node frees the function. `napi_ref_/
// napi_unref_threadsafe_function` are called on the JS thread only.
unsafe impl Send for Bridge {}
// SAFETY: as above; `open` and `pending` are themselves thread-safe.
unsafe impl Sync for Bridge {}

thread_local! {
    /// The bridge of the environment whose JS thread this is.
    static BRIDGE: RefCell<Option<Arc<Bridge>>> = const { RefCell::new(None) };
}

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::from(status), format!("{what} failed")))
    }
}

fn bridge(env: &Env) -> Result<Arc<Bridge>> {
    BRIDGE.with(|slot| {
        if let Some(bridge) = slot.borrow().as_ref() {
            if *bridge.open.read().unwrap_or_else(|e| e.into_inner()) {
                return Ok(bridge.clone());
            }
        }
        let bridge = create_bridge(env)?;
        *slot.borrow_mut() = Some(bridge.clone());
        Ok(bridge)
    })
}

fn create_bridge(env: &Env) -> Result<Arc<Bridge>> {
    let name = env.create_string("wx-media")?;
    let open = Arc::new(RwLock::new(true));
    let finalize_data = Arc::into_raw(open.clone()) as *mut c_void;
    let mut tsfn = ptr::null_mut();
    // SAFETY: called on the JS thread with the live `env` of this call. `func`
    // may be null because `call_js` is given and never calls a JS function.
    // `finalize_data` is an `Arc` that `finalize` takes back exactly once.
    let status = unsafe {
        sys::napi_create_threadsafe_function(
            env.raw(),
            ptr::null_mut(),
            ptr::null_mut(),
            name.raw(),
            0,
            1,
            finalize_data,
            Some(finalize),
            ptr::null_mut(),
            Some(call_js),
            &mut tsfn,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: Node did not take `finalize_data`; reclaim the Arc.
        drop(unsafe { Arc::from_raw(finalize_data as *const RwLock<bool>) });
        return Err(Error::new(
            Status::from(status),
            "napi_create_threadsafe_function failed".to_string(),
        ));
    }
    // Idle, it must not keep the process alive; `spawn` refs it while promises are pending.
    // SAFETY: JS thread, live env, `tsfn` just created.
    check(
        unsafe { sys::napi_unref_threadsafe_function(env.raw(), tsfn) },
        "napi_unref_threadsafe_function",
    )?;
    Ok(Arc::new(Bridge {
        tsfn,
        open,
        pending: AtomicUsize::new(0),
    }))
}

/// Node is destroying the threadsafe function (environment teardown).
unsafe extern "C" fn finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the `Arc<RwLock<bool>>` leaked in `create_bridge`, and
    // Node calls the finalizer once.
    let open = unsafe { Arc::from_raw(data as *const RwLock<bool>) };
    *open.write().unwrap_or_else(|e| e.into_inner()) = false;
}

/// Runs on the JS thread for each posted job (or with a null `env` when the
/// function is torn down with jobs still queued).
unsafe extern "C" fn call_js(
    env: sys::napi_env,
    _js_cb: sys::napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    if data.is_null() {
        return;
    }
    // SAFETY: `data` is the `Box<Job>` leaked in `Bridge::post`; Node hands each
    // queued item to `call_js` exactly once.
    let job = unsafe { Box::from_raw(data.cast::<Job>()) };
    if env.is_null() {
        return; // the environment is gone: nothing to settle
    }
    let Job {
        deferred,
        settle,
        bridge,
    } = *job;
    let js_env = Env::from_raw(env);
    // SAFETY: JS thread of the environment that created `deferred` and `tsfn`;
    // each deferred is settled exactly once (it travels in exactly one job).
    unsafe {
        match settle(&js_env) {
            Ok(value) => sys::napi_resolve_deferred(env, deferred.0, value),
            Err(error) => sys::napi_reject_deferred(env, deferred.0, error),
        };
        if bridge.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            sys::napi_unref_threadsafe_function(env, bridge.tsfn);
        }
    }
}

impl Bridge {
    /// Queues a settled job for the JS thread; dropped if the environment is gone.
    fn post(&self, job: Job) {
        let open = self.open.read().unwrap_or_else(|e| e.into_inner());
        if !*open {
            return;
        }
        let raw = Box::into_raw(Box::new(job));
        // SAFETY: `open` is held, so Node has not finalized `tsfn`; the queue is
        // unbounded, so a non-blocking call only fails while closing.
        let status = unsafe {
            sys::napi_call_threadsafe_function(
                self.tsfn,
                raw.cast(),
                sys::ThreadsafeFunctionCallMode::nonblocking,
            )
        };
        if status != sys::Status::napi_ok {
            // SAFETY: Node refused the item, so it is still ours.
            drop(unsafe { Box::from_raw(raw) });
        }
    }
}

/// Runs `work` on napi's tokio runtime and settles a promise on the JS
/// thread: `to_js` shapes the result, a [`WxError`] becomes a JS `Error`
/// naming `api`.
pub fn spawn<'env, T, V, F, C>(
    env: &'env Env,
    api: &'static str,
    work: F,
    to_js: C,
) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = std::result::Result<T, WxError>> + Send + 'static,
    C: FnOnce(&Env, T) -> Result<V> + Send + 'static,
{
    let bridge = bridge(env)?;
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    // SAFETY: JS thread, live env; both out-pointers are valid locals.
    check(
        unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) },
        "napi_create_promise",
    )?;
    if bridge.pending.fetch_add(1, Ordering::AcqRel) == 0 {
        // SAFETY: JS thread, live env, the bridge's function is open.
        check(
            unsafe { sys::napi_ref_threadsafe_function(env.raw(), bridge.tsfn) },
            "napi_ref_threadsafe_function",
        )?;
    }
    let deferred = Deferred(deferred);
    napi::bindgen_prelude::spawn(async move {
        // A panic must still settle the promise, or the process would hang on it.
        let outcome = match AssertUnwindSafe(work).catch_unwind().await {
            Ok(outcome) => outcome,
            Err(_) => Err(WxError::new(
                ErrorKind::HttpStatus,
                -1,
                "internal error in wx-media (a task panicked)",
            )),
        };
        let settle: Settle = Box::new(move |env| settle_outcome(env, api, outcome, to_js));
        let job = Job {
            deferred,
            settle,
            bridge: bridge.clone(),
        };
        bridge.post(job);
    });
    Ok(PromiseRaw::new(env.raw(), promise))
}

fn settle_outcome<T, V, C>(
    env: &Env,
    api: &'static str,
    outcome: std::result::Result<T, WxError>,
    to_js: C,
) -> std::result::Result<sys::napi_value, sys::napi_value>
where
    V: ToNapiValue,
    C: FnOnce(&Env, T) -> Result<V>,
{
    let converted = outcome.map_err(|e| e.with_api(api)).and_then(|value| {
        to_js(env, value)
            // SAFETY: JS thread, live env (we are inside `call_js`).
            .and_then(|v| unsafe { V::to_napi_value(env.raw(), v) })
            .map_err(|e| {
                WxError::new(
                    ErrorKind::HttpStatus,
                    -1,
                    format!("cannot build the result: {}", e.reason),
                )
                .with_api(api)
            })
    });
    converted.map_err(|err| js_error_object(env, &err))
}
