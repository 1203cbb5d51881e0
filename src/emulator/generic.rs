//! Routes for testing generic HTTP transfers (`http.uploadFile` /
//! `http.downloadFile`) against the emulator, as a developer's own server:
//! - `POST /__upload/<anything>`: any multipart/form-data upload with an exact
//!   Content-Length; its parts are recorded in the request log (name,
//!   filename, type, size, sha256, text values) and echoed as JSON;
//! - `GET|POST /__redirect?to=<url>&status=302`: a redirect (to another
//!   emulator instance, say);
//! - `/__echo`: the method, path and every request header, as JSON.

use hyper::header::LOCATION;
use hyper::StatusCode;
use serde_json::{json, Map, Value};

use super::http::{sha256_hex, Incoming, Reply};

pub(crate) const UPLOAD_PREFIX: &str = "/__upload/";
pub(crate) const REDIRECT_PATH: &str = "/__redirect";
pub(crate) const ECHO_PATH: &str = "/__echo";

fn bad_request(msg: &str) -> Reply {
    Reply::json_with_status(
        StatusCode::BAD_REQUEST,
        &json!({ "ok": false, "error": msg }),
    )
}

pub(crate) async fn handle_upload(req: &Incoming) -> Reply {
    if req.method != hyper::Method::POST {
        return bad_request("use POST");
    }
    if req.is_length_unknown() {
        return Reply::json_with_status(
            StatusCode::LENGTH_REQUIRED,
            &json!({ "ok": false, "error": "Content-Length required" }),
        );
    }
    let Some(boundary) = req
        .content_type()
        .and_then(|ct| multer::parse_boundary(ct).ok())
    else {
        return bad_request("not multipart/form-data");
    };
    let mut multipart =
        multer::Multipart::new(super::media::once_stream(req.body.clone()), boundary);
    let mut parts = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let filename = field.file_name().map(str::to_owned);
                let content_type = super::media::part_content_type(&field);
                let Ok(data) = field.bytes().await else {
                    return bad_request("malformed multipart body");
                };
                let value = match filename {
                    None => String::from_utf8(data.to_vec()).ok(),
                    Some(_) => None,
                };
                parts.push(json!({
                    "name": name,
                    "filename": filename,
                    "contentType": content_type,
                    "size": data.len(),
                    "sha256": sha256_hex(&data),
                    "value": value,
                }));
            }
            Ok(None) => break,
            Err(_) => return bad_request("malformed multipart body"),
        }
    }
    Reply::json(&json!({ "ok": true, "path": req.path, "parts": parts }))
}

pub(crate) fn handle_redirect(req: &Incoming) -> Reply {
    let Some(to) = req.query_param("to") else {
        return bad_request("pass ?to=<url>");
    };
    let status = req
        .query_param("status")
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .filter(StatusCode::is_redirection)
        .unwrap_or(StatusCode::FOUND);
    Reply::new(status, "text/plain", "redirecting").with_header(LOCATION, to)
}

pub(crate) fn handle_echo(req: &Incoming) -> Reply {
    let mut headers = Map::new();
    for (name, value) in &req.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(name.as_str().to_owned(), Value::String(value));
    }
    Reply::json(&json!({
        "method": req.method.as_str(),
        "path": req.path,
        "headers": headers,
        "bodySize": req.body.len(),
    }))
}
