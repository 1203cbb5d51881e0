//! The protobuf messages of `wx.openApi` (research §4.5), derived by hand
//! with prost's attributes (no protoc), plus a strict wire check the
//! emulator applies before decoding (prost itself skips unknown fields).

use prost::Message;

#[derive(Clone, PartialEq, Message)]
pub struct KeyValuePair {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(bytes = "bytes", tag = "2")]
    pub value: bytes::Bytes,
    /// Never sent by wx-server-sdk (a field-name bug); kept for decoding.
    #[prost(string, optional, tag = "3")]
    pub contenttype: Option<String>,
    #[prost(string, optional, tag = "4")]
    pub filename: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct OpenApiData {
    #[prost(message, repeated, tag = "1")]
    pub pairs: Vec<KeyValuePair>,
}

#[derive(Clone, PartialEq, Message)]
pub struct CommApiData {
    /// `OPEN_API = 0`; protobufjs writes it even at its default (`08 00`).
    #[prost(int32, optional, tag = "1")]
    pub api_type: Option<i32>,
    #[prost(message, optional, tag = "2")]
    pub openapi_data: Option<OpenApiData>,
    #[prost(string, optional, tag = "6")]
    pub appid: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct HttpHeader {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct CommOpenApiResp {
    #[prost(bytes = "bytes", tag = "1")]
    pub resp_data: bytes::Bytes,
    #[prost(string, tag = "2")]
    pub content_type: String,
    #[prost(int32, tag = "3")]
    pub error_code: i32,
    #[prost(uint32, tag = "4")]
    pub http_code: u32,
    #[prost(message, repeated, tag = "5")]
    pub headers: Vec<HttpHeader>,
    #[prost(int32, tag = "6")]
    pub svrkit_error_code: i32,
}

/// `CommApiData{apiType: 0, openapiData: {pairs}}` as bytes.
pub fn encode_request(pairs: Vec<KeyValuePair>) -> Vec<u8> {
    CommApiData {
        api_type: Some(0),
        openapi_data: Some(OpenApiData { pairs }),
        appid: None,
    }
    .encode_to_vec()
}

/// A field's wire type and, for messages, the schema of its content.
#[derive(Clone, Copy)]
enum Kind {
    Varint,
    Bytes,
    Utf8,
    Message(&'static [Field]),
}

/// (tag, kind, repeated)
type Field = (u32, Kind, bool);

const PAIR: &[Field] = &[
    (1, Kind::Utf8, false),
    (2, Kind::Bytes, false),
    (3, Kind::Utf8, false),
    (4, Kind::Utf8, false),
];
const OPENAPI: &[Field] = &[(1, Kind::Message(PAIR), true)];
const COMM_API_DATA: &[Field] = &[
    (1, Kind::Varint, false),
    (2, Kind::Message(OPENAPI), false),
    (6, Kind::Utf8, false),
];

/// Checks `buf` is a well-formed `CommApiData` with no unknown field, no
/// repeated singular field, varints of at most 10 bytes and valid UTF-8.
pub fn check_comm_api_data(buf: &[u8]) -> Result<(), String> {
    check(buf, COMM_API_DATA)
}

fn check(mut buf: &[u8], schema: &[Field]) -> Result<(), String> {
    let mut seen: Vec<u32> = Vec::new();
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let (tag, wire) = ((key >> 3) as u32, key & 7);
        let (kind, repeated) = schema
            .iter()
            .find(|(t, _, _)| *t == tag)
            .map(|(_, k, r)| (*k, *r))
            .ok_or_else(|| format!("unknown field {tag}"))?;
        if !repeated && seen.contains(&tag) {
            return Err(format!("field {tag} appears twice"));
        }
        seen.push(tag);
        match (kind, wire) {
            (Kind::Varint, 0) => {
                varint(&mut buf)?;
            }
            (Kind::Bytes | Kind::Utf8 | Kind::Message(_), 2) => {
                let len = varint(&mut buf)? as usize;
                if len > buf.len() {
                    return Err("length out of bounds".to_string());
                }
                let (field, rest) = buf.split_at(len);
                buf = rest;
                match kind {
                    Kind::Utf8 => {
                        std::str::from_utf8(field)
                            .map_err(|_| format!("field {tag} is not UTF-8"))?;
                    }
                    Kind::Message(inner) => check(field, inner)?,
                    _ => {}
                }
            }
            _ => return Err(format!("field {tag} has wire type {wire}")),
        }
    }
    Ok(())
}

fn varint(buf: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for i in 0..10 {
        let (&b, rest) = buf.split_first().ok_or("truncated varint")?;
        *buf = rest;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint longer than 10 bytes".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes_match_wx_server_sdk() {
        // research §4.5, run "base" #8: getTempMedia({mediaId:'FAKE_MEDIA_ID'})
        let bytes = encode_request(vec![KeyValuePair {
            key: "media_id".into(),
            value: bytes::Bytes::from_static(b"\"FAKE_MEDIA_ID\""),
            contenttype: None,
            filename: None,
        }]);
        assert_eq!(
            hex::encode(&bytes),
            "0800121d0a1b0a086d656469615f6964120f2246414b455f4d454449415f494422"
        );
        assert!(check_comm_api_data(&bytes).is_ok());
        assert!(check_comm_api_data(&bytes[..bytes.len() - 1]).is_err());
        let mut unknown = bytes.clone();
        unknown.extend_from_slice(&[0x1a, 0x00]); // field 3 (innerData): not emulated
        assert!(check_comm_api_data(&unknown).is_err());
    }

    #[test]
    fn replies_decode_with_both_varint_forms() {
        let five = hex::decode("0a00120018bb90dbff0f20c801").expect("hex");
        assert_eq!(
            CommOpenApiResp::decode(&five[..]).expect("ok").error_code,
            -604101
        );
        let ten = hex::decode("0a00120018bc90dbffffffffffff0120c801").expect("hex");
        assert_eq!(
            CommOpenApiResp::decode(&ten[..]).expect("ok").error_code,
            -604100
        );
        let media = hex::decode(
            "0a16c289504e472066616b6520696d616765206279746573120a696d6167652f706e672020c801",
        )
        .expect("hex");
        let r = CommOpenApiResp::decode(&media[..]).expect("ok");
        assert_eq!(r.content_type, "image/png ");
        assert_eq!(r.http_code, 200);
        assert_eq!(r.resp_data.len(), 22);
    }
}
