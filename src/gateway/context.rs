//! When the gateway is used, and the per-invocation values it needs: the
//! "cloudbase context" (research §1.2), credentials (§1.3), tokens (§1.4),
//! env (§1.5) and the endpoint (§2.1). Everything here is read again for
//! every call, as wx-server-sdk does: the platform rotates these values.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::{ClientOptions, Environment};
use crate::error::{ErrorKind, WxError};

/// What the caller fixed at `init()` / `new WxClient()` for the gateway.
#[derive(Clone, Default)]
pub struct GatewayConfig {
    pub secret_id: Option<String>,
    pub secret_key: Option<String>,
    pub session_token: Option<String>,
    pub service_url: Option<String>,
}

impl fmt::Debug for GatewayConfig {
    // Credentials never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GatewayConfig {{ secret_id: {:?}, secret_key: {}, session_token: {}, service_url: {:?} }}",
            self.secret_id,
            if self.secret_key.is_some() { "***" } else { "None" },
            if self.session_token.is_some() { "***" } else { "None" },
            self.service_url
        )
    }
}

/// The gateway is used when the caller names it (`secretId`/`secretKey`/
/// `sessionToken`/`serviceUrl`), or inside a cloud function
/// (`TENCENTCLOUD_RUNENV=SCF`) when no WeChat credential was given.
pub fn choose(
    opts: &ClientOptions,
    env: &dyn Environment,
) -> Result<Option<GatewayConfig>, WxError> {
    if opts.secret_id.is_some() != opts.secret_key.is_some() {
        let (given, missing) = if opts.secret_id.is_some() {
            ("secretId", "secretKey")
        } else {
            ("secretKey", "secretId")
        };
        return Err(WxError::invalid_param(format!(
            "{given} was given without {missing}: pass both (or neither, to use TENCENTCLOUD_SECRETID/TENCENTCLOUD_SECRETKEY)"
        )));
    }
    let explicit =
        opts.secret_id.is_some() || opts.session_token.is_some() || opts.service_url.is_some();
    let wechat = opts.appid.is_some()
        || opts.secret.is_some()
        || opts.access_token.is_some()
        || opts.cloudbase_access_token.is_some()
        || opts.open_api_service;
    if explicit && wechat {
        return Err(WxError::invalid_param(
            "secretId/secretKey/sessionToken/serviceUrl select the TCB gateway and cannot be combined with appid/secret/accessToken/cloudbaseAccessToken/openApiService: pass one kind",
        ));
    }
    let in_scf = env.var("TENCENTCLOUD_RUNENV").as_deref() == Some("SCF");
    if !explicit && (wechat || !in_scf) {
        return Ok(None);
    }
    if let Some(url) = &opts.service_url {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            WxError::invalid_param(format!("serviceUrl '{url}' is not a valid URL ({e})"))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(WxError::invalid_param("serviceUrl must use http or https"));
        }
    }
    Ok(Some(GatewayConfig {
        secret_id: opts.secret_id.clone(),
        secret_key: opts.secret_key.clone(),
        session_token: opts.session_token.clone(),
        service_url: opts.service_url.clone(),
    }))
}

/// Always visible, listed or not (node-sdk `tcbcontext.js`).
const ALLOWLIST: [&str; 14] = [
    "TRIGGER_SRC",
    "_SCF_TCB_LOG",
    "SCF_NAMESPACE",
    "TENCENTCLOUD_RUNENV",
    "TENCENTCLOUD_SECRETID",
    "TENCENTCLOUD_SECRETKEY",
    "TENCENTCLOUD_SESSIONTOKEN",
    "WX_CONTEXT_KEYS",
    "WX_TRIGGER_API_TOKEN_V0",
    "WX_CLIENTIP",
    "WX_CLIENTIPV6",
    "TCB_CONTEXT_KEYS",
    "TCB_CONTEXT_CNFG",
    "LOGINTYPE",
];

/// Platform-level variables node-sdk reads directly (not through the context).
const PLATFORM: [&str; 4] = [
    "CBR_ENV_ID",
    "SUMERU_ENV",
    "TENCENTCLOUD",
    "TENCENTCLOUD_REGION",
];

/// A snapshot of the variables one call may use, taken when the call is made.
#[derive(Clone, Default)]
pub struct Snapshot {
    /// The allowlist plus every name in TCB_CONTEXT_KEYS / WX_CONTEXT_KEYS.
    context: HashMap<String, String>,
    platform: HashMap<String, String>,
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<&String> = self.context.keys().collect();
        keys.sort();
        write!(f, "Snapshot {{ context keys: {keys:?} }}")
    }
}

impl Snapshot {
    pub fn capture(env: &dyn Environment) -> Snapshot {
        let mut context = HashMap::new();
        for name in ALLOWLIST {
            if let Some(v) = env.var(name) {
                context.insert(name.to_string(), v);
            }
        }
        let listed: Vec<String> = ["TCB_CONTEXT_KEYS", "WX_CONTEXT_KEYS"]
            .iter()
            .filter_map(|k| context.get(*k).cloned())
            .flat_map(|list| {
                list.split(',')
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect::<Vec<_>>()
            })
            .collect();
        for name in listed {
            if let Some(v) = env.var(&name) {
                context.insert(name, v);
            }
        }
        let platform = PLATFORM
            .iter()
            .filter_map(|n| env.var(n).map(|v| (n.to_string(), v)))
            .collect();
        Snapshot { context, platform }
    }

    /// A context variable: visible only when allowlisted or listed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.context
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn platform(&self, name: &str) -> Option<&str> {
        self.platform
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `scf`, `cbr`, `sumeru`, `tencentcloud` or `unknown`; "internal" platforms
    /// reach the gateway over plain http on its internal host.
    pub fn run_env_tag(&self) -> (&'static str, bool) {
        if self.get("TENCENTCLOUD_RUNENV") == Some("SCF") {
            ("scf", true)
        } else if self.platform("CBR_ENV_ID").is_some() {
            ("cbr", true)
        } else if matches!(self.platform("SUMERU_ENV"), Some("formal" | "pre" | "test")) {
            ("sumeru", true)
        } else if self.platform("TENCENTCLOUD") == Some("true") {
            ("tencentcloud", true)
        } else {
            ("unknown", false)
        }
    }

    pub fn region(&self) -> Option<&str> {
        self.platform("TENCENTCLOUD_REGION")
    }
}

/// Tencent Cloud credentials for one request.
#[derive(Clone)]
pub struct Credentials {
    pub secret_id: String,
    pub secret_key: String,
    pub session_token: Option<String>,
}

/// Everything one `/admin` request needs besides its action params.
#[derive(Clone)]
pub struct Invocation {
    pub credentials: Credentials,
    pub env: String,
    /// Full URL, query included.
    pub url: String,
    pub source: String,
    pub region: Option<String>,
    pub tracelog: Option<String>,
    pub wx_cloud_api_token: String,
    pub wx_cloudbase_access_token: Option<String>,
    pub tcb_session_token: String,
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Invocation {{ env: {:?}, source: {:?} }}",
            self.env, self.source
        )
    }
}

static EVENT_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `Date.now().toString(16) + '_' + (++counter).toString(16)`.
fn event_id() -> String {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let n = EVENT_COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    format!("{now_ms:x}_{n:x}")
}

impl Invocation {
    /// Resolves one request: `env` is the call's or the client's, if any.
    pub fn resolve(
        cfg: &GatewayConfig,
        snap: &Snapshot,
        env: Option<&str>,
    ) -> Result<Self, WxError> {
        let credentials = match (&cfg.secret_id, &cfg.secret_key) {
            (Some(id), Some(key)) => Credentials {
                secret_id: id.clone(),
                secret_key: key.clone(),
                session_token: cfg.session_token.clone(),
            },
            _ => match (snap.get("TENCENTCLOUD_SECRETID"), snap.get("TENCENTCLOUD_SECRETKEY")) {
                (Some(id), Some(key)) => Credentials {
                    secret_id: id.to_string(),
                    secret_key: key.to_string(),
                    session_token: cfg
                        .session_token
                        .clone()
                        .or_else(|| snap.get("TENCENTCLOUD_SESSIONTOKEN").map(str::to_string)),
                },
                _ => {
                    return Err(WxError::new(
                        ErrorKind::Token,
                        -1,
                        "no Tencent Cloud credentials for the TCB gateway: TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY are not set (a cloud function has them), and secretId/secretKey were not passed to init() or new WxClient()",
                    ))
                }
            },
        };
        let env = env
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .or_else(|| snap.get("TCB_ENV").map(str::to_string))
            .or_else(|| snap.get("SCF_NAMESPACE").map(str::to_string))
            .unwrap_or_default();
        let seq_id = match snap.get("TCB_SEQID") {
            Some(seq) => format!("{seq}-{}", event_id()),
            None => event_id(),
        };
        let base = base_url(cfg, snap, &env);
        let query = format!(
            "env={}&seqId={}",
            form_urlencoded::byte_serialize(env.as_bytes()).collect::<String>(),
            form_urlencoded::byte_serialize(seq_id.as_bytes()).collect::<String>()
        );
        let url = if base.contains('?') {
            format!("{base}&{query}")
        } else {
            format!("{base}?{query}")
        };
        let (tag, _) = snap.run_env_tag();
        let timer = snap.get("TRIGGER_SRC") == Some("timer");
        let api_token = if timer {
            snap.get("WX_TRIGGER_API_TOKEN_V0")
                .or_else(|| snap.get("WX_API_TOKEN"))
        } else {
            snap.get("WX_API_TOKEN")
        }
        .unwrap_or_default()
        .to_string();
        let cloudbase = if api_token.is_empty() {
            Some(
                snap.get("WX_CLOUDBASE_ACCESSTOKEN")
                    .unwrap_or_default()
                    .to_string(),
            )
        } else {
            None
        };
        Ok(Invocation {
            credentials,
            url,
            source: format!("{},{tag}", snap.get("TCB_SOURCE").unwrap_or_default()),
            region: snap.region().map(str::to_string),
            tracelog: snap.get("TCB_TRACELOG").map(str::to_string),
            wx_cloud_api_token: api_token,
            wx_cloudbase_access_token: cloudbase,
            tcb_session_token: snap.get("TCB_SESSIONTOKEN").unwrap_or_default().to_string(),
            env,
        })
    }
}

/// `serviceUrl`, else `TCB_CONTEXT_CNFG.URL`, else the gateway host.
fn base_url(cfg: &GatewayConfig, snap: &Snapshot, env: &str) -> String {
    if let Some(url) = &cfg.service_url {
        return url.clone();
    }
    let override_url = snap
        .get("TCB_CONTEXT_CNFG")
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .and_then(|v| v.get("URL").and_then(|u| u.as_str()).map(str::to_string))
        .filter(|u| !u.is_empty());
    if let Some(url) = override_url {
        return url;
    }
    let (_, internal) = snap.run_env_tag();
    let endpoint = match (snap.region(), internal) {
        (Some(r), true) => format!("internal.{r}.tcb-api.tencentcloudapi.com"),
        (None, true) => "internal.tcb-api.tencentcloudapi.com".to_string(),
        (Some(r), false) => format!("{r}.tcb-api.tencentcloudapi.com"),
        (None, false) => "tcb-api.tencentcloudapi.com".to_string(),
    };
    let env_ok = !env.is_empty()
        && env.len() <= 40
        && env
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    let host = if env_ok {
        format!("{env}.{endpoint}")
    } else {
        endpoint
    };
    let scheme = if internal { "http" } else { "https" };
    format!("{scheme}://{host}/admin")
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;
