//! URL options checked before anything is sent: the API origin and the
//! proxy, and the credentials a URL may carry (refused or redacted).

use crate::error::WxError;

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

pub(super) fn normalise_base_url(raw: &str) -> Result<String, WxError> {
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
pub(super) fn check_proxy(raw: &str) -> Result<String, WxError> {
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
