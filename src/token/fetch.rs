//! Where tokens come from: WeChat's token endpoints (`stable_token` or the
//! legacy `token`), a static token or a provider function of the user's,
//! or the cloud-run token file; and how long each may be reused.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;

use super::Token;
use crate::client::{Client, Request, RequestBody, TimeoutClass};
use crate::config::{Credential, TokenMode, TokenSupply};
use crate::error::{ErrorKind, WxError};
use crate::retry::Retry;

/// Refresh this long before WeChat's expiry. WeChat keeps a replaced token
/// valid for 5 minutes, so a 300 s margin never hands out a dead token.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);
/// How long a token from a user provider or the cloud-run token file is
/// reused before asking again (a rejected one is dropped at once).
pub(super) const EXTERNAL_TOKEN_TTL: Duration = Duration::from_secs(60);
/// Static tokens are never refreshed; "fresh" for a very long time.
pub(super) const STATIC_TOKEN_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

#[derive(Deserialize)]
pub(super) struct TokenReply {
    access_token: Option<String>,
    /// Untrusted: any JSON (see `trusted_expires_in`).
    pub(super) expires_in: Option<serde_json::Value>,
    errcode: Option<i64>,
    errmsg: Option<String>,
}

/// A token (and how long to reuse it) from the client's credential.
pub(super) async fn from_credential(
    credential: &Credential,
    client: &Client,
    deadline: tokio::time::Instant,
    budget: Duration,
) -> Result<(Token, Duration), WxError> {
    match credential {
        Credential::AppSecret {
            appid,
            secret,
            mode,
        } => fetch_from_wechat(client, appid, secret, *mode, deadline, budget).await,
        Credential::AccessToken(supply) => {
            let limit = client.config().timeouts.json;
            from_supply(supply, "access_token", "accessToken", limit).await
        }
        Credential::Cloudbase(supply) => {
            let limit = client.config().timeouts.json;
            from_supply(
                supply,
                "cloudbase_access_token",
                "cloudbaseAccessToken",
                limit,
            )
            .await
        }
        Credential::CloudbaseFile(path) => {
            let text = tokio::fs::read_to_string(path).await.map_err(|e| {
                WxError::new(
                    ErrorKind::Token,
                    -1,
                    format!(
                        "cannot read the cloudbase access token file {}: {e}",
                        path.display()
                    ),
                )
            })?;
            let value = non_empty(text.trim(), "the cloudbase access token file")?;
            Ok((token(value, "cloudbase_access_token"), EXTERNAL_TOKEN_TTL))
        }
        Credential::OpenApiService => Err(WxError::invalid_param("open API service uses no token")),
        Credential::Missing => Err(WxError::invalid_param(
            "no credentials: pass { appid, secret } (or set WX_APPID and WX_APPSECRET), \
             or accessToken, or cloudbaseAccessToken, or openApiService: true",
        )),
    }
}

pub(super) fn token(value: &str, param: &'static str) -> Token {
    Token {
        value: Arc::from(value),
        param,
    }
}

fn non_empty<'a>(value: &'a str, what: &str) -> Result<&'a str, WxError> {
    if value.is_empty() {
        Err(WxError::new(
            ErrorKind::Token,
            -1,
            format!("{what} gave an empty token"),
        ))
    } else {
        Ok(value)
    }
}

async fn from_supply(
    supply: &TokenSupply,
    param: &'static str,
    option: &str,
    limit: Duration,
) -> Result<(Token, Duration), WxError> {
    match supply {
        TokenSupply::Static(value) => {
            Ok((token(non_empty(value, option)?, param), STATIC_TOKEN_TTL))
        }
        TokenSupply::Provider(provider) => {
            // A provider that never settles fails like a hung token endpoint
            // would, after the JSON timeout, but as TOKEN_ERROR: the fault is
            // the provider's, not the network's.
            let value = tokio::time::timeout(limit, provider.fetch())
                .await
                .map_err(|_| {
                    WxError::new(
                        ErrorKind::Token,
                        -1,
                        format!(
                            "the {option} function did not settle within {} ms (timeout.json)",
                            limit.as_millis()
                        ),
                    )
                })??;
            let value = non_empty(value.trim(), &format!("the {option} provider"))?;
            Ok((token(value, param), EXTERNAL_TOKEN_TTL))
        }
    }
}

async fn fetch_from_wechat(
    client: &Client,
    appid: &str,
    secret: &str,
    mode: TokenMode,
    deadline: tokio::time::Instant,
    budget: Duration,
) -> Result<(Token, Duration), WxError> {
    let (request, endpoint) = match mode {
        TokenMode::Stable => {
            let body = serde_json::json!({
                "grant_type": "client_credential",
                "appid": appid,
                "secret": secret,
                "force_refresh": false,
            });
            (
                // force_refresh: false — asking again returns the same token.
                Request::post_json("/cgi-bin/stable_token", Bytes::from(body.to_string()))
                    .idempotent(),
                "stable_token",
            )
        }
        TokenMode::Legacy => (
            Request {
                method: reqwest::Method::GET,
                target: crate::client::Target::Api("/cgi-bin/token"),
                query: vec![
                    ("grant_type", "client_credential".to_string()),
                    ("appid", appid.to_string()),
                    ("secret", secret.to_string()),
                ],
                body: RequestBody::Empty,
                timeout: TimeoutClass::Json,
                max_reply_bytes: 64 * 1024,
                retry: Retry::Idempotent,
            },
            "token",
        ),
    };
    let reply = client.send_until(&request, None, deadline, budget).await?;
    let parsed: TokenReply = serde_json::from_slice(&reply.body).map_err(|_| {
        WxError::http_status(
            reply.status,
            format!(
                "/cgi-bin/{endpoint} answered HTTP {} with no token JSON",
                reply.status
            ),
        )
    })?;
    match (parsed.errcode.unwrap_or(0), parsed.access_token) {
        (0, Some(value)) if !value.is_empty() => {
            let expires_in = trusted_expires_in(parsed.expires_in.as_ref());
            Ok((token(&value, "access_token"), cache_ttl(expires_in)))
        }
        (code, _) => {
            let code = if code == 0 { -1 } else { code };
            let msg = parsed
                .errmsg
                .unwrap_or_else(|| "no access_token in reply".into());
            Err(WxError::new(
                ErrorKind::Token,
                code,
                format!("fetching access_token from /cgi-bin/{endpoint} failed: {msg}"),
            ))
        }
    }
}

/// WeChat tokens live 7200 s; a reply is not trusted beyond that.
const MAX_EXPIRES_IN: u64 = 7200;
/// Below this a token would be fetched again almost at once.
const MIN_EXPIRES_IN: u64 = 60;

/// `expires_in` from a token reply, clamped to [60 s, 7200 s]: absurd
/// (2^63−1, 1e300), negative, zero and fractional values are untrusted input,
/// and a missing or non-numeric one counts as WeChat's documented 7200 s.
pub fn trusted_expires_in(value: Option<&serde_json::Value>) -> u64 {
    let Some(secs) = value.and_then(serde_json::Value::as_f64) else {
        return MAX_EXPIRES_IN;
    };
    // `as` saturates (negative → 0); the clamp keeps it in range.
    (secs.floor() as u64).clamp(MIN_EXPIRES_IN, MAX_EXPIRES_IN)
}

/// How long to reuse a token WeChat said is valid for `expires_in` seconds:
/// the margin before expiry, or half the lifetime when it is shorter than twice the margin.
pub fn cache_ttl(expires_in: u64) -> Duration {
    let lifetime = Duration::from_secs(expires_in);
    if lifetime > EXPIRY_MARGIN * 2 {
        lifetime - EXPIRY_MARGIN
    } else {
        lifetime / 2
    }
}
