//! napi bindings of the emulator: `startEmulator()` and the `Emulator` class.
//!
//! The core returns `serde_json::Value`s; here they are converted into
//! `#[napi(object)]` structs so that `index.d.ts` carries their exact shapes.
// napi-derive registers exports only outside `cfg(test)`, so under
// `cargo test` everything here looks unused.
#![cfg_attr(test, allow(dead_code))]

use std::collections::HashMap;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde::Deserialize;

use crate::emulator::{self, EmulatorOptions, Fault, MediaLimits};

/// An app the emulator accepts on its token endpoints.
#[napi(object)]
#[derive(Deserialize)]
pub struct EmulatorApp {
    pub appid: String,
    pub secret: String,
}

/// Per-type size limits of `/cgi-bin/media/upload`, in bytes.
#[napi(object)]
pub struct EmulatorMediaLimits {
    pub image: Option<i64>,
    pub voice: Option<i64>,
    pub video: Option<i64>,
    pub thumb: Option<i64>,
}

/// Options of `startEmulator()`; every field is optional.
#[napi(object)]
pub struct EmulatorStartOptions {
    /// Port to listen on; 0 (default) picks a free one.
    pub port: Option<u32>,
    /// Interface to bind; default `127.0.0.1`.
    pub host: Option<String>,
    /// Apps accepted by the token endpoints; default one emulator app.
    pub apps: Option<Vec<EmulatorApp>>,
    /// Cloud Base env ids; default `['wx-media-emu']`.
    pub envs: Option<Vec<String>>,
    /// Accept requests with no token at all (cloud-run open-API service).
    pub open_api_service: Option<bool>,
    /// Benchmark mode: no request log, no hashing, media not kept.
    pub lean: Option<bool>,
    /// Cap on kept media bytes and on kept object bytes (each); default 512 MiB.
    pub max_stored_bytes: Option<i64>,
    /// Largest request body read; bigger ones get HTTP 413. Default 64 MiB.
    pub max_body_bytes: Option<i64>,
    /// Media size limits; defaults image 10 MiB, voice 2 MiB, video 10 MiB, thumb 64 KiB.
    pub media_limits: Option<EmulatorMediaLimits>,
}

/// A fault for requests whose path starts with `path`.
#[napi(object)]
pub struct EmulatorFault {
    pub path: String,
    /// Sleep first; alone, the request is then handled normally.
    pub delay_ms: Option<u32>,
    /// Answer with this HTTP status (body optional).
    pub status: Option<u32>,
    /// Answer HTTP 200 `{errcode, errmsg}`.
    pub errcode: Option<i64>,
    pub errmsg: Option<String>,
    /// Drop the connection without any answer.
    pub reset: Option<bool>,
    /// Answer with exactly this body (a string is sent as is, anything else as JSON).
    #[napi(ts_type = "unknown")]
    pub body: Option<serde_json::Value>,
    pub content_type: Option<String>,
    /// How many matching requests it hits: default 1, 0 = forever.
    pub times: Option<u32>,
}

/// A customer-service message the emulator accepted.
#[napi(object)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmulatorSentMessage {
    /// The app whose token sent it (none in open-API service mode).
    pub appid: Option<String>,
    pub touser: String,
    pub msgtype: String,
    /// The JSON body as received (WeChat's snake_case).
    #[napi(ts_type = "Record<string, any>")]
    pub message: serde_json::Value,
    /// Emulator clock, ms since the epoch.
    pub sent_at: f64,
}

/// Counters since start (or the last `reset()`).
#[napi(object)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmulatorStats {
    /// Requests per route (`/cgi-bin/media/upload`, `/cos`, `/tcb-dl`, …).
    pub requests: HashMap<String, i64>,
    /// Calls to `/cgi-bin/token` and `/cgi-bin/stable_token`.
    pub token_fetches: i64,
    pub stored_media: i64,
    pub stored_media_bytes: i64,
    pub stored_objects: i64,
    pub stored_object_bytes: i64,
}

#[napi(object, use_nullable = true)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmulatorRequestHeaders {
    pub content_type: Option<String>,
    pub content_length: Option<i64>,
    pub transfer_encoding: Option<String>,
}

/// One multipart part as received, in wire order.
#[napi(object, use_nullable = true)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmulatorRequestPart {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub size: i64,
    pub sha256: String,
    /// The text of a non-file field of at most 4 KiB.
    pub value: Option<String>,
}

/// One logged request and what the emulator answered.
#[napi(object, use_nullable = true)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmulatorRequest {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: EmulatorRequestHeaders,
    pub body_size: i64,
    pub body_sha256: String,
    /// The parsed JSON body, or null.
    #[napi(ts_type = "unknown")]
    pub json: serde_json::Value,
    pub parts: Vec<EmulatorRequestPart>,
    /// HTTP status sent; null when the connection was reset by a fault.
    pub status: Option<u32>,
    /// `errcode` of a WeChat JSON answer.
    pub errcode: Option<i64>,
}

#[napi(object)]
pub struct EmulatorRequestFilter {
    /// Only requests whose path starts with this.
    pub path: Option<String>,
}

#[napi(object)]
#[derive(Deserialize)]
pub struct EmulatorInfo {
    pub url: String,
    pub apps: Vec<EmulatorApp>,
    pub envs: Vec<String>,
}

/// A running emulator of the WeChat and COS endpoints, on 127.0.0.1.
#[napi]
pub struct Emulator {
    inner: emulator::Emulator,
}

/// Starts the emulator; resolves once it is listening.
#[napi]
pub async fn start_emulator(options: Option<EmulatorStartOptions>) -> Result<Emulator> {
    let opts = to_options(options)?;
    let place = format!("{}:{}", opts.host, opts.port);
    let inner = emulator::Emulator::start(opts)
        .await
        .map_err(|e| Error::from_reason(format!("cannot start the emulator on {place}: {e}")))?;
    Ok(Emulator { inner })
}

#[napi]
impl Emulator {
    /// `http://127.0.0.1:PORT`: the `baseUrl` to give clients.
    // The class has no constructor (`startEmulator()` makes emulators); the
    // declaration after this getter's type tells TypeScript so.
    #[napi(
        getter,
        ts_type = "(): string\n  /** Emulators come from `startEmulator()`. */\n  private constructor()"
    )]
    pub fn url(&self) -> String {
        self.inner.url()
    }

    #[napi(getter)]
    pub fn port(&self) -> u32 {
        u32::from(self.inner.port())
    }

    /// The first app's appid.
    #[napi(getter)]
    pub fn appid(&self) -> String {
        self.first_app().0
    }

    /// The first app's secret.
    #[napi(getter)]
    pub fn secret(&self) -> String {
        self.first_app().1
    }

    /// The first cloud env id.
    #[napi(getter)]
    pub fn env(&self) -> String {
        self.inner
            .options()
            .envs
            .first()
            .cloned()
            .unwrap_or_default()
    }

    /// The environment variables that make a child process believe it is a
    /// cloud function (`TENCENTCLOUD_RUNENV=SCF`) whose TCB gateway is this
    /// emulator: temporary credentials, `WX_API_TOKEN`, `TCB_CONTEXT_CNFG`…
    #[napi(ts_return_type = "Record<string, string>")]
    pub fn cloud_function_env(&self) -> std::collections::HashMap<String, String> {
        to_env(self.inner.cloud_function_env())
    }

    /// New credentials and tokens for the emulated cloud function, as the
    /// platform rotates them; the old ones are refused from now on.
    #[napi(ts_return_type = "Record<string, string>")]
    pub fn rotate_cloud_credentials(&self) -> std::collections::HashMap<String, String> {
        to_env(self.inner.rotate_cloud_credentials())
    }

    /// Stops listening and ends every connection.
    #[napi]
    pub async fn close(&self) {
        self.inner.close().await
    }

    #[napi]
    pub fn stats(&self) -> Result<EmulatorStats> {
        from_value(self.inner.stats())
    }

    /// The last ≤ 1000 requests, oldest first (none in lean mode).
    #[napi]
    pub fn requests(&self, filter: Option<EmulatorRequestFilter>) -> Result<Vec<EmulatorRequest>> {
        let prefix = filter.and_then(|f| f.path);
        let records = match prefix {
            Some(prefix) => self.inner.requests_matching(&prefix),
            None => self.inner.requests(),
        };
        from_value(records)
    }

    #[napi]
    pub fn clear_requests(&self) {
        self.inner.clear_requests()
    }

    /// Customer-service messages the emulator accepted (`customerServiceMessage.send`),
    /// oldest first: `{ appid, touser, msgtype, message, sentAt }`, `message`
    /// being the JSON body as received.
    #[napi]
    pub fn sent_messages(&self) -> Result<Vec<EmulatorSentMessage>> {
        from_value(self.inner.sent_messages())
    }

    /// Clears the request log, the counters, the faults and the sent messages.
    #[napi]
    pub fn reset(&self) {
        self.inner.reset()
    }

    /// Every token issued so far answers 42001 from now on.
    #[napi]
    pub fn expire_tokens(&self) {
        self.inner.expire_tokens()
    }

    /// Moves emulator time forward by `ms` (tokens, media, links expire by it).
    #[napi]
    pub fn advance_clock(&self, ms: i64) -> Result<()> {
        let ms = u64::try_from(ms)
            .map_err(|_| Error::new(Status::InvalidArg, "advanceClock(ms): ms must be >= 0"))?;
        self.inner.advance_clock(ms);
        Ok(())
    }

    #[napi]
    pub fn inject_fault(&self, fault: EmulatorFault) -> Result<()> {
        self.inner.inject_fault(to_fault(fault)?);
        Ok(())
    }

    #[napi]
    pub fn clear_faults(&self) {
        self.inner.clear_faults()
    }

    /// A valid access token, as an external token service would hand out;
    /// throws for an appid the emulator does not know.
    #[napi]
    pub fn issue_token(&self, appid: Option<String>) -> Result<String> {
        self.inner
            .issue_token(appid.as_deref())
            .map_err(invalid_arg)
    }

    /// The active faults in matching order; `remaining` is the hits left (`null`: forever).
    #[napi(ts_return_type = "Array<EmulatorFault & { remaining: number | null }>")]
    pub fn faults(&self) -> serde_json::Value {
        self.inner.faults()
    }

    /// A valid token for `?cloudbase_access_token=`.
    #[napi]
    pub fn issue_cloudbase_token(&self) -> String {
        self.inner.issue_cloudbase_token()
    }

    #[napi]
    pub fn info(&self) -> Result<EmulatorInfo> {
        from_value(self.inner.info())
    }
}

impl Emulator {
    fn first_app(&self) -> (String, String) {
        self.inner
            .options()
            .apps
            .first()
            .cloned()
            .unwrap_or_default()
    }
}

fn from_value<T: for<'de> Deserialize<'de>>(value: serde_json::Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::from_reason(format!("emulator: {e}")))
}

fn invalid_arg(message: String) -> Error {
    Error::new(Status::InvalidArg, message)
}

/// A byte count from JS: a non-negative integer.
fn byte_count(name: &str, value: Option<i64>, default: usize) -> Result<usize> {
    match value {
        None => Ok(default),
        Some(n) => usize::try_from(n)
            .map_err(|_| invalid_arg(format!("{name} must be a non-negative integer"))),
    }
}

fn to_options(options: Option<EmulatorStartOptions>) -> Result<EmulatorOptions> {
    let defaults = EmulatorOptions::default();
    let Some(o) = options else {
        return Ok(defaults);
    };
    let port = u16::try_from(o.port.unwrap_or(0))
        .map_err(|_| invalid_arg("port must be between 0 and 65535".to_owned()))?;
    let limits = o.media_limits.map_or(Ok(defaults.media_limits), |l| {
        let d = defaults.media_limits;
        Ok::<_, Error>(MediaLimits {
            image: byte_count("mediaLimits.image", l.image, d.image)?,
            voice: byte_count("mediaLimits.voice", l.voice, d.voice)?,
            video: byte_count("mediaLimits.video", l.video, d.video)?,
            thumb: byte_count("mediaLimits.thumb", l.thumb, d.thumb)?,
        })
    })?;
    Ok(EmulatorOptions {
        host: o.host.unwrap_or(defaults.host),
        port,
        apps: o.apps.map_or(defaults.apps, |apps| {
            apps.into_iter().map(|a| (a.appid, a.secret)).collect()
        }),
        envs: o.envs.unwrap_or(defaults.envs),
        open_api_service: o.open_api_service.unwrap_or(false),
        lean: o.lean.unwrap_or(false),
        max_stored_bytes: byte_count(
            "maxStoredBytes",
            o.max_stored_bytes,
            defaults.max_stored_bytes,
        )?,
        media_limits: limits,
        max_body_bytes: byte_count("maxBodyBytes", o.max_body_bytes, defaults.max_body_bytes)?,
    })
}

fn to_fault(fault: EmulatorFault) -> Result<Fault> {
    let status = fault
        .status
        .map(|s| {
            u16::try_from(s)
                .map_err(|_| invalid_arg(format!("fault status {s} is not an HTTP status")))
        })
        .transpose()?;
    let fault = Fault {
        path: fault.path,
        delay_ms: fault.delay_ms.map(u64::from),
        status,
        errcode: fault.errcode,
        errmsg: fault.errmsg,
        reset: fault.reset.unwrap_or(false),
        body: fault.body,
        content_type: fault.content_type,
        times: fault.times,
    };
    fault.validate().map_err(invalid_arg)?;
    Ok(fault)
}

fn to_env(
    vars: std::collections::BTreeMap<&'static str, String>,
) -> std::collections::HashMap<String, String> {
    vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
