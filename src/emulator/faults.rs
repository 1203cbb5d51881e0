//! Fault injection: latency, HTTP errors, WeChat errcodes, connection resets
//! and hand-crafted bodies, for requests whose path starts with a prefix.

use std::time::Duration;

use hyper::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::http::{rid, Outcome, Reply, WX_JSON};

/// One injected fault. Field names are accepted in snake_case and camelCase.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Applies to requests whose path starts with this.
    pub path: String,
    /// Sleep this long before answering (or before handling normally).
    #[serde(default, alias = "delayMs")]
    pub delay_ms: Option<u64>,
    /// Answer with this HTTP status.
    #[serde(default)]
    pub status: Option<u16>,
    /// Answer HTTP 200 `{errcode, errmsg}`.
    #[serde(default, alias = "errCode")]
    pub errcode: Option<i64>,
    #[serde(default, alias = "errMsg")]
    pub errmsg: Option<String>,
    /// Drop the connection without answering.
    #[serde(default)]
    pub reset: bool,
    /// Answer with exactly this body: a JSON string is sent as raw text,
    /// anything else as serialized JSON.
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default, alias = "contentType")]
    pub content_type: Option<String>,
    /// How many matching requests this fault hits: default 1, 0 = forever.
    #[serde(default)]
    pub times: Option<u32>,
}

impl Fault {
    /// Refuses what cannot be answered as asked, e.g. `status: 42`.
    pub fn validate(&self) -> Result<(), String> {
        match self.status {
            Some(status) if StatusCode::from_u16(status).is_err() => {
                Err(format!("fault status {status} is not an HTTP status"))
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn delay(&self) -> Option<Duration> {
        self.delay_ms
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis)
    }

    /// What the fault answers instead of the normal handler; `None` for a
    /// pure delay, after which the request is handled normally.
    pub(crate) fn outcome(&self) -> Option<Outcome> {
        if self.reset {
            return Some(Outcome::Reset);
        }
        let status = self.status.and_then(|s| StatusCode::from_u16(s).ok());
        let body = self.body.as_ref().map(|b| self.crafted_body(b));
        let errcode = self.errcode.map(|code| self.errcode_body(code));
        let reply = match (status, body, errcode) {
            (Some(status), Some(mut reply), _) | (Some(status), None, Some(mut reply)) => {
                reply.status = status;
                reply
            }
            (Some(status), None, None) => Reply::empty(status),
            (None, Some(reply), _) | (None, None, Some(reply)) => reply,
            (None, None, None) => return None,
        };
        Some(Outcome::Reply(reply))
    }

    fn crafted_body(&self, body: &Value) -> Reply {
        let (default_type, text) = match body {
            Value::String(text) => ("text/plain", text.clone()),
            other => (WX_JSON, other.to_string()),
        };
        let content_type = self.content_type.as_deref().unwrap_or(default_type);
        let mut reply = Reply::new(StatusCode::OK, content_type, text);
        reply.errcode = body.get("errcode").and_then(Value::as_i64);
        reply
    }

    fn errcode_body(&self, code: i64) -> Reply {
        let errmsg = match &self.errmsg {
            Some(msg) => msg.clone(),
            None => format!("{} rid: {}", default_errmsg(code), rid()),
        };
        Reply::json(&json!({ "errcode": code, "errmsg": errmsg }))
    }
}

/// The errmsg WeChat sends with the codes tests usually inject.
pub(crate) fn default_errmsg(code: i64) -> &'static str {
    match code {
        -1 => "system error",
        0 => "ok",
        40001 => "invalid credential, access_token is invalid or not latest",
        40014 => "invalid access_token",
        41001 => "access_token missing",
        42001 => "access_token expired",
        45009 => "reach max api daily quota limit",
        45011 => "api minute-quota reach limit  mustslower  retry next minute",
        -501001 => "system error",
        -501002 => "server timeout",
        _ => "emulated fault",
    }
}

/// Injected faults, matched in injection order.
#[derive(Default)]
pub(crate) struct FaultList {
    faults: Vec<(Fault, Remaining)>,
}

#[derive(Clone, Copy)]
enum Remaining {
    Forever,
    Times(u32),
}

impl FaultList {
    pub(crate) fn push(&mut self, fault: Fault) {
        let remaining = match fault.times.unwrap_or(1) {
            0 => Remaining::Forever,
            n => Remaining::Times(n),
        };
        self.faults.push((fault, remaining));
    }

    pub(crate) fn clear(&mut self) {
        self.faults.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.faults.len()
    }

    /// Each fault as its JS shape (camelCase, unset fields left out) plus
    /// `remaining`: hits left, `null` for a fault that stays.
    pub(crate) fn list(&self) -> Value {
        let items = self.faults.iter().map(|(f, remaining)| {
            let mut item = json!({ "path": f.path, "reset": f.reset });
            let fields = [
                ("delayMs", f.delay_ms.map(Value::from)),
                ("status", f.status.map(Value::from)),
                ("errcode", f.errcode.map(Value::from)),
                ("errmsg", f.errmsg.clone().map(Value::from)),
                ("body", f.body.clone()),
                ("contentType", f.content_type.clone().map(Value::from)),
                ("times", f.times.map(Value::from)),
            ];
            for (key, value) in fields {
                if let Some(value) = value {
                    item[key] = value;
                }
            }
            item["remaining"] = match remaining {
                Remaining::Forever => Value::Null,
                Remaining::Times(n) => Value::from(*n),
            };
            item
        });
        Value::Array(items.collect())
    }

    /// The first fault matching `path`, using up one of its hits.
    pub(crate) fn take(&mut self, path: &str) -> Option<Fault> {
        let index = self
            .faults
            .iter()
            .position(|(f, _)| path.starts_with(&f.path))?;
        let (fault, remaining) = &mut self.faults[index];
        let fault = fault.clone();
        match remaining {
            Remaining::Forever => {}
            Remaining::Times(1) => {
                self.faults.remove(index);
            }
            Remaining::Times(n) => *n -= 1,
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(json: Value) -> Fault {
        serde_json::from_value(json).expect("valid fault JSON")
    }

    #[test]
    fn accepts_camel_and_snake_case() {
        let a = fault(json!({"path": "/x", "delayMs": 5, "errCode": -1, "contentType": "t"}));
        let b = fault(json!({"path": "/x", "delay_ms": 5, "errcode": -1, "content_type": "t"}));
        assert_eq!(a, b);
        assert!(serde_json::from_value::<Fault>(json!({"path": "/x", "bogus": 1})).is_err());
    }

    #[test]
    fn validate_refuses_impossible_statuses() {
        assert!(fault(json!({"path": "/", "status": 503}))
            .validate()
            .is_ok());
        assert!(fault(json!({"path": "/", "status": 42}))
            .validate()
            .is_err());
    }

    #[test]
    fn fires_times_then_disappears() {
        let mut list = FaultList::default();
        list.push(fault(
            json!({"path": "/cgi-bin/", "status": 500, "times": 2}),
        ));
        assert!(list.take("/tcb/uploadfile").is_none());
        assert!(list.take("/cgi-bin/token").is_some());
        assert!(list.take("/cgi-bin/media/upload").is_some());
        assert!(list.take("/cgi-bin/token").is_none());
    }

    #[test]
    fn times_zero_is_forever() {
        let mut list = FaultList::default();
        list.push(fault(json!({"path": "/", "errcode": 45009, "times": 0})));
        for _ in 0..10 {
            assert!(list.take("/anything").is_some());
        }
    }

    #[test]
    fn outcome_precedence() {
        let only_delay = fault(json!({"path": "/", "delay_ms": 10}));
        assert!(only_delay.outcome().is_none());
        assert!(matches!(
            fault(json!({"path": "/", "reset": true, "status": 500})).outcome(),
            Some(Outcome::Reset)
        ));
        let Some(Outcome::Reply(errcode)) = fault(json!({"path": "/", "errcode": -1})).outcome()
        else {
            panic!("errcode fault must reply");
        };
        assert_eq!(errcode.status, StatusCode::OK);
        assert_eq!(errcode.errcode, Some(-1));
        let Some(Outcome::Reply(status)) = fault(json!({"path": "/", "status": 503})).outcome()
        else {
            panic!("status fault must reply");
        };
        assert_eq!(status.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(status.body.is_empty());
        let Some(Outcome::Reply(body)) =
            fault(json!({"path": "/", "body": {"created_at": "123"}})).outcome()
        else {
            panic!("body fault must reply");
        };
        assert_eq!(&body.body[..], br#"{"created_at":"123"}"#);
    }
}
