//! JS side of the generic `openapi` entry and of wx-server-sdk's
//! `getWXContext()`. lib/openapi.js builds the `openapi.<ns>.<api>` proxy,
//! converts params to snake_case and camelCases the JSON this resolves with.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use super::args::{object_arg, prop, string_prop, ArgResult};
use super::client::{default_client, WxClient};
use super::cloud_call::{self, OpenApiBinaryResult};
use super::source::source_value;
use super::transfer::{self, spawn, Cancel};
use crate::client::Client;
use crate::error::WxError;
use crate::media::{MediaType, MediaUpload};
use crate::openapi::{self, Entry, Route, GENERIC_API};
use crate::wx_context::{wx_context, ContextValue};

/// The params of one call, read on the JS thread.
enum Params {
    Json(Value),
    Image(MediaUpload),
}

const IMAGE_USAGE: &str = "{ media: { contentType: 'image/png', value: Buffer } }";

fn image_params(client: &Client, params: Option<Unknown>) -> ArgResult<MediaUpload> {
    let obj = object_arg(params, IMAGE_USAGE)?;
    let media = match prop(&obj, "media")? {
        Some(m) => object_arg(Some(m), "media as { contentType, value: Buffer }")?,
        None => {
            return Err(WxError::invalid_param(format!(
                "media is missing: pass {IMAGE_USAGE}"
            )))
        }
    };
    let content_type = match string_prop(&media, "contentType", "media.contentType")? {
        Some(ct) => Some(ct),
        None => string_prop(&media, "content_type", "media.content_type")?,
    };
    let source = source_value(prop(&media, "value")?, "media.value")?;
    MediaUpload::new(
        MediaType::Image,
        content_type.as_deref(),
        source,
        &client.config().media_limits,
    )
}

fn read_params(
    env: &Env,
    client: &Client,
    entry: &Entry,
    params: Option<Unknown>,
) -> ArgResult<Params> {
    match entry.route {
        Route::Json(_) => {
            let Some(params) = params else {
                return Ok(Params::Json(Value::Object(Default::default())));
            };
            let obj = object_arg(Some(params), "the params as an object")?;
            env.from_js_value::<Value, _>(obj)
                .map(Params::Json)
                .map_err(|e| {
                    WxError::invalid_param(format!(
                        "the params cannot be sent as JSON: {}",
                        e.reason
                    ))
                })
        }
        Route::ImageUpload(_) => image_params(client, params).map(Params::Image),
        // lib/openapi.js calls uploadTempMedia / getTempMedia directly.
        Route::UploadTempMedia | Route::GetTempMedia => Err(WxError::invalid_param(format!(
            "call {} through openapi.customerServiceMessage",
            entry.api
        ))),
    }
}

fn call_open_api<'e>(
    env: &'e Env,
    client: ArgResult<Arc<Client>>,
    name: String,
    params: Option<Unknown<'e>>,
    cancel: Cancel,
) -> Result<PromiseRaw<'e, Either<Value, OpenApiBinaryResult>>> {
    // Only the abort: lib/openapi.js takes `signal` out of the params.
    let controls = transfer::lookup_controls(None, cancel);
    // In a cloud function every name goes through the gateway's wx.openApi.
    if let Ok(c) = &client {
        if c.config().gateway.is_some() {
            return cloud_call::call_gateway(env, c.clone(), name, params, controls);
        }
    }
    let entry = openapi::lookup(&name);
    let api = entry.as_ref().map_or(GENERIC_API, |e| e.api);
    let prepared = entry.and_then(|entry| {
        let client = client?;
        let params = read_params(env, &client, entry, params)?;
        Ok((client, entry, params))
    });
    spawn(
        env,
        api,
        controls,
        async move {
            let (client, entry, params) = prepared?;
            // The whole call, not only its requests, ends at close().
            let life = client.clone();
            life.run(async move {
                match params {
                    Params::Json(body) => openapi::call_json(&client, entry, &body).await,
                    Params::Image(upload) => openapi::call_image(&client, entry, upload).await,
                }
            })
            .await
        },
        |_, json| Ok(Either::A(json)),
    )
}

#[napi]
impl WxClient {
    /// `openapi.<namespace>.<api>(params)` by name (`'customerServiceMessage.send'`),
    /// params in WeChat's snake_case; resolves with WeChat's JSON reply.
    /// Internal: lib/openapi.js converts case around it as wx-server-sdk does.
    #[napi(skip_typescript)]
    pub fn call_open_api<'e>(
        &self,
        env: &'e Env,
        name: String,
        params: Option<Unknown<'e>>,
        cancel: Cancel,
    ) -> Result<PromiseRaw<'e, Either<Value, OpenApiBinaryResult>>> {
        call_open_api(env, Ok(self.client()), name, params, cancel)
    }
}

/// `callOpenApi` with the default client. Internal like the method: not in
/// index.d.ts, since lib/index.js does not export it.
#[napi(js_name = "callOpenApi", skip_typescript)]
pub fn call_open_api_default<'e>(
    env: &'e Env,
    name: String,
    params: Option<Unknown<'e>>,
    cancel: Cancel,
) -> Result<PromiseRaw<'e, Either<Value, OpenApiBinaryResult>>> {
    call_open_api(env, default_client(), name, params, cancel)
}

/// wx-server-sdk's `getWXContext()`: `OPENID`, `APPID`, `UNIONID`, `ENV`, …
/// from the variables listed in `WX_CONTEXT_KEYS`, read now; `{}` outside a
/// cloud function.
#[napi(js_name = "getWXContext", ts_return_type = "WXContext")]
pub fn get_wx_context(env: &Env) -> Result<Object<'_>> {
    let mut obj = Object::new(env)?;
    for (key, value) in wx_context(|name| std::env::var(name).ok()) {
        match value {
            Some(ContextValue::Text(s)) => obj.set(key.as_str(), s)?,
            Some(ContextValue::Number(n)) => obj.set(key.as_str(), n)?,
            None => obj.set(key.as_str(), ())?,
        }
    }
    Ok(obj)
}
