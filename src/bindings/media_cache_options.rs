//! `mediaCache` (issue 10) read from JS: `true`, or
//! `{ redis?, prefix?, ttlMs?, lockMs?, maxEntries? }`.

use napi::bindgen_prelude::*;

use super::args::{
    count_prop, describe, object_arg, prop, required_string, string_prop, ArgResult,
};
use super::option_names;
use crate::error::WxError;
use crate::media_cache::{MediaCacheOptions, MAX_TTL_MS};

const USAGE: &str =
    "mediaCache: true (in this process) or { redis: 'redis://127.0.0.1:6379' } (the fleet)";

pub fn media_cache_option(obj: &Object) -> ArgResult<Option<MediaCacheOptions>> {
    let Some(v) = prop(obj, "mediaCache")? else {
        return Ok(None);
    };
    match v.get_type() {
        Ok(ValueType::Boolean) => {
            let on = bool::from_unknown(v)
                .map_err(|e| WxError::invalid_param(format!("mediaCache: {}", e.reason)))?;
            Ok(on.then(MediaCacheOptions::default))
        }
        Ok(ValueType::Object) => {
            let cache = Object::from_unknown(v)
                .map_err(|e| WxError::invalid_param(format!("mediaCache: {}", e.reason)))?;
            object_options(&cache).map(Some)
        }
        _ => Err(WxError::invalid_param(format!(
            "{USAGE}; got {}",
            describe(&v)
        ))),
    }
}

fn object_options(cache: &Object) -> ArgResult<MediaCacheOptions> {
    option_names::check(cache, option_names::MEDIA_CACHE, "mediaCache.")?;
    let defaults = MediaCacheOptions::default();
    let (redis, nested) = redis_option(cache)?;
    if let Some(url) = &redis {
        check_redis_url(url, "mediaCache.redis")?;
    }
    let prefix = once(
        "prefix",
        string_prop(cache, "prefix", "mediaCache.prefix")?,
        nested
            .as_ref()
            .map(|r| string_prop(r, "prefix", "mediaCache.redis.prefix"))
            .transpose()?
            .flatten(),
    )?;
    let nested_lock = nested
        .as_ref()
        .map(|r| count_prop(r, "lockMs", "mediaCache.redis.lockMs"))
        .transpose()?
        .flatten();
    let ttl_ms = count_prop(cache, "ttlMs", "mediaCache.ttlMs")?.unwrap_or(defaults.ttl_ms);
    if !(1000..=MAX_TTL_MS).contains(&ttl_ms) {
        return Err(WxError::invalid_param(format!(
            "mediaCache.ttlMs must be between 1000 and {MAX_TTL_MS} \
             (a media_id lives 3 days; entries end at least 1 h before it does)"
        )));
    }
    let lock_ms = once(
        "lockMs",
        count_prop(cache, "lockMs", "mediaCache.lockMs")?,
        nested_lock,
    )?
    .unwrap_or(defaults.lock_ms);
    if !(100..=600_000).contains(&lock_ms) {
        return Err(WxError::invalid_param(
            "mediaCache.lockMs must be between 100 and 600000",
        ));
    }
    let max_entries = count_prop(cache, "maxEntries", "mediaCache.maxEntries")?
        .map_or(Ok(defaults.max_entries), usize::try_from)
        .unwrap_or(usize::MAX);
    if max_entries == 0 || max_entries > 10_000_000 {
        return Err(WxError::invalid_param(
            "mediaCache.maxEntries must be between 1 and 10000000",
        ));
    }
    Ok(MediaCacheOptions {
        redis,
        prefix,
        ttl_ms,
        lock_ms,
        max_entries,
    })
}

/// `redis: 'redis://…'`, or tokenStore's form `redis: { url, prefix?, lockMs? }`
/// (then also the nested object, for its prefix and lockMs).
fn redis_option<'e>(cache: &Object<'e>) -> ArgResult<(Option<String>, Option<Object<'e>>)> {
    match prop(cache, "redis")? {
        None => Ok((None, None)),
        Some(v) if matches!(v.get_type(), Ok(ValueType::String)) => Ok((
            Some(string_prop(cache, "redis", "mediaCache.redis")?.unwrap_or_default()),
            None,
        )),
        Some(v) if matches!(v.get_type(), Ok(ValueType::Object)) => {
            let r = object_arg(Some(v), "mediaCache.redis: { url, prefix?, lockMs? }")?;
            option_names::check(&r, option_names::MEDIA_CACHE_REDIS, "mediaCache.redis.")?;
            let url = required_string(&r, "url", "mediaCache.redis.url", "'redis://host:port'")?;
            Ok((Some(url), Some(r)))
        }
        Some(v) => Err(WxError::invalid_param(format!(
            "mediaCache.redis must be a URL string such as 'redis://127.0.0.1:6379' \
             (or {{ url, prefix?, lockMs? }}), got {}",
            describe(&v)
        ))),
    }
}

/// An option given at most once: at the top of `mediaCache` or inside its `redis`.
fn once<T>(name: &str, top: Option<T>, nested: Option<T>) -> ArgResult<Option<T>> {
    match (top, nested) {
        (Some(_), Some(_)) => Err(WxError::invalid_param(format!(
            "mediaCache.{name} and mediaCache.redis.{name} are both given: pass it once"
        ))),
        (top, nested) => Ok(top.or(nested)),
    }
}

/// A Redis URL the `redis` crate can open: `redis://`, `rediss://` or `unix://`.
pub fn check_redis_url(url: &str, what: &str) -> ArgResult<()> {
    if ["redis://", "rediss://", "unix://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
    {
        Ok(())
    } else {
        Err(WxError::invalid_param(format!(
            "{what} must start with redis://, rediss:// or unix://"
        )))
    }
}
