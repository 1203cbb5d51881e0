//! The option names `new WxClient()` and `init()` read, one table per
//! options object. A name not listed is refused with a "did you mean", so a
//! new option is added by handling it in `args::client_options` and listing
//! its name here.

use napi::bindgen_prelude::*;

use super::args::ArgResult;
use crate::error::WxError;
use crate::suggest::closest;

/// Top-level options of `new WxClient(options)` / `init(options)`.
pub const CLIENT: &[&str] = &[
    "appid",
    "secret",
    "tokenMode",
    "accessToken",
    "cloudbaseAccessToken",
    "openApiService",
    "env",
    "baseUrl",
    "timeout",
    "retries",
    "maxConcurrency",
    "proxy",
    "caCert",
    "mediaSizeLimits",
    "maxDownloadBytes",
    "maxUploadBytes",
    "maxRedirects",
    "tokenStore",
    "mediaCache",
    // wx-server-sdk's, accepted for drop-in use (no effect here).
    "traceUser",
    "throwOnNotFound",
    // TCB gateway (wx-server-sdk's names)
    "secretId",
    "secretKey",
    "sessionToken",
    "serviceUrl",
];

/// `tokenStore: { … }` and `tokenStore: { redis: { … } }` (issue 10)
pub const TOKEN_STORE: &[&str] = &["redis", "get", "set"];
pub const TOKEN_STORE_REDIS: &[&str] = &["url", "prefix", "lockMs"];

/// `mediaCache: { … }` (issue 10)
pub const MEDIA_CACHE: &[&str] = &["redis", "prefix", "ttlMs", "lockMs", "maxEntries"];
pub const MEDIA_CACHE_REDIS: &[&str] = &["url", "prefix", "lockMs"];

/// `timeout: { … }`
pub const TIMEOUT: &[&str] = &["json", "transfer"];

/// `env: { … }` (wx-server-sdk's form)
pub const ENV: &[&str] = &["default", "storage", "database", "functions"];

/// `mediaSizeLimits: { … }`
pub const MEDIA_SIZE_LIMITS: &[&str] = &["image", "voice", "video", "thumb"];

/// Names other libraries use for the same thing, which no edit distance finds.
const SYNONYMS: &[(&str, &str)] = &[
    ("appSecret", "secret"),
    ("app_secret", "secret"),
    ("AppSecret", "secret"),
    ("appsecret", "secret"),
    ("baseURL", "baseUrl"),
];

/// Refuses any key of `obj` not in `known`; `prefix` names the object
/// (`""` for the top level, `"timeout."` for a nested one).
pub fn check(obj: &Object, known: &[&str], prefix: &str) -> ArgResult<()> {
    let keys = Object::keys(obj).map_err(|e| {
        WxError::invalid_param(format!("cannot read the option names: {}", e.reason))
    })?;
    match keys.iter().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(key) => Err(WxError::invalid_param(unknown_message(key, known, prefix))),
    }
}

fn unknown_message(key: &str, known: &[&str], prefix: &str) -> String {
    let synonym = SYNONYMS
        .iter()
        .find(|(wrong, right)| *wrong == key && known.contains(right))
        .map(|(_, right)| *right);
    match synonym.or_else(|| closest(key, known)) {
        Some(right) => format!("unknown option '{prefix}{key}': did you mean '{prefix}{right}'?"),
        None => format!(
            "unknown option '{prefix}{key}'; the options are {}",
            known
                .iter()
                .map(|k| format!("{prefix}{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_suggest_the_known_name() {
        assert_eq!(
            unknown_message("timout", CLIENT, ""),
            "unknown option 'timout': did you mean 'timeout'?"
        );
        assert_eq!(
            unknown_message("appSecret", CLIENT, ""),
            "unknown option 'appSecret': did you mean 'secret'?"
        );
        assert_eq!(
            unknown_message("jsno", TIMEOUT, "timeout."),
            "unknown option 'timeout.jsno': did you mean 'timeout.json'?"
        );
        assert_eq!(
            unknown_message("zzz", TIMEOUT, "timeout."),
            "unknown option 'timeout.zzz'; the options are timeout.json, timeout.transfer"
        );
    }

    #[test]
    fn synonyms_point_at_known_names() {
        for (_, right) in SYNONYMS {
            assert!(CLIENT.contains(right), "{right} is not a client option");
        }
    }
}
