//! `/admin` body params: built in wx-server-sdk's order (client), read back
//! in body order (emulator), and viewed as the signer sees them.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::sign::ParamValue;

/// One body param with its value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// A JSON value (strings are sent as strings, others as JSON).
    Json(Value),
    /// A binary multipart part (`requestData`).
    Bytes(bytes::Bytes),
}

/// The params of one call, in the order they are sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(pub Vec<(String, Param)>);

impl Params {
    pub fn push(&mut self, key: &str, value: Param) {
        self.0.push((key.to_string(), value));
    }

    pub fn text(&mut self, key: &str, value: &str) {
        self.push(key, Param::Json(Value::String(value.to_string())));
    }

    pub fn get(&self, key: &str) -> Option<&Param> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Param::Json(Value::String(s))) => Some(s),
            _ => None,
        }
    }

    /// The JSON text of each value, as `JSON.stringify` renders it.
    pub fn texts(&self) -> Vec<(&str, SignText<'_>)> {
        self.0
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Param::Json(Value::String(s)) => SignText::Str(s),
                    Param::Json(other) => SignText::Owned(other.to_string()),
                    Param::Bytes(b) => SignText::Bytes(b),
                };
                (k.as_str(), text)
            })
            .collect()
    }

    /// The JSON body `{k: v, …}` in param order (strings and nested values).
    pub fn to_json_body(&self) -> String {
        let mut out = String::from("{");
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&Value::String(key.clone()).to_string());
            out.push(':');
            match value {
                Param::Json(v) => out.push_str(&v.to_string()),
                // Never in a JSON body; rendered as JSON.stringify(Buffer) would be.
                Param::Bytes(b) => out.push_str(
                    &serde_json::json!({"type": "Buffer", "data": b.to_vec()}).to_string(),
                ),
            }
        }
        out.push('}');
        out
    }
}

/// A param's text for the signer, borrowed when it can be.
pub enum SignText<'a> {
    Str(&'a str),
    Owned(String),
    Bytes(&'a [u8]),
}

/// `(key, ParamValue)` pairs for [`super::sign::SignInput::params`].
pub fn sign_values<'a>(texts: &'a [(&'a str, SignText<'a>)]) -> Vec<(&'a str, ParamValue<'a>)> {
    texts
        .iter()
        .map(|(k, t)| {
            let v = match t {
                SignText::Str(s) => ParamValue::Text(s),
                SignText::Owned(s) => ParamValue::Text(s),
                SignText::Bytes(b) => ParamValue::Bytes(b),
            };
            (*k, v)
        })
        .collect()
}

/// A JSON object's top-level members in body order (serde_json's `Map`
/// would sort them, and the order matters to nobody but is kept anyway).
pub fn ordered_object(body: &[u8]) -> Result<Params, serde_json::Error> {
    struct Ordered;
    impl<'de> Visitor<'de> for Ordered {
        type Value = Params;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Params, A::Error> {
            let mut params = Params::default();
            while let Some((k, v)) = map.next_entry::<String, Value>()? {
                params.push(&k, Param::Json(v));
            }
            Ok(params)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let params = (&mut de).deserialize_map(Ordered)?;
    de.end()?;
    Ok(params)
}
