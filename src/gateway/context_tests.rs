use std::collections::HashMap;

use super::*;

struct FakeEnv(HashMap<&'static str, &'static str>);

impl Environment for FakeEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|v| v.to_string())
    }
    fn file_exists(&self, _path: &str) -> bool {
        false
    }
}

fn env(vars: &[(&'static str, &'static str)]) -> FakeEnv {
    FakeEnv(vars.iter().cloned().collect())
}

const SCF: [(&str, &str); 9] = [
    ("TENCENTCLOUD_RUNENV", "SCF"),
    ("SCF_NAMESPACE", "ns-env"),
    ("TENCENTCLOUD_REGION", "ap-shanghai"),
    ("TENCENTCLOUD_SECRETID", "AKIDtest"),
    ("TENCENTCLOUD_SECRETKEY", "testkey"),
    ("TENCENTCLOUD_SESSIONTOKEN", "tok"),
    ("TCB_CONTEXT_KEYS", "TCB_ENV,TCB_SEQID"),
    ("TCB_ENV", "test-env"),
    ("WX_API_TOKEN", "unlisted-token"),
];

#[test]
fn chosen_in_scf_unless_a_wechat_credential_is_given() {
    let scf = env(&SCF);
    assert!(choose(&ClientOptions::default(), &scf)
        .expect("ok")
        .is_some());
    let with_appid = ClientOptions {
        appid: Some("a".into()),
        secret: Some("s".into()),
        ..Default::default()
    };
    assert!(choose(&with_appid, &scf).expect("ok").is_none());
    assert!(choose(&ClientOptions::default(), &env(&[]))
        .expect("ok")
        .is_none());
    let explicit = ClientOptions {
        service_url: Some("http://127.0.0.1:1/admin".into()),
        ..Default::default()
    };
    assert!(choose(&explicit, &env(&[])).expect("ok").is_some());
    let half = ClientOptions {
        secret_key: Some("k".into()),
        ..Default::default()
    };
    assert!(choose(&half, &env(&[])).is_err());
}

#[test]
fn only_listed_variables_are_visible() {
    let snap = Snapshot::capture(&env(&SCF));
    assert_eq!(snap.get("TCB_ENV"), Some("test-env"));
    // Set but not listed in WX_CONTEXT_KEYS: invisible, as in node-sdk.
    assert_eq!(snap.get("WX_API_TOKEN"), None);
    let inv = Invocation::resolve(&GatewayConfig::default(), &snap, None).expect("ok");
    assert_eq!(inv.env, "test-env");
    assert_eq!(inv.wx_cloud_api_token, "");
    assert_eq!(inv.wx_cloudbase_access_token.as_deref(), Some(""));
    assert_eq!(inv.source, ",scf");
    assert!(inv
        .url
        .starts_with("http://test-env.internal.ap-shanghai.tcb-api.tencentcloudapi.com/admin?env=test-env&seqId="));
    assert_eq!(inv.credentials.session_token.as_deref(), Some("tok"));
}

#[test]
fn endpoint_override_and_call_env() {
    let mut vars: Vec<(&str, &str)> = SCF.to_vec();
    vars.push(("TCB_CONTEXT_CNFG", r#"{"URL":"http://127.0.0.1:9/admin"}"#));
    vars.push(("TCB_SEQID", "seq"));
    let snap = Snapshot::capture(&env(&vars));
    let inv = Invocation::resolve(&GatewayConfig::default(), &snap, Some("call-env")).expect("ok");
    assert!(inv
        .url
        .starts_with("http://127.0.0.1:9/admin?env=call-env&seqId=seq-"));
    let cfg = GatewayConfig {
        service_url: Some("http://127.0.0.1:8/admin".into()),
        secret_id: Some("id".into()),
        secret_key: Some("key".into()),
        session_token: None,
    };
    let inv = Invocation::resolve(&cfg, &snap, None).expect("ok");
    assert!(inv.url.starts_with("http://127.0.0.1:8/admin?"));
    assert_eq!(inv.credentials.secret_id, "id");
    assert_eq!(inv.credentials.session_token, None);
}

#[test]
fn missing_credentials_are_a_clear_error() {
    let snap = Snapshot::capture(&env(&[("TENCENTCLOUD_RUNENV", "SCF")]));
    let err = Invocation::resolve(&GatewayConfig::default(), &snap, None).expect_err("no creds");
    assert!(
        err.detail.contains("TENCENTCLOUD_SECRETID"),
        "{}",
        err.detail
    );
}

#[test]
fn public_host_outside_internal_platforms() {
    let cfg = GatewayConfig {
        secret_id: Some("id".into()),
        secret_key: Some("key".into()),
        ..Default::default()
    };
    let snap = Snapshot::capture(&env(&[]));
    let inv = Invocation::resolve(&cfg, &snap, Some("Bad Env")).expect("ok");
    assert!(inv
        .url
        .starts_with("https://tcb-api.tencentcloudapi.com/admin?env=Bad+Env"));
}
