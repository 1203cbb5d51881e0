//! `tokenStore: { get(key), set(key, { token, expiresAt }) }` called from
//! Rust (issue 10). Like token_provider.rs: whatever a hook does — throws,
//! rejects, resolves to the wrong thing — becomes a message for the store
//! error, nothing reaches Node as an uncaught exception and no JS exception
//! is left pending. What `get` gave is only read here; it is checked by
//! `token_store::hooks::parse_entry`, and every call is bounded there.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use tokio::sync::oneshot;

use super::args::describe;
use super::js_settle::{self, clear_pending_exception, thrown_reason, Wording};
use crate::token_store::hooks::{HookFns, HookFuture, JsField, RawEntry};
use crate::token_store::Stored;

type HookFn<A> = ThreadsafeFunction<A, Unknown<'static>, A, Status, false, true>;
type SetArgs = FnArgs<(String, serde_json::Value)>;
pub type GetFunction<'a> = Function<'a, String, Unknown<'static>>;
pub type SetFunction<'a> = Function<'a, SetArgs, Unknown<'static>>;
/// Reads what a hook returned (or its promise resolved to), on the JS thread.
type Convert<T> = for<'a> fn(&Env, Unknown<'a>) -> std::result::Result<T, String>;

pub struct JsTokenHooks {
    get: Arc<HookFn<String>>,
    set: Arc<HookFn<SetArgs>>,
}

impl JsTokenHooks {
    /// `get` and `set` are called as methods of `store` (`this` is the store).
    pub fn new(store: &Object, get: GetFunction, set: SetFunction) -> Result<Self> {
        // Weak: a pending hook must not keep the process alive by itself.
        let get = get
            .bind(store)?
            .build_threadsafe_function::<String>()
            .callee_handled::<false>()
            .weak::<true>()
            .build()?;
        let set = set
            .bind(store)?
            .build_threadsafe_function::<SetArgs>()
            .callee_handled::<false>()
            .weak::<true>()
            .build()?;
        Ok(JsTokenHooks {
            get: Arc::new(get),
            set: Arc::new(set),
        })
    }
}

impl HookFns for JsTokenHooks {
    fn get(&self, key: &str) -> HookFuture<Option<RawEntry>> {
        call(self.get.clone(), key.to_owned(), "get", read_entry)
    }

    fn set(&self, key: &str, value: &Stored) -> HookFuture<()> {
        // A fresh plain object per call; expiresAt a JS number (ms since the epoch).
        let entry =
            serde_json::json!({ "token": value.token, "expiresAt": value.expires_at as f64 });
        call(
            self.set.clone(),
            FnArgs::from((key.to_owned(), entry)),
            "set",
            |_, _| Ok(()),
        )
    }
}

fn call<A, T>(
    tsfn: Arc<HookFn<A>>,
    args: A,
    hook: &'static str,
    convert: Convert<T>,
) -> HookFuture<T>
where
    A: 'static + JsValuesTupleIntoVec + Send,
    T: 'static + Send,
{
    Box::pin(async move {
        let (tx, rx) = oneshot::channel::<std::result::Result<T, String>>();
        let status = tsfn.call_with_return_value(
            args,
            ThreadsafeFunctionCallMode::NonBlocking,
            move |returned, env| {
                settle(&env, hook, returned, tx, convert);
                Ok(())
            },
        );
        if status != Status::Ok {
            return Err(format!("tokenStore.{hook} cannot be called ({status})"));
        }
        rx.await.map_err(|_| {
            format!("tokenStore.{hook} gave no result (the JS environment is closing)")
        })?
    })
}

/// On the JS thread: what the hook returned, converted and sent through
/// `tx` now, or when its promise settles.
fn settle<T: 'static>(
    env: &Env,
    hook: &'static str,
    returned: Result<Unknown<'static>>,
    tx: oneshot::Sender<std::result::Result<T, String>>,
    convert: Convert<T>,
) {
    let wording = Wording {
        threw: format!("tokenStore.{hook} threw"),
        rejected: format!("tokenStore.{hook} rejected"),
        unawaitable: format!("tokenStore.{hook} returned a promise that cannot be awaited"),
    };
    js_settle::settle(env, returned, tx, wording, move |env, value, _| {
        convert(env, value)
    });
}

/// `get`'s result: `null`/`undefined`, or an object whose `token` and
/// `expiresAt` are read (their types are checked by `parse_entry`).
fn read_entry(env: &Env, value: Unknown) -> std::result::Result<Option<RawEntry>, String> {
    match value.get_type() {
        Ok(ValueType::Undefined | ValueType::Null) => return Ok(None),
        Ok(ValueType::Object) if !value.is_array().unwrap_or(false) => {}
        _ => {
            return Err(format!(
                "tokenStore.get must resolve to {{ token, expiresAt }}, null or undefined, got {}",
                describe(&value)
            ))
        }
    }
    let read = || -> Result<RawEntry> {
        let obj = Object::from_unknown(value)?;
        let token: Option<Unknown> = obj.get("token")?;
        let expires_at: Option<Unknown> = obj.get("expiresAt")?;
        Ok(RawEntry {
            token: match token {
                Some(v) if matches!(v.get_type(), Ok(ValueType::String)) => {
                    JsField::Value(String::from_unknown(v)?)
                }
                Some(v) => JsField::Other(describe(&v)),
                None => JsField::Other("undefined"),
            },
            expires_at: match expires_at {
                Some(v) if matches!(v.get_type(), Ok(ValueType::Number)) => {
                    JsField::Value(f64::from_unknown(v)?)
                }
                Some(v) => JsField::Other(describe(&v)),
                None => JsField::Other("undefined"),
            },
        })
    };
    read().map(Some).map_err(|e| {
        // A getter that throws, for instance.
        clear_pending_exception(env);
        format!(
            "tokenStore.get resolved to an object that cannot be read: {}",
            thrown_reason(&e)
        )
    })
}
