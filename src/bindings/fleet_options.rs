//! `tokenStore` (issue 10) read from JS: `{ redis: url }`,
//! `{ redis: { url, prefix?, lockMs? } }`, or `{ get(key), set(key, value) }`.

use std::sync::Arc;

use napi::bindgen_prelude::*;

use super::args::{
    count_prop, describe, object_arg, prop, required_string, string_prop, ArgResult,
};
use super::option_names;
use super::token_hooks::JsTokenHooks;
use crate::error::WxError;
use crate::token_store::hooks::HooksStore;
use crate::token_store::{RedisOptions, StoreOptions, DEFAULT_LOCK_MS};

pub fn token_store_option(obj: &Object) -> ArgResult<Option<StoreOptions>> {
    let Some(v) = prop(obj, "tokenStore")? else {
        return Ok(None);
    };
    let store = object_arg(
        Some(v),
        "tokenStore: { redis: 'redis://127.0.0.1:6379' } or { get(key), set(key, value) }",
    )?;
    let (get, set) = (prop(&store, "get")?, prop(&store, "set")?);
    if get.is_some() || set.is_some() {
        return hooks_option(&store, get, set).map(Some);
    }
    option_names::check(&store, option_names::TOKEN_STORE, "tokenStore.")?;
    let Some(redis) = prop(&store, "redis")? else {
        return Err(WxError::invalid_param(
            "tokenStore needs redis: 'redis://host:port' (or { url, prefix?, lockMs? }), \
             or get(key) and set(key, { token, expiresAt }) functions",
        ));
    };
    redis_option(redis).map(Some)
}

/// `{ get, set }`: both functions, called as methods of the store object
/// (which may hold other properties of its own: no unknown-name check then).
fn hooks_option(
    store: &Object,
    get: Option<Unknown>,
    set: Option<Unknown>,
) -> ArgResult<StoreOptions> {
    if prop(store, "redis")?.is_some() {
        return Err(WxError::invalid_param(
            "tokenStore takes either { redis } or { get, set } hooks, not both",
        ));
    }
    let (Some(get), Some(set)) = (get, set) else {
        // A misspelt hook name gets its "did you mean" first.
        option_names::check(store, option_names::TOKEN_STORE, "tokenStore.")?;
        return Err(WxError::invalid_param(
            "tokenStore hooks need both get(key) and set(key, { token, expiresAt }) functions; one is missing",
        ));
    };
    let get = function(get, "tokenStore.get")?;
    let set = function(set, "tokenStore.set")?;
    let hooks = JsTokenHooks::new(store, get, set).map_err(|e| {
        WxError::invalid_param(format!("cannot use the tokenStore hooks: {}", e.reason))
    })?;
    Ok(StoreOptions::Hooks(Arc::new(HooksStore::new(Box::new(
        hooks,
    )))))
}

fn function<'e, A: JsValuesTupleIntoVec>(
    v: Unknown<'e>,
    what: &str,
) -> ArgResult<Function<'e, A, Unknown<'static>>> {
    if !matches!(v.get_type(), Ok(ValueType::Function)) {
        return Err(WxError::invalid_param(format!(
            "{what} must be a function, got {}",
            describe(&v)
        )));
    }
    Function::from_unknown(v)
        .map_err(|e| WxError::invalid_param(format!("cannot read {what}: {}", e.reason)))
}

fn redis_option(redis: Unknown) -> ArgResult<StoreOptions> {
    let options = match redis.get_type() {
        Ok(ValueType::String) => RedisOptions {
            url: String::from_unknown(redis)
                .map_err(|e| WxError::invalid_param(format!("tokenStore.redis: {}", e.reason)))?,
            prefix: None,
            lock_ms: DEFAULT_LOCK_MS,
        },
        Ok(ValueType::Object) => {
            let r = object_arg(Some(redis), "tokenStore.redis: { url, prefix?, lockMs? }")?;
            option_names::check(&r, option_names::TOKEN_STORE_REDIS, "tokenStore.redis.")?;
            let lock_ms =
                count_prop(&r, "lockMs", "tokenStore.redis.lockMs")?.unwrap_or(DEFAULT_LOCK_MS);
            if !(100..=600_000).contains(&lock_ms) {
                return Err(WxError::invalid_param(
                    "tokenStore.redis.lockMs must be between 100 and 600000",
                ));
            }
            RedisOptions {
                url: required_string(&r, "url", "tokenStore.redis.url", "'redis://host:port'")?,
                prefix: string_prop(&r, "prefix", "tokenStore.redis.prefix")?,
                lock_ms,
            }
        }
        _ => {
            return Err(WxError::invalid_param(format!(
                "tokenStore.redis must be a URL string or {{ url, prefix?, lockMs? }}, got {}",
                describe(&redis)
            )))
        }
    };
    super::media_cache_options::check_redis_url(&options.url, "tokenStore.redis")?;
    Ok(StoreOptions::Redis(options))
}
