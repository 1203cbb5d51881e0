//! Reading `POST /__emulator/faults` bodies with messages a person can act
//! on: which fault, which field, what was expected, and a "did you mean" for
//! a misspelt field name, instead of serde's wording.

use serde_json::{Map, Value};

use super::faults::Fault;
use crate::suggest::closest;

/// Field names a fault takes, camelCase first (as the JS API spells them).
const FIELDS: &[&str] = &[
    "path",
    "delayMs",
    "delay_ms",
    "status",
    "errcode",
    "errCode",
    "errmsg",
    "errMsg",
    "reset",
    "body",
    "contentType",
    "content_type",
    "times",
];

const EXAMPLE: &str = r#"{"path": "/cgi-bin/media/upload", "errcode": 45009, "times": 1}"#;

/// One fault object, or an array of them.
pub(crate) fn parse(body: &[u8]) -> Result<Vec<Fault>, String> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| format!("the body is not JSON: send a fault such as {EXAMPLE}"))?;
    match value {
        Value::Array(items) if items.is_empty() => Err(format!(
            "the array holds no fault: send one such as {EXAMPLE}"
        )),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| fault(item, &format!("fault[{i}]")))
            .collect(),
        item @ Value::Object(_) => Ok(vec![fault(item, "fault")?]),
        _ => Err(format!(
            "expected a fault object or an array of them, such as {EXAMPLE}"
        )),
    }
}

fn fault(item: Value, what: &str) -> Result<Fault, String> {
    let Value::Object(map) = &item else {
        return Err(format!("{what} must be an object such as {EXAMPLE}"));
    };
    if let Some(key) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(match closest(key, FIELDS) {
            Some(right) => format!("{what} has an unknown field '{key}': did you mean '{right}'?"),
            None => format!(
                "{what} has an unknown field '{key}'; the fields are path, delayMs, status, errcode, errmsg, reset, body, contentType, times"
            ),
        });
    }
    match map.get("path") {
        Some(Value::String(_)) => {}
        Some(_) => {
            return Err(format!(
                "{what}.path must be a string such as \"/cgi-bin/\""
            ))
        }
        None => {
            return Err(format!(
                "{what}.path is missing: the fault applies to requests whose path starts with it"
            ))
        }
    }
    check_whole(
        map,
        what,
        &["delayMs", "delay_ms"],
        "milliseconds",
        u64::MAX,
    )?;
    check_whole(map, what, &["status"], "an HTTP status", 999)?;
    check_whole(
        map,
        what,
        &["times"],
        "a count (0 = forever)",
        u64::from(u32::MAX),
    )?;
    for key in ["errcode", "errCode"] {
        if map.get(key).is_some_and(|v| v.as_i64().is_none()) {
            return Err(format!("{what}.{key} must be a whole number such as 45009"));
        }
    }
    for key in ["errmsg", "errMsg", "contentType", "content_type"] {
        if map.get(key).is_some_and(|v| !v.is_string()) {
            return Err(format!("{what}.{key} must be a string"));
        }
    }
    if map.get("reset").is_some_and(|v| !v.is_boolean()) {
        return Err(format!("{what}.reset must be true or false"));
    }
    // Every field is known and of the right type, so serde cannot object.
    let fault: Fault = serde_json::from_value(item.clone())
        .map_err(|_| format!("{what} is not a valid fault: send one such as {EXAMPLE}"))?;
    fault.validate().map_err(|e| format!("{what}: {e}"))?;
    Ok(fault)
}

fn check_whole(
    map: &Map<String, Value>,
    what: &str,
    keys: &[&str],
    meaning: &str,
    max: u64,
) -> Result<(), String> {
    for key in keys {
        if let Some(v) = map.get(*key) {
            if v.as_u64().is_none_or(|n| n > max) {
                return Err(format!(
                    "{what}.{key} must be a whole number ≥ 0 ({meaning}), got {v}"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> String {
        parse(body.as_bytes()).expect_err(body)
    }

    #[test]
    fn good_bodies_parse() {
        let one =
            parse(br#"{"path": "/x", "delayMs": 5, "errCode": -1, "times": 0}"#).expect("valid");
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].delay_ms, Some(5));
        let many = parse(br#"[{"path": "/a", "status": 503}, {"path": "/b", "reset": true}]"#)
            .expect("valid");
        assert_eq!(many.len(), 2);
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        assert!(err("{nope").starts_with("the body is not JSON"));
        assert!(err("42").starts_with("expected a fault object"));
        assert!(err("[]").contains("holds no fault"));
        assert_eq!(
            err(r#"{"path": "/x", "delayMS": 5}"#),
            "fault has an unknown field 'delayMS': did you mean 'delayMs'?"
        );
        assert!(err(r#"{"delayMs": 5}"#).contains("fault.path is missing"));
        assert!(err(r#"{"path": 1}"#).contains("fault.path must be a string"));
        assert_eq!(
            err(r#"[{"path": "/"}, {"path": "/", "delayMs": "abc"}]"#),
            "fault[1].delayMs must be a whole number ≥ 0 (milliseconds), got \"abc\""
        );
        assert!(err(r#"{"path": "/", "status": 42}"#).contains("42 is not an HTTP status"));
        assert!(err(r#"{"path": "/", "status": 5000}"#).contains("fault.status must be"));
        assert!(err(r#"{"path": "/", "errcode": "x"}"#).contains("fault.errcode must be"));
        assert!(err(r#"{"path": "/", "reset": 1}"#).contains("fault.reset must be true or false"));
        for message in [err(r#"{"path": "/", "times": -1}"#), err("{nope")] {
            assert!(
                !message.contains("serde") && !message.contains("line 1"),
                "{message}"
            );
        }
    }
}
