//! wx-server-sdk's `getWXContext()`: the caller's identity as the cloud
//! function runtime passes it in environment variables (research
//! cloud-function.md §1.6), read at call time.

/// A context value: wx-server-sdk turns all-digit values into numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    Text(String),
    Number(f64),
}

/// Names never exposed, with or without their `WX_` prefix.
const HIDDEN: [&str; 2] = ["API_TOKEN", "TRIGGER_API_TOKEN_V0"];

fn hidden(key: &str) -> bool {
    HIDDEN
        .iter()
        .any(|h| *h == key || key.strip_prefix("WX_") == Some(h))
}

/// `^-?\d+$`, as wx-server-sdk tests it before `parseInt`.
fn is_integer(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The context, in wx-server-sdk's key order. `var` reads one variable
/// (`None` when unset; an empty value counts as set). `ENV` is `None` when
/// neither `TCB_ENV` nor `SCF_NAMESPACE` has a value: wx-server-sdk then
/// sets it to `undefined`.
pub fn wx_context(var: impl Fn(&str) -> Option<String>) -> Vec<(String, Option<ContextValue>)> {
    let Some(keys) = var("WX_CONTEXT_KEYS").filter(|k| !k.is_empty()) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Option<ContextValue>)> = Vec::new();
    let mut put = |name: String, value: Option<ContextValue>| match out
        .iter_mut()
        .find(|(k, _)| *k == name)
    {
        Some(slot) => slot.1 = value,
        None => out.push((name, value)),
    };
    for key in keys.split(',') {
        if key.is_empty() || hidden(key) {
            continue;
        }
        let Some(value) = var(key) else { continue };
        let value = if is_integer(&value) {
            // parseInt of an all-digit string is that number (rounded like a double).
            ContextValue::Number(value.parse::<f64>().unwrap_or(f64::NAN))
        } else {
            ContextValue::Text(value)
        };
        let name = match key.strip_prefix("WX_") {
            Some(rest) if !rest.is_empty() => rest.to_string(),
            _ => key.to_string(),
        };
        put(name, Some(value));
    }
    let truthy = |name: &str| var(name).filter(|v| !v.is_empty());
    let env = truthy("TCB_ENV").or_else(|| truthy("SCF_NAMESPACE"));
    put("ENV".to_string(), env.map(ContextValue::Text));
    if let Some(source) = truthy("TCB_SOURCE") {
        put("SOURCE".to_string(), Some(ContextValue::Text(source)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ctx(vars: &[(&str, &str)]) -> Vec<(String, Option<ContextValue>)> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        wx_context(|k| map.get(k).cloned())
    }

    fn text(s: &str) -> Option<ContextValue> {
        Some(ContextValue::Text(s.to_string()))
    }

    #[test]
    fn empty_without_context_keys() {
        assert!(ctx(&[("WX_OPENID", "o"), ("TCB_ENV", "e")]).is_empty());
        assert!(ctx(&[("WX_CONTEXT_KEYS", "")]).is_empty());
    }

    #[test]
    fn research_example() {
        let got = ctx(&[
            (
                "WX_CONTEXT_KEYS",
                "WX_OPENID,WX_APPID,WX_UNIONID,WX_API_TOKEN,WX_CLIENTIP",
            ),
            ("WX_OPENID", "oFAKE"),
            ("WX_APPID", "wxapp"),
            ("WX_UNIONID", "uFAKE"),
            ("WX_API_TOKEN", "secret-token"),
            ("WX_CLIENTIP", "10.0.0.8"),
            ("TCB_ENV", "test-env"),
            ("SCF_NAMESPACE", "other"),
            ("TCB_SOURCE", "wx_client"),
        ]);
        assert_eq!(
            got,
            vec![
                ("OPENID".to_string(), text("oFAKE")),
                ("APPID".to_string(), text("wxapp")),
                ("UNIONID".to_string(), text("uFAKE")),
                ("CLIENTIP".to_string(), text("10.0.0.8")),
                ("ENV".to_string(), text("test-env")),
                ("SOURCE".to_string(), text("wx_client")),
            ]
        );
    }

    #[test]
    fn numbers_blacklist_and_fallbacks() {
        let got = ctx(&[
            (
                "WX_CONTEXT_KEYS",
                "WX_N,,API_TOKEN,WX_TRIGGER_API_TOKEN_V0,OTHER,WX_,MISSING",
            ),
            ("WX_N", "-42"),
            ("API_TOKEN", "x"),
            ("WX_TRIGGER_API_TOKEN_V0", "y"),
            ("OTHER", ""),
            ("WX_", "w"),
            ("SCF_NAMESPACE", "ns"),
        ]);
        assert_eq!(
            got,
            vec![
                ("N".to_string(), Some(ContextValue::Number(-42.0))),
                ("OTHER".to_string(), text("")),
                ("WX_".to_string(), text("w")),
                ("ENV".to_string(), text("ns")),
            ]
        );
        let got = ctx(&[("WX_CONTEXT_KEYS", "WX_OPENID")]);
        assert_eq!(got, vec![("ENV".to_string(), None)]);
        assert!(!is_integer("-") && !is_integer("1.5") && is_integer("007"));
    }
}
