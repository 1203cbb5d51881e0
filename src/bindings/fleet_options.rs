//! `tokenStore` (issue 10) read from JS: `{ redis: url }` or
//! `{ redis: { url, prefix?, lockMs? } }`.

use napi::bindgen_prelude::*;

use super::args::{
    count_prop, describe, object_arg, prop, required_string, string_prop, ArgResult,
};
use super::option_names;
use crate::error::WxError;
use crate::token_store::{StoreOptions, DEFAULT_LOCK_MS};

pub fn token_store_option(obj: &Object) -> ArgResult<Option<StoreOptions>> {
    let Some(v) = prop(obj, "tokenStore")? else {
        return Ok(None);
    };
    let store = object_arg(Some(v), "tokenStore: { redis: 'redis://127.0.0.1:6379' }")?;
    option_names::check(&store, option_names::TOKEN_STORE, "tokenStore.")?;
    let Some(redis) = prop(&store, "redis")? else {
        return Err(WxError::invalid_param(
            "tokenStore needs redis: 'redis://host:port' (or { url, prefix?, lockMs? })",
        ));
    };
    let options = match redis.get_type() {
        Ok(ValueType::String) => StoreOptions {
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
            StoreOptions {
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
    if !options.url.starts_with("redis://")
        && !options.url.starts_with("rediss://")
        && !options.url.starts_with("unix://")
    {
        return Err(WxError::invalid_param(
            "tokenStore.redis must start with redis://, rediss:// or unix://",
        ));
    }
    Ok(Some(options))
}
