//! The JS options of `startEmulator()` and `injectFault()`, checked and
//! turned into the core's `EmulatorOptions` and `Fault`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde::Deserialize;

use crate::emulator::{EmulatorOptions, Fault, MediaLimits};

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

pub(super) fn invalid_arg(message: String) -> Error {
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

pub(super) fn to_options(options: Option<EmulatorStartOptions>) -> Result<EmulatorOptions> {
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

pub(super) fn to_fault(fault: EmulatorFault) -> Result<Fault> {
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
