//! Client options (SPEC §2) and how credentials are chosen.
//!
//! [`ClientOptions`] is what the caller said; [`ClientConfig`] is what the
//! client will do, with defaults and environment variables applied.

use std::time::Duration;

use crate::error::WxError;

mod credential;
mod urls;

use credential::choose_credential;
pub use credential::{Credential, TokenFuture, TokenMode, TokenProvider, TokenSupply};
pub use urls::url_credentials;
use urls::{check_proxy, normalise_base_url};

pub const DEFAULT_BASE_URL: &str = "https://api.weixin.qq.com";
/// Base URL of the cloud-run open API service (no token, plain http).
pub const OPEN_API_SERVICE_URL: &str = "http://api.weixin.qq.com";
/// Where cloud-run containers find their cloudbase access token.
pub const CLOUDBASE_TOKEN_FILE: &str = "/.tencentcloudbase/wx/cloudbase_access_token";

pub const DEFAULT_JSON_TIMEOUT: Duration = Duration::from_millis(15_000);
pub const DEFAULT_TRANSFER_TIMEOUT: Duration = Duration::from_millis(60_000);
pub const DEFAULT_RETRIES: u32 = 2;
pub const DEFAULT_MAX_CONCURRENCY: usize = 64;
/// Largest body `downloadFile` / `getTempMedia` will hold in memory.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 256 * 1024 * 1024;
/// Largest upload to storage (and `http.uploadFile`); sources of unknown
/// length (JS streams, URLs without a Content-Length) are buffered up to it.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 1024 * 1024 * 1024;

/// Size limits of temporary media, per type, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    pub image: u64,
    pub voice: u64,
    pub video: u64,
    pub thumb: u64,
}

impl Default for MediaLimits {
    fn default() -> Self {
        // The official page says both 2 MB and 10 MB for images; we keep the
        // larger one and let the server decide (see research/protocol.md §2.1).
        MediaLimits {
            image: 10 * 1024 * 1024,
            voice: 2 * 1024 * 1024,
            video: 10 * 1024 * 1024,
            thumb: 64 * 1024,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// JSON API calls (tokens, tcb/*).
    pub json: Duration,
    /// Uploads and downloads.
    pub transfer: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            json: DEFAULT_JSON_TIMEOUT,
            transfer: DEFAULT_TRANSFER_TIMEOUT,
        }
    }
}

/// What the caller passed to `new WxClient(options)` / `init(options)`.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub appid: Option<String>,
    pub secret: Option<String>,
    pub token_mode: Option<TokenMode>,
    pub access_token: Option<TokenSupply>,
    pub cloudbase_access_token: Option<TokenSupply>,
    pub open_api_service: bool,
    pub env: Option<String>,
    /// `env: DYNAMIC_CURRENT_ENV`: the env the function runs in, per call.
    pub current_env: bool,
    pub base_url: Option<String>,
    pub timeouts: Option<Timeouts>,
    pub retries: Option<u32>,
    pub max_concurrency: Option<usize>,
    pub proxy: Option<String>,
    pub ca_cert: Option<String>,
    pub media_limits: Option<MediaLimits>,
    pub max_download_bytes: Option<u64>,
    pub max_upload_bytes: Option<u64>,
    /// Redirects the generic `http.*` calls follow (WeChat/COS calls follow none).
    pub max_redirects: Option<u32>,
    /// TCB gateway (wx-server-sdk's names): Tencent Cloud credentials and the
    /// gateway URL; any of them selects the gateway transport.
    pub secret_id: Option<String>,
    pub secret_key: Option<String>,
    pub session_token: Option<String>,
    pub service_url: Option<String>,
    /// `tokenStore` (issue 10): where a fleet shares its tokens.
    pub token_store: Option<crate::token_store::StoreOptions>,
    /// `mediaCache` (issue 10): reuse the `mediaId` of identical bytes.
    pub media_cache: Option<crate::media_cache::MediaCacheOptions>,
}

/// The resolved configuration of one client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub credential: Credential,
    pub appid: Option<String>,
    /// The default env when fixed; see [`ClientConfig::env_now`].
    pub env: Option<String>,
    /// `env: DYNAMIC_CURRENT_ENV`: resolved at each call.
    pub current_env: bool,
    /// Origin without a trailing slash.
    pub base_url: String,
    pub timeouts: Timeouts,
    pub retries: u32,
    pub max_concurrency: usize,
    pub proxy: Option<String>,
    pub ca_cert: Option<String>,
    pub media_limits: MediaLimits,
    pub max_download_bytes: u64,
    pub max_upload_bytes: u64,
    /// `maxRedirects` of the generic `http.*` calls; `None`: their default.
    pub max_redirects: Option<u32>,
    /// `Some` when calls go through the TCB gateway instead of WeChat HTTP.
    pub gateway: Option<crate::gateway::GatewayConfig>,
    pub token_store: Option<crate::token_store::StoreOptions>,
    pub media_cache: Option<crate::media_cache::MediaCacheOptions>,
}

/// Reads the process environment; a seam so tests can supply their own.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
    fn file_exists(&self, path: &str) -> bool;
}

/// The real process environment.
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
    fn file_exists(&self, path: &str) -> bool {
        std::path::Path::new(path).is_file()
    }
}

/// wx-server-sdk's `DYNAMIC_CURRENT_ENV`: `TCB_ENV`, else `SCF_NAMESPACE`.
pub fn current_env(env: &dyn Environment) -> Option<String> {
    env.var("TCB_ENV").or_else(|| env.var("SCF_NAMESPACE"))
}

impl ClientConfig {
    /// The default env of a call made now: the fixed one, or the function's
    /// current env when `env` was `DYNAMIC_CURRENT_ENV`.
    pub fn env_now(&self) -> Option<String> {
        if self.current_env {
            current_env(&ProcessEnvironment)
        } else {
            self.env.clone()
        }
    }

    /// Applies defaults and the environment to the caller's options.
    pub fn resolve(opts: ClientOptions, env: &dyn Environment) -> Result<Self, WxError> {
        let appid = opts.appid.clone().or_else(|| env.var("WX_APPID"));
        let gateway = crate::gateway::choose(&opts, env)?;
        let credential = match gateway {
            // The gateway signs with Tencent Cloud credentials, read per request.
            Some(_) => Credential::Missing,
            None => choose_credential(&opts, env)?,
        };
        let default_base = if matches!(credential, Credential::OpenApiService) {
            OPEN_API_SERVICE_URL
        } else {
            DEFAULT_BASE_URL
        };
        let base_url = normalise_base_url(opts.base_url.as_deref().unwrap_or(default_base))?;
        let max_concurrency = opts.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY);
        if max_concurrency == 0 {
            return Err(WxError::invalid_param("maxConcurrency must be at least 1"));
        }
        let token_store = match (&credential, opts.token_store) {
            (_, None) => None,
            (Credential::AppSecret { .. }, Some(store)) => Some(store),
            (_, Some(_)) => {
                return Err(WxError::invalid_param(
                    "tokenStore shares tokens fetched with { appid, secret }; \
                     it cannot be used with accessToken, cloudbaseAccessToken, openApiService or the TCB gateway",
                ))
            }
        };
        if let Some(cache) = &opts.media_cache {
            if cache.redis.is_some() && appid.is_none() && gateway.is_none() {
                return Err(WxError::invalid_param(
                    "mediaCache: { redis } shares mediaIds per app across the fleet: \
                     pass appid (or set WX_APPID) so entries of different apps never mix",
                ));
            }
        }
        Ok(ClientConfig {
            credential,
            appid,
            // In the gateway the env comes from the invocation, per request.
            env: match gateway {
                Some(_) => opts.env.clone(),
                None => opts.env.clone().or_else(|| env.var("TCB_ENV")),
            },
            current_env: opts.current_env,
            base_url,
            timeouts: opts.timeouts.unwrap_or_default(),
            retries: opts.retries.unwrap_or(DEFAULT_RETRIES),
            max_concurrency,
            proxy: opts.proxy.as_deref().map(check_proxy).transpose()?,
            ca_cert: opts.ca_cert.clone(),
            media_limits: opts.media_limits.unwrap_or_default(),
            max_download_bytes: opts
                .max_download_bytes
                .unwrap_or(DEFAULT_MAX_DOWNLOAD_BYTES),
            max_upload_bytes: opts.max_upload_bytes.unwrap_or(DEFAULT_MAX_UPLOAD_BYTES),
            max_redirects: opts.max_redirects,
            gateway,
            token_store,
            media_cache: opts.media_cache,
        })
    }
}

#[cfg(test)]
mod tests;
