//! `callOpenApi(name, params)` when the client uses the TCB gateway: every
//! name goes through `wx.openApi` (bindings/openapi.rs hands such calls
//! here). Params arrive snake_cased from lib/openapi.js; a Buffer, or
//! `{ content_type | contentType, value: Buffer }`, is a media entry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use super::args::{bytes_value, describe, prop, ArgResult};
use super::transfer::{self, Controls};
use crate::backend::Backend;
use crate::client::Client;
use crate::error::WxError;
use crate::gateway::{OpenApiParam, OpenApiResult};

/// A non-JSON reply of a cloud call (e.g. getTempMedia's bytes); lib/openapi.js
/// adds `errMsg` and `errCode`.
#[napi(object)]
pub struct OpenApiBinaryResult {
    pub content_type: String,
    pub buffer: Buffer,
}

/// `openapi.<name>` as a `'static` API name for `errMsg`; names are few in
/// practice, and past the cap the generic name is used.
fn api_label(name: &str) -> &'static str {
    static NAMES: Mutex<Option<HashMap<String, &'static str>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let names = names.get_or_insert_with(HashMap::new);
    if let Some(label) = names.get(name) {
        return label;
    }
    if names.len() >= 1024 || name.len() > 128 {
        return "openapi";
    }
    let label: &'static str = Box::leak(format!("openapi.{name}").into_boxed_str());
    names.insert(name.to_string(), label);
    label
}

/// One top-level param: a Buffer (or `{ contentType, value: Buffer }`) is
/// media; anything else is JSON.
fn param(env: &Env, key: &str, value: Unknown) -> ArgResult<Option<OpenApiParam>> {
    if matches!(value.get_type(), Ok(ValueType::Undefined)) {
        return Ok(None);
    }
    if value.is_buffer().unwrap_or(false) || value.is_typedarray().unwrap_or(false) {
        return Ok(Some(OpenApiParam::Media {
            data: bytes_value(value, key)?,
            content_type: None,
        }));
    }
    if matches!(value.get_type(), Ok(ValueType::Object)) && !value.is_array().unwrap_or(false) {
        let obj =
            Object::from_unknown(value).map_err(|e| WxError::invalid_param(e.reason.clone()))?;
        if let Some(inner) = prop(&obj, "value")?
            .filter(|v| v.is_buffer().unwrap_or(false) || v.is_typedarray().unwrap_or(false))
        {
            let content_type = match prop(&obj, "contentType")?.or(prop(&obj, "content_type")?) {
                Some(ct) if matches!(ct.get_type(), Ok(ValueType::String)) => Some(
                    String::from_unknown(ct)
                        .map_err(|e| WxError::invalid_param(e.reason.clone()))?,
                ),
                _ => None,
            };
            return Ok(Some(OpenApiParam::Media {
                data: bytes_value(inner, &format!("{key}.value"))?,
                content_type,
            }));
        }
        let json: Value = env.from_js_value(obj).map_err(|e| {
            WxError::invalid_param(format!("{key} cannot be sent as JSON: {}", e.reason))
        })?;
        return Ok(Some(OpenApiParam::Json(json)));
    }
    let json: Value = env.from_js_value(value).map_err(|e| {
        WxError::invalid_param(format!(
            "{key} ({}) cannot be sent as JSON: {}",
            describe(&value),
            e.reason
        ))
    })?;
    Ok(Some(OpenApiParam::Json(json)))
}

fn params(env: &Env, value: Option<Unknown>) -> ArgResult<Vec<(String, OpenApiParam)>> {
    let Some(value) =
        value.filter(|v| !matches!(v.get_type(), Ok(ValueType::Undefined | ValueType::Null)))
    else {
        return Ok(Vec::new());
    };
    if !matches!(value.get_type(), Ok(ValueType::Object)) || value.is_array().unwrap_or(false) {
        return Err(WxError::invalid_param(format!(
            "the params of a cloud call must be an object, got {}",
            describe(&value)
        )));
    }
    let obj = Object::from_unknown(value).map_err(|e| WxError::invalid_param(e.reason.clone()))?;
    let keys = Object::keys(&obj).map_err(|e| WxError::invalid_param(e.reason.clone()))?;
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        if let Some(v) = prop(&obj, &key)? {
            if let Some(p) = param(env, &key, v)? {
                out.push((key, p));
            }
        }
    }
    Ok(out)
}

pub fn call_gateway<'e>(
    env: &'e Env,
    client: Arc<Client>,
    name: String,
    args: Option<Unknown<'e>>,
    controls: ArgResult<Controls>,
) -> Result<PromiseRaw<'e, Either<Value, OpenApiBinaryResult>>> {
    let api = api_label(&name);
    let prepared = params(env, args).map(|p| (Backend::for_call(&client), client, p));
    // Under the call's controls: an AbortSignal rejects it ABORTED.
    transfer::spawn(
        env,
        api,
        controls,
        async move {
            let (backend, client, params) = prepared?;
            // The whole call, not only its requests, ends at close().
            let life = client.clone();
            life.run(async move { backend.open_api(&client, &name, params).await })
                .await
        },
        move |_, result| {
            Ok(match result {
                // WeChat's keys: lib/openapi.js camelCases them.
                OpenApiResult::Json(map) => Either::A(Value::Object(map)),
                OpenApiResult::Binary {
                    content_type,
                    buffer,
                } => Either::B(OpenApiBinaryResult {
                    content_type,
                    buffer: Buffer::from(Vec::<u8>::from(buffer)),
                }),
            })
        },
    )
}
