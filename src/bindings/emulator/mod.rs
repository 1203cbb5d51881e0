//! napi bindings of the emulator: `startEmulator()` and the `Emulator` class.
//!
//! The core returns `serde_json::Value`s; here they are converted into
//! `#[napi(object)]` structs so that `index.d.ts` carries their exact shapes.
// napi-derive registers exports only outside `cfg(test)`, so under
// `cargo test` everything here looks unused.
#![cfg_attr(test, allow(dead_code))]
//!
//! This module owns the `Emulator` class; the start options and faults it
//! takes are read in `options`, the records it returns are shaped in `records`.

mod options;
mod records;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::emulator;

use options::{invalid_arg, to_fault, to_options, EmulatorFault, EmulatorStartOptions};
use records::{
    from_value, EmulatorInfo, EmulatorRequest, EmulatorRequestFilter, EmulatorSentMessage,
    EmulatorStats,
};

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

fn to_env(
    vars: std::collections::BTreeMap<&'static str, String>,
) -> std::collections::HashMap<String, String> {
    vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
