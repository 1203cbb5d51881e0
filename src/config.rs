//! Client options (SPEC §2) and how credentials are chosen.
//!
//! [`ClientOptions`] is what the caller said; [`ClientConfig`] is what the
//! client will do, with defaults and environment variables applied.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::error::WxError;

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

/// A future that yields a token, from a user-supplied provider.
pub type TokenFuture = Pin<Box<dyn Future<Output = Result<String, WxError>> + Send>>;

/// A user-supplied token service (an `async () => string` on the JS side).
pub trait TokenProvider: Send + Sync {
    fn fetch(&self) -> TokenFuture;
}

/// A token given as a value or as a provider.
#[derive(Clone)]
pub enum TokenSupply {
    Static(String),
    Provider(Arc<dyn TokenProvider>),
}

impl fmt::Debug for TokenSupply {
    // Never print the token itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSupply::Static(_) => f.write_str("Static(***)"),
            TokenSupply::Provider(_) => f.write_str("Provider"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenMode {
    /// `POST /cgi-bin/stable_token`: processes sharing an appid do not evict each other.
    #[default]
    Stable,
    /// `GET /cgi-bin/token`: every fetch invalidates the previous token after 5 minutes.
    Legacy,
}

impl TokenMode {
    pub fn parse(s: &str) -> Result<Self, WxError> {
        match s {
            "stable" => Ok(TokenMode::Stable),
            "legacy" => Ok(TokenMode::Legacy),
            other => Err(WxError::invalid_param(format!(
                "tokenMode must be 'stable' or 'legacy', got '{other}'"
            ))),
        }
    }
}

/// How requests are authorised.
#[derive(Clone)]
pub enum Credential {
    /// appid + secret: this library fetches and caches access tokens.
    AppSecret {
        appid: String,
        secret: String,
        mode: TokenMode,
    },
    /// `?access_token=` from the caller.
    AccessToken(TokenSupply),
    /// `?cloudbase_access_token=` from the caller or the environment.
    Cloudbase(TokenSupply),
    /// `?cloudbase_access_token=` read from the token file of a cloud-run container.
    CloudbaseFile(PathBuf),
    /// Cloud-run open API service: no token at all.
    OpenApiService,
    /// Nothing configured; calls that need a token fail with a hint.
    Missing,
}

impl fmt::Debug for Credential {
    // The secret never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::AppSecret { appid, mode, .. } => {
                write!(
                    f,
                    "AppSecret {{ appid: {appid}, secret: ***, mode: {mode:?} }}"
                )
            }
            Credential::AccessToken(t) => write!(f, "AccessToken({t:?})"),
            Credential::Cloudbase(t) => write!(f, "Cloudbase({t:?})"),
            Credential::CloudbaseFile(p) => write!(f, "CloudbaseFile({})", p.display()),
            Credential::OpenApiService => f.write_str("OpenApiService"),
            Credential::Missing => f.write_str("Missing"),
        }
    }
}

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

/// Precedence: explicit options first (openApiService, accessToken,
/// cloudbaseAccessToken, appid+secret), then the environment
/// (WX_APPID/WX_APPSECRET, WX_CLOUDBASE_ACCESSTOKEN, the cloud-run token file).
fn choose_credential(opts: &ClientOptions, env: &dyn Environment) -> Result<Credential, WxError> {
    if opts.open_api_service {
        return Ok(Credential::OpenApiService);
    }
    if let Some(token) = &opts.access_token {
        return Ok(Credential::AccessToken(token.clone()));
    }
    if let Some(token) = &opts.cloudbase_access_token {
        return Ok(Credential::Cloudbase(token.clone()));
    }
    let mode = opts.token_mode.unwrap_or_default();
    match (&opts.appid, &opts.secret) {
        (Some(appid), Some(secret)) => {
            return Ok(Credential::AppSecret {
                appid: appid.clone(),
                secret: secret.clone(),
                mode,
            })
        }
        (Some(_), None) | (None, Some(_)) => {
            let (given, missing) = if opts.appid.is_some() {
                ("appid", "secret")
            } else {
                ("secret", "appid")
            };
            if env
                .var(if missing == "secret" {
                    "WX_APPSECRET"
                } else {
                    "WX_APPID"
                })
                .is_none()
            {
                return Err(WxError::invalid_param(format!(
                    "{given} was given without {missing}: pass both appid and secret (or set WX_APPID and WX_APPSECRET)"
                )));
            }
        }
        (None, None) => {}
    }
    let appid = opts.appid.clone().or_else(|| env.var("WX_APPID"));
    let secret = opts.secret.clone().or_else(|| env.var("WX_APPSECRET"));
    if let (Some(appid), Some(secret)) = (appid, secret) {
        return Ok(Credential::AppSecret {
            appid,
            secret,
            mode,
        });
    }
    if let Some(token) = env.var("WX_CLOUDBASE_ACCESSTOKEN") {
        return Ok(Credential::Cloudbase(TokenSupply::Static(token)));
    }
    if env.file_exists(CLOUDBASE_TOKEN_FILE) {
        return Ok(Credential::CloudbaseFile(PathBuf::from(
            CLOUDBASE_TOKEN_FILE,
        )));
    }
    // A cloud-run container without the token file: its open API service
    // needs no token at all.
    if env.var("CBR_ENV_ID").is_some() {
        return Ok(Credential::OpenApiService);
    }
    Ok(Credential::Missing)
}

/// The user name, password and `user:password` of a URL's user-info, as
/// written and percent-decoded (for redaction; empty when there is none).
pub fn url_credentials(raw: &str) -> Vec<String> {
    let Ok(url) = reqwest::Url::parse(raw.trim()) else {
        // Unparsable: whatever sits before an '@' may be a credential.
        let authority = raw.split_once("://").map_or(raw, |(_, rest)| rest);
        return authority
            .rsplit_once('@')
            .map(|(info, _)| vec![info.to_string()])
            .unwrap_or_default();
    };
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = url.username();
    let password = url.password().unwrap_or("");
    let mut out = Vec::new();
    for (u, p) in [
        (user.to_string(), password.to_string()),
        (decode(user), decode(password)),
    ] {
        if !p.is_empty() {
            out.push(format!("{u}:{p}"));
            out.push(p);
        }
        if !u.is_empty() {
            out.push(u);
        }
    }
    out
}

fn normalise_base_url(raw: &str) -> Result<String, WxError> {
    let trimmed = raw.trim().trim_end_matches('/');
    // Messages show the URL with any user-info masked (`http://***@host`).
    let shown = crate::secrets::mask_url_userinfo(trimmed);
    let parsed = reqwest::Url::parse(trimmed).map_err(|e| {
        WxError::invalid_param(format!(
            "baseUrl '{shown}' is not a valid URL ({e}); use an origin such as https://api.weixin.qq.com"
        ))
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(WxError::invalid_param(format!(
            "baseUrl '{shown}' must not carry a user name or password: WeChat takes none, and a URL is no place for a credential"
        )));
    }
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(WxError::invalid_param(format!(
            "baseUrl must use http or https, got '{}'",
            parsed.scheme()
        )));
    }
    if parsed.query().is_some() {
        return Err(WxError::invalid_param(
            "baseUrl must not carry a query string",
        ));
    }
    if parsed.fragment().is_some() {
        return Err(WxError::invalid_param(
            "baseUrl must not carry a fragment ('#…'); use an origin such as https://api.weixin.qq.com",
        ));
    }
    Ok(trimmed.to_string())
}

/// A proxy the HTTP client can use: an http:// or https:// URL. Anything
/// else would be ignored (ftp://) or fail every call (socks5://), so it is
/// refused here. The URL itself is never quoted: it may hold a password.
fn check_proxy(raw: &str) -> Result<String, WxError> {
    const EXAMPLE: &str = "use an HTTP(S) proxy URL such as http://127.0.0.1:3128";
    // Like curl and reqwest, `host:port` without a scheme means http://.
    let url = match raw.trim() {
        bare if !bare.contains("://") => format!("http://{bare}"),
        full => full.to_string(),
    };
    let parsed = reqwest::Url::parse(&url)
        .map_err(|_| WxError::invalid_param(format!("proxy is not a valid URL: {EXAMPLE}")))?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        "http" | "https" => Err(WxError::invalid_param(format!(
            "proxy has no host: {EXAMPLE}"
        ))),
        scheme if scheme.starts_with("socks") => Err(WxError::invalid_param(format!(
            "proxy scheme '{scheme}' is not supported (no SOCKS support): {EXAMPLE}"
        ))),
        scheme => Err(WxError::invalid_param(format!(
            "proxy scheme '{scheme}' is not supported: {EXAMPLE}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct FakeEnv(HashMap<&'static str, &'static str>, bool);
    impl Environment for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| v.to_string())
        }
        fn file_exists(&self, _path: &str) -> bool {
            self.1
        }
    }

    fn env(vars: &[(&'static str, &'static str)], file: bool) -> FakeEnv {
        FakeEnv(vars.iter().cloned().collect(), file)
    }

    #[test]
    fn current_env_is_tcb_env_else_namespace() {
        assert_eq!(
            current_env(&env(&[("TCB_ENV", "a"), ("SCF_NAMESPACE", "b")], false)).as_deref(),
            Some("a")
        );
        assert_eq!(
            current_env(&env(&[("SCF_NAMESPACE", "b")], false)).as_deref(),
            Some("b")
        );
        assert_eq!(current_env(&env(&[], false)), None);
    }

    #[test]
    fn options_win_over_environment() {
        let opts = ClientOptions {
            appid: Some("a".into()),
            secret: Some("s".into()),
            ..Default::default()
        };
        let cfg = ClientConfig::resolve(opts, &env(&[("WX_CLOUDBASE_ACCESSTOKEN", "cb")], true))
            .expect("valid");
        assert!(matches!(cfg.credential, Credential::AppSecret { ref appid, .. } if appid == "a"));
        assert_eq!(cfg.base_url, DEFAULT_BASE_URL);
        assert_eq!(cfg.retries, 2);
    }

    #[test]
    fn environment_fallbacks_in_order() {
        let cfg = ClientConfig::resolve(
            ClientOptions::default(),
            &env(
                &[("WX_APPID", "a"), ("WX_APPSECRET", "s"), ("TCB_ENV", "e")],
                true,
            ),
        )
        .expect("valid");
        assert!(matches!(cfg.credential, Credential::AppSecret { .. }));
        assert_eq!(cfg.env.as_deref(), Some("e"));

        let cfg = ClientConfig::resolve(
            ClientOptions::default(),
            &env(&[("WX_CLOUDBASE_ACCESSTOKEN", "cb")], true),
        )
        .expect("valid");
        assert!(
            matches!(cfg.credential, Credential::Cloudbase(TokenSupply::Static(ref t)) if t == "cb")
        );

        let cfg = ClientConfig::resolve(ClientOptions::default(), &env(&[], true)).expect("valid");
        assert!(matches!(cfg.credential, Credential::CloudbaseFile(_)));

        let cfg = ClientConfig::resolve(ClientOptions::default(), &env(&[], false)).expect("valid");
        assert!(matches!(cfg.credential, Credential::Missing));
    }

    #[test]
    fn cloud_run_uses_the_token_file_then_the_open_api_service() {
        let cbr = [("CBR_ENV_ID", "env-1")];
        let cfg = ClientConfig::resolve(ClientOptions::default(), &env(&cbr, true)).expect("ok");
        assert!(matches!(cfg.credential, Credential::CloudbaseFile(_)));
        let cfg = ClientConfig::resolve(ClientOptions::default(), &env(&cbr, false)).expect("ok");
        assert!(matches!(cfg.credential, Credential::OpenApiService));
        assert_eq!(cfg.base_url, OPEN_API_SERVICE_URL);
        assert!(cfg.gateway.is_none());
    }

    #[test]
    fn open_api_service_defaults_to_plain_http() {
        let opts = ClientOptions {
            open_api_service: true,
            appid: Some("a".into()),
            secret: Some("s".into()),
            ..Default::default()
        };
        let cfg = ClientConfig::resolve(opts, &env(&[], false)).expect("valid");
        assert!(matches!(cfg.credential, Credential::OpenApiService));
        assert_eq!(cfg.base_url, OPEN_API_SERVICE_URL);
    }

    #[test]
    fn half_a_credential_is_refused() {
        let opts = ClientOptions {
            appid: Some("a".into()),
            ..Default::default()
        };
        let err = ClientConfig::resolve(opts, &env(&[], false)).expect_err("refused");
        assert!(err.detail.contains("appid was given without secret"));
    }

    #[test]
    fn base_url_is_checked_and_trimmed() {
        let opts = ClientOptions {
            base_url: Some("http://127.0.0.1:9/".into()),
            ..Default::default()
        };
        let cfg = ClientConfig::resolve(opts, &env(&[], false)).expect("valid");
        assert_eq!(cfg.base_url, "http://127.0.0.1:9");
        let opts = ClientOptions {
            base_url: Some("ftp://x".into()),
            ..Default::default()
        };
        assert!(ClientConfig::resolve(opts, &env(&[], false)).is_err());
        let opts = ClientOptions {
            base_url: Some("http://127.0.0.1:9/#x".into()),
            ..Default::default()
        };
        let err = ClientConfig::resolve(opts, &env(&[], false)).expect_err("fragment");
        assert!(err.detail.contains("fragment"), "{}", err.detail);
    }

    #[test]
    fn proxy_must_be_http_or_https() {
        let resolve = |proxy: &str| {
            ClientConfig::resolve(
                ClientOptions {
                    proxy: Some(proxy.into()),
                    ..Default::default()
                },
                &env(&[], false),
            )
        };
        assert!(resolve("http://127.0.0.1:3128").is_ok());
        assert!(resolve("https://127.0.0.1:3128").is_ok());
        assert!(resolve("localhost:3128").is_ok());
        for (bad, says) in [
            ("ftp://127.0.0.1:21", "scheme 'ftp'"),
            ("socks5://u:pw@127.0.0.1:1080", "scheme 'socks5'"),
            ("socks5h://127.0.0.1:1080", "no SOCKS support"),
            ("gopher://127.0.0.1:70", "scheme 'gopher'"),
            ("http://", "not a valid URL"),
        ] {
            let err = resolve(bad).expect_err(bad);
            assert!(err.detail.contains(says), "{bad}: {}", err.detail);
            assert!(!err.detail.contains("pw@"), "{}", err.detail);
        }
    }

    #[test]
    fn base_url_credentials_are_refused_and_never_shown() {
        for url in [
            "http://alice:pa55word@127.0.0.1:9",
            "http://alice:pa55word@[bad",
            "http://alice@h",
        ] {
            let opts = ClientOptions {
                base_url: Some(url.into()),
                ..Default::default()
            };
            let err = ClientConfig::resolve(opts, &env(&[], false)).expect_err(url);
            assert!(!err.message().contains("pa55word"), "{}", err.message());
            assert!(!err.message().contains("alice"), "{}", err.message());
        }
    }

    #[test]
    fn url_credentials_as_written_and_decoded() {
        let c = url_credentials("http://us%40er:p%3Ass@proxy:3128");
        for want in ["us%40er:p%3Ass", "p%3Ass", "us@er:p:ss", "p:ss", "us@er"] {
            assert!(c.iter().any(|s| s == want), "{want} in {c:?}");
        }
        assert!(url_credentials("http://proxy:3128").is_empty());
    }
}
