//! Which credential a client uses (SPEC §2): appid + secret, an access token
//! or a provider of one, a cloudbase access token (or the cloud-run token
//! file), the cloud-run open API service; chosen from the options first,
//! then the environment.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use super::{ClientOptions, Environment, CLOUDBASE_TOKEN_FILE};
use crate::error::WxError;

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

/// Precedence: explicit options first (openApiService, accessToken,
/// cloudbaseAccessToken, appid+secret), then the environment
/// (WX_APPID/WX_APPSECRET, WX_CLOUDBASE_ACCESSTOKEN, the cloud-run token file).
pub(super) fn choose_credential(
    opts: &ClientOptions,
    env: &dyn Environment,
) -> Result<Credential, WxError> {
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
