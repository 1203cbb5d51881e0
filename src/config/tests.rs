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
