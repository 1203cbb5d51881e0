//! Reading JS arguments into core types, with errors that say what was
//! wrong and how to fix it (all `INVALID_PARAM`, before any request).

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;

use super::option_names;
use crate::config::{ClientOptions, MediaLimits, Timeouts, TokenMode, TokenSupply};
use crate::error::WxError;

pub use super::bytes::bytes_value;
use super::token_provider::JsTokenProvider;

pub type ArgResult<T> = std::result::Result<T, WxError>;

/// "a string", "null", "an array" … for messages.
pub fn describe(value: &Unknown) -> &'static str {
    match value.get_type() {
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::BigInt) => "a bigint",
        Ok(ValueType::Object) => {
            if value.is_array().unwrap_or(false) {
                "an array"
            } else if value.is_buffer().unwrap_or(false) {
                "a Buffer"
            } else if value.is_typedarray().unwrap_or(false) {
                "a typed array"
            } else if value.is_arraybuffer().unwrap_or(false) {
                "an ArrayBuffer"
            } else {
                "an object"
            }
        }
        _ => "an unknown value",
    }
}

fn napi_failure(what: &str, e: Error) -> WxError {
    WxError::invalid_param(format!("cannot read {what}: {}", e.reason))
}

fn is_nullish(value: &Unknown) -> bool {
    matches!(value.get_type(), Ok(ValueType::Undefined | ValueType::Null))
}

/// The argument object of a call; `usage` says what it should look like.
pub fn object_arg<'e>(value: Option<Unknown<'e>>, usage: &str) -> ArgResult<Object<'e>> {
    match value {
        Some(v)
            if matches!(v.get_type(), Ok(ValueType::Object)) && !v.is_array().unwrap_or(false) =>
        {
            Object::from_unknown(v).map_err(|e| napi_failure("the argument", e))
        }
        Some(v) => Err(WxError::invalid_param(format!(
            "expected {usage}, got {}",
            describe(&v)
        ))),
        None => Err(WxError::invalid_param(format!(
            "expected {usage}, got nothing"
        ))),
    }
}

/// A property, or `None` when it is absent, `undefined` or `null`.
pub fn prop<'e>(obj: &Object<'e>, name: &str) -> ArgResult<Option<Unknown<'e>>> {
    let value: Option<Unknown<'e>> = obj.get(name).map_err(|e| napi_failure(name, e))?;
    Ok(value.filter(|v| !is_nullish(v)))
}

pub fn string_prop(obj: &Object, name: &str, what: &str) -> ArgResult<Option<String>> {
    match prop(obj, name)? {
        None => Ok(None),
        Some(v) if matches!(v.get_type(), Ok(ValueType::String)) => String::from_unknown(v)
            .map(Some)
            .map_err(|e| napi_failure(what, e)),
        Some(v) => Err(WxError::invalid_param(format!(
            "{what} must be a string, got {}",
            describe(&v)
        ))),
    }
}

pub fn required_string(obj: &Object, name: &str, what: &str, hint: &str) -> ArgResult<String> {
    string_prop(obj, name, what)?
        .ok_or_else(|| WxError::invalid_param(format!("{what} is missing: {hint}")))
}

pub fn bool_prop(obj: &Object, name: &str, what: &str) -> ArgResult<Option<bool>> {
    match prop(obj, name)? {
        None => Ok(None),
        Some(v) if matches!(v.get_type(), Ok(ValueType::Boolean)) => bool::from_unknown(v)
            .map(Some)
            .map_err(|e| napi_failure(what, e)),
        Some(v) => Err(WxError::invalid_param(format!(
            "{what} must be true or false, got {}",
            describe(&v)
        ))),
    }
}

/// A non-negative whole number (counts, sizes, milliseconds).
pub fn count_prop(obj: &Object, name: &str, what: &str) -> ArgResult<Option<u64>> {
    match prop(obj, name)? {
        None => Ok(None),
        Some(v) => count_value(v, what).map(Some),
    }
}

pub fn count_value(v: Unknown, what: &str) -> ArgResult<u64> {
    if !matches!(v.get_type(), Ok(ValueType::Number)) {
        return Err(WxError::invalid_param(format!(
            "{what} must be a number, got {}",
            describe(&v)
        )));
    }
    let n = f64::from_unknown(v).map_err(|e| napi_failure(what, e))?;
    if !n.is_finite() || n < 0.0 || n.fract() != 0.0 || n > 9_007_199_254_740_991.0 {
        return Err(WxError::invalid_param(format!(
            "{what} must be a whole number ≥ 0, got {n}"
        )));
    }
    Ok(n as u64)
}

/// A token option: a string, or a function returning a string or a promise of one.
fn token_supply(v: Unknown, option: &'static str) -> ArgResult<TokenSupply> {
    match v.get_type() {
        Ok(ValueType::String) => {
            let value = String::from_unknown(v).map_err(|e| napi_failure(option, e))?;
            if value.trim().is_empty() {
                return Err(WxError::invalid_param(format!(
                    "{option} is an empty string"
                )));
            }
            Ok(TokenSupply::Static(value))
        }
        Ok(ValueType::Function) => {
            let func: Function<(), Unknown<'static>> =
                Function::from_unknown(v).map_err(|e| napi_failure(option, e))?;
            let provider =
                JsTokenProvider::new(func, option).map_err(|e| napi_failure(option, e))?;
            Ok(TokenSupply::Provider(Arc::new(provider)))
        }
        _ => Err(WxError::invalid_param(format!(
            "{option} must be a string or a function returning one (or a promise of one), got {}",
            describe(&v)
        ))),
    }
}

/// `new WxClient(options)` / `init(options)`.
pub fn client_options(value: Option<Unknown>) -> ArgResult<ClientOptions> {
    let Some(value) = value.filter(|v| !is_nullish(v)) else {
        return Ok(ClientOptions::default());
    };
    let obj = object_arg(Some(value), "an options object such as { appid, secret }")?;
    option_names::check(&obj, option_names::CLIENT, "")?;
    let mut opts = ClientOptions {
        appid: string_prop(&obj, "appid", "appid")?,
        secret: string_prop(&obj, "secret", "secret")?,
        env: None,
        base_url: string_prop(&obj, "baseUrl", "baseUrl")?,
        proxy: string_prop(&obj, "proxy", "proxy")?,
        open_api_service: bool_prop(&obj, "openApiService", "openApiService")?.unwrap_or(false),
        ..Default::default()
    };
    if let Some(mode) = string_prop(&obj, "tokenMode", "tokenMode")? {
        opts.token_mode = Some(TokenMode::parse(&mode)?);
    }
    if let Some(v) = prop(&obj, "accessToken")? {
        opts.access_token = Some(token_supply(v, "accessToken")?);
    }
    if let Some(v) = prop(&obj, "cloudbaseAccessToken")? {
        opts.cloudbase_access_token = Some(token_supply(v, "cloudbaseAccessToken")?);
    }
    match env_option(&obj)? {
        Some(EnvValue::Id(id)) => opts.env = Some(id),
        Some(EnvValue::Current) => opts.current_env = true,
        None => {}
    }
    sdk_only_options(&obj)?;
    opts.timeouts = timeout_option(&obj)?;
    opts.retries =
        count_prop(&obj, "retries", "retries")?.map(|n| u32::try_from(n.min(10)).unwrap_or(10));
    if let Some(n) = count_prop(&obj, "maxConcurrency", "maxConcurrency")? {
        if n == 0 {
            return Err(WxError::invalid_param("maxConcurrency must be at least 1"));
        }
        opts.max_concurrency = Some(usize::try_from(n).unwrap_or(usize::MAX));
    }
    opts.ca_cert = match prop(&obj, "caCert")? {
        None => None,
        Some(v) if matches!(v.get_type(), Ok(ValueType::String)) => {
            Some(String::from_unknown(v).map_err(|e| napi_failure("caCert", e))?)
        }
        Some(v) => {
            let bytes = bytes_value(v, "caCert")?;
            Some(
                String::from_utf8(bytes.to_vec())
                    .map_err(|_| WxError::invalid_param("caCert must be PEM text"))?,
            )
        }
    };
    opts.media_limits = media_limits_option(&obj)?;
    opts.max_download_bytes = count_prop(&obj, "maxDownloadBytes", "maxDownloadBytes")?;
    opts.max_upload_bytes = count_prop(&obj, "maxUploadBytes", "maxUploadBytes")?;
    opts.max_redirects = count_prop(&obj, "maxRedirects", "maxRedirects")?
        .map(|n| u32::try_from(n.min(100)).unwrap_or(100));
    // TCB gateway, with wx-server-sdk's option names.
    opts.secret_id = string_prop(&obj, "secretId", "secretId")?;
    opts.secret_key = string_prop(&obj, "secretKey", "secretKey")?;
    opts.session_token = string_prop(&obj, "sessionToken", "sessionToken")?;
    opts.service_url = string_prop(&obj, "serviceUrl", "serviceUrl")?;
    opts.token_store = super::fleet_options::token_store_option(&obj)?;
    opts.media_cache = super::media_cache_options::media_cache_option(&obj)?;
    Ok(opts)
}

/// An env id, or wx-server-sdk's `DYNAMIC_CURRENT_ENV` (the env the
/// function runs in, read at each call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Id(String),
    Current,
}

/// `Symbol.for('SYMBOL_CURRENT_ENV')`, which both wx-server-sdk and this
/// library export as `DYNAMIC_CURRENT_ENV`.
fn is_current_env_symbol(v: &Unknown) -> ArgResult<bool> {
    let env = Env::from_raw(v.value().env);
    let failed = |e: Error| napi_failure("env", e);
    // `Symbol` is a function; read it as the object it also is.
    let symbol: Object = env
        .get_global()
        .and_then(|g| g.get_named_property_unchecked("Symbol"))
        .map_err(failed)?;
    let key_for: Function<Unknown, Unknown> =
        symbol.get_named_property("keyFor").map_err(failed)?;
    let key = key_for.apply(symbol, *v).map_err(failed)?;
    Ok(matches!(key.get_type(), Ok(ValueType::String))
        && String::from_unknown(key).map_err(failed)? == CURRENT_ENV_KEY)
}

const CURRENT_ENV_KEY: &str = "SYMBOL_CURRENT_ENV";

/// One env value: a string id or `DYNAMIC_CURRENT_ENV`.
pub fn env_value(v: Unknown, what: &str) -> ArgResult<EnvValue> {
    match v.get_type() {
        Ok(ValueType::String) => String::from_unknown(v)
            .map(EnvValue::Id)
            .map_err(|e| napi_failure(what, e)),
        Ok(ValueType::Symbol) if is_current_env_symbol(&v)? => Ok(EnvValue::Current),
        _ => Err(WxError::invalid_param(format!(
            "{what} must be a Cloud Base environment id string or DYNAMIC_CURRENT_ENV, got {}",
            describe(&v)
        ))),
    }
}

/// `env` as a string, `DYNAMIC_CURRENT_ENV`, or wx-server-sdk's
/// `{ database, storage, functions, default }` object (only `storage`, else
/// `default`, matters here).
fn env_option(obj: &Object) -> ArgResult<Option<EnvValue>> {
    match prop(obj, "env")? {
        None => Ok(None),
        Some(v)
            if matches!(v.get_type(), Ok(ValueType::Object)) && !v.is_array().unwrap_or(false) =>
        {
            let env = Object::from_unknown(v).map_err(|e| napi_failure("env", e))?;
            option_names::check(&env, option_names::ENV, "env.")?;
            let mut chosen = None;
            for key in ["storage", "default", "database", "functions"] {
                let what = format!("env.{key}");
                let value = prop(&env, key)?.map(|v| env_value(v, &what)).transpose()?;
                if chosen.is_none() && matches!(key, "storage" | "default") {
                    chosen = value;
                }
            }
            Ok(chosen)
        }
        Some(v) => env_value(v, "env").map(Some),
    }
}

/// wx-server-sdk's options that have no effect here: checked for their
/// type, so that a wrong value is still reported.
fn sdk_only_options(obj: &Object) -> ArgResult<()> {
    bool_prop(obj, "traceUser", "traceUser")?;
    bool_prop(obj, "throwOnNotFound", "throwOnNotFound")?;
    Ok(())
}

fn timeout_option(obj: &Object) -> ArgResult<Option<Timeouts>> {
    let ms = |n: u64, what: &str| {
        if n == 0 {
            Err(WxError::invalid_param(format!(
                "{what} must be more than 0 ms"
            )))
        } else {
            Ok(Duration::from_millis(n))
        }
    };
    match prop(obj, "timeout")? {
        None => Ok(None),
        Some(v) if matches!(v.get_type(), Ok(ValueType::Number)) => {
            let d = ms(count_value(v, "timeout")?, "timeout")?;
            Ok(Some(Timeouts {
                json: d,
                transfer: d,
            }))
        }
        Some(v) if matches!(v.get_type(), Ok(ValueType::Object)) => {
            let t = Object::from_unknown(v).map_err(|e| napi_failure("timeout", e))?;
            option_names::check(&t, option_names::TIMEOUT, "timeout.")?;
            let defaults = Timeouts::default();
            Ok(Some(Timeouts {
                json: count_prop(&t, "json", "timeout.json")?
                    .map(|n| ms(n, "timeout.json"))
                    .transpose()?
                    .unwrap_or(defaults.json),
                transfer: count_prop(&t, "transfer", "timeout.transfer")?
                    .map(|n| ms(n, "timeout.transfer"))
                    .transpose()?
                    .unwrap_or(defaults.transfer),
            }))
        }
        Some(v) => Err(WxError::invalid_param(format!(
            "timeout must be milliseconds or {{ json, transfer }}, got {}",
            describe(&v)
        ))),
    }
}

fn media_limits_option(obj: &Object) -> ArgResult<Option<MediaLimits>> {
    let Some(v) = prop(obj, "mediaSizeLimits")? else {
        return Ok(None);
    };
    let limits = object_arg(
        Some(v),
        "mediaSizeLimits as { image, voice, video, thumb } in bytes",
    )?;
    option_names::check(&limits, option_names::MEDIA_SIZE_LIMITS, "mediaSizeLimits.")?;
    let d = MediaLimits::default();
    Ok(Some(MediaLimits {
        image: count_prop(&limits, "image", "mediaSizeLimits.image")?.unwrap_or(d.image),
        voice: count_prop(&limits, "voice", "mediaSizeLimits.voice")?.unwrap_or(d.voice),
        video: count_prop(&limits, "video", "mediaSizeLimits.video")?.unwrap_or(d.video),
        thumb: count_prop(&limits, "thumb", "mediaSizeLimits.thumb")?.unwrap_or(d.thumb),
    }))
}
