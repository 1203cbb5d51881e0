//! The HTTP client of WeChat and COS calls: its policies (no redirects, no
//! Referer, short-lived idle connections), reading replies with a size limit,
//! and transport errors without URLs.

use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::config::ClientConfig;
use crate::error::{ErrorKind, WxError};
use crate::secrets::Secrets;

/// Pooled connections idle longer than this are closed (≤ 20 s, below the
/// keep-alive time of common servers).
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(20);

/// WeChat and COS calls never follow a redirect: a 307 would re-send the
/// appsecret to another origin, a 302 would turn an upload into a GET and
/// resolve with the target's answer. A 3xx is an `HTTP_STATUS` failure (see
/// `Client::exchange`). The generic `http.*` transfers follow redirects
/// by hand on this same client, with their own policy (see `http_transfer`).
pub fn wechat_redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::none()
}

/// The appsecret, static tokens and proxy credentials, registered before
/// anything can fail with them in a message.
pub fn register_config_secrets(cfg: &ClientConfig, secrets: &Secrets) {
    use crate::config::{Credential, TokenSupply};
    match &cfg.credential {
        Credential::AppSecret { secret, .. } => secrets.add_permanent(secret),
        Credential::AccessToken(TokenSupply::Static(t))
        | Credential::Cloudbase(TokenSupply::Static(t)) => secrets.add_permanent(t),
        _ => {}
    }
    if let Some(gateway) = &cfg.gateway {
        for secret in [&gateway.secret_key, &gateway.session_token]
            .into_iter()
            .flatten()
        {
            secrets.add_permanent(secret);
        }
    }
    if let Some(proxy) = &cfg.proxy {
        for secret in crate::config::url_credentials(proxy) {
            secrets.add_permanent(&secret);
        }
    }
    // tokenStore / mediaCache: a Redis URL's password.
    let redis_urls = [
        cfg.token_store.as_ref().and_then(|s| s.redis_url()),
        cfg.media_cache.as_ref().and_then(|c| c.redis.as_deref()),
    ];
    for url in redis_urls.into_iter().flatten() {
        for secret in crate::config::url_credentials(url) {
            secrets.add_permanent(&secret);
        }
    }
}

pub fn build_http_client(cfg: &ClientConfig) -> Result<reqwest::Client, WxError> {
    let mut builder = reqwest::Client::builder()
        .redirect(wechat_redirect_policy())
        // Only redirects set a Referer in reqwest; say so explicitly anyway.
        .referer(false)
        .connect_timeout(Duration::from_secs(10).min(cfg.timeouts.json))
        // Servers close idle keep-alive connections after some tens of seconds;
        // dropping ours sooner keeps the "closed while reused" race rare.
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_max_idle_per_host(cfg.max_concurrency)
        .tcp_nodelay(true)
        .user_agent(concat!("wx-media/", env!("CARGO_PKG_VERSION")));
    if let Some(proxy) = &cfg.proxy {
        // The message never quotes the proxy URL: it may carry a password.
        let proxy = reqwest::Proxy::all(proxy).map_err(|e| {
            WxError::invalid_param(format!(
                "proxy must be a URL such as http://user:password@127.0.0.1:3128 ({})",
                e.without_url()
            ))
        })?;
        builder = builder.proxy(proxy);
    }
    if let Some(pem) = &cfg.ca_cert {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
            WxError::invalid_param(format!(
                "caCert must be PEM text of one or more certificates ({e})"
            ))
        })?;
        if certs.is_empty() {
            return Err(WxError::invalid_param(
                "caCert holds no certificate: pass PEM text starting with -----BEGIN CERTIFICATE-----",
            ));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| WxError::invalid_param(format!("cannot build the HTTP client: {e}")))
}

/// Streams a reply body into the call's file sink (temp file, kept for the
/// rename once the call succeeds).
pub(crate) async fn receive_to_file(
    response: reqwest::Response,
    sink: &crate::sink::FileSink,
    progress: Option<std::sync::Arc<crate::progress::Progress>>,
    path: &str,
    timeout: Duration,
) -> Result<(), WxError> {
    if let Some(p) = &progress {
        p.begin(response.content_length().unwrap_or(0));
    }
    crate::sink::write_stream(
        sink,
        response.bytes_stream(),
        |n| {
            if let Some(p) = &progress {
                p.advance(n as u64);
            }
        },
        |e| transport_error(e, path, timeout),
    )
    .await
}

/// Reads the whole body, refusing one larger than `max` before buffering it.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    max: u64,
    path: &str,
    timeout: Duration,
    progress: Option<std::sync::Arc<crate::progress::Progress>>,
) -> Result<Bytes, WxError> {
    let status = response.status().as_u16();
    let too_large = |n: u64| {
        WxError::new(
            ErrorKind::TooLarge,
            crate::error::LOCAL_ERR_CODE,
            format!(
                "reply from {path} is larger than the {max}-byte limit for replies held in memory ({n} bytes): raise maxDownloadBytes or pass filePath to stream it to a file"
            ),
        )
        .with_status(status)
    };
    let announced = response.content_length();
    if let Some(p) = &progress {
        p.begin(announced.unwrap_or(0));
    }
    if let Some(len) = announced.filter(|&len| len > max) {
        return Err(too_large(len));
    }
    // Most replies arrive as one chunk: hand it over without copying.
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(e, path, timeout))?
    {
        let total = first.as_ref().map_or(0, |f| f.len()) + buf.len() + chunk.len();
        if total as u64 > max {
            return Err(too_large(total as u64));
        }
        if let Some(p) = &progress {
            p.advance(chunk.len() as u64);
        }
        match first.take() {
            None if buf.is_empty() => first = Some(chunk),
            Some(prev) => {
                buf.reserve(announced.map_or(prev.len() + chunk.len(), |n| n as usize));
                buf.extend_from_slice(&prev);
                buf.extend_from_slice(&chunk);
            }
            None => buf.extend_from_slice(&chunk),
        }
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

pub(crate) fn transport_error(e: reqwest::Error, path: &str, timeout: Duration) -> WxError {
    if e.is_timeout() {
        return WxError::timeout(format!(
            "request to {path} timed out after {} ms",
            timeout.as_millis()
        ));
    }
    // The URL (with its token) is dropped; the cause chain says what happened.
    let e = e.without_url();
    let mut detail = format!("request to {path} failed: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    WxError::network(detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_connections_are_dropped_before_servers_drop_them() {
        assert!(POOL_IDLE_TIMEOUT <= Duration::from_secs(20));
    }
}
