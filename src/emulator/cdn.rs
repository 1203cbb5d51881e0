//! A "CDN" for upload-source tests (issue 9 item 5): `/__cdn/<name>` serves a
//! body with a Content-Length, chunked, lying about its length, slowly, or
//! failing, so tests of `{ url }` sources need no other server.
//!
//! - `PUT /__cdn/<name>` stores the request body under `<name>`; it answers
//!   `{ size, sha256 }`.
//! - `GET /__cdn/<name>` serves the stored body, or when none is stored and
//!   `size=N` is given, `N` deterministic bytes (a function of `name`) that
//!   start with the signature of `kind=png|jpeg|bin` (default png).
//!
//! Query of a GET (all optional):
//! - `mode=length` (default): with its exact Content-Length;
//!   `mode=chunked`: no Content-Length (chunked encoding);
//!   `mode=short`: announces the full length, sends half, then drops the
//!   connection (a source that lies about its length).
//! - `chunk=N`: bytes per write (default 65536);
//! - `delayMs=N`: wait before the headers; `chunkDelayMs=N`: wait between
//!   writes (a slow source);
//! - `status=N`: answer that status with a short text body instead.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};
use serde_json::json;

use super::http::{sha256_hex, Incoming};
use super::router::{BoxedBody, DropConnection};
use super::state::{lock, Shared};

pub(crate) const CDN_PREFIX: &str = "/__cdn/";

/// Bodies stored with PUT, by name.
#[derive(Default)]
pub(crate) struct CdnStore {
    bodies: HashMap<String, Bytes>,
}

pub(crate) fn is_cdn_path(path: &str) -> bool {
    path.starts_with(CDN_PREFIX)
}

fn number(req: &Incoming, name: &str) -> Option<u64> {
    req.query_param(name).and_then(|v| v.parse().ok())
}

fn text(status: StatusCode, body: String) -> Response<BoxedBody> {
    let mut response = Response::new(full(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    response
}

fn full(data: Bytes) -> BoxedBody {
    http_body_util::Full::new(data)
        .map_err(|never: Infallible| match never {})
        .boxed()
}

pub(crate) async fn handle(shared: &Shared, req: &Incoming) -> Response<BoxedBody> {
    let name = req.path[CDN_PREFIX.len()..].to_string();
    if req.method == Method::PUT {
        let size = req.body.len();
        let sha256 = sha256_hex(&req.body);
        lock(&shared.cdn).bodies.insert(name, req.body.clone());
        let body = json!({ "size": size, "sha256": sha256 }).to_string();
        return text(StatusCode::CREATED, body);
    }
    if let Some(ms) = number(req, "delayMs") {
        tokio::time::sleep(Duration::from_millis(ms.min(60_000))).await;
    }
    if let Some(status) = number(req, "status") {
        let status = u16::try_from(status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return text(status, format!("CDN answered {}", status.as_u16()));
    }
    let stored = lock(&shared.cdn).bodies.get(&name).cloned();
    let body = match (stored, number(req, "size")) {
        (Some(body), _) => body,
        (None, Some(size)) => generated(&name, size, req.query_param("kind").unwrap_or("png")),
        (None, None) => return text(StatusCode::NOT_FOUND, format!("no CDN body '{name}'")),
    };
    serve(req, body)
}

fn serve(req: &Incoming, body: Bytes) -> Response<BoxedBody> {
    let mode = req.query_param("mode").unwrap_or("length");
    let chunk = number(req, "chunk").unwrap_or(65536).clamp(1, 16 << 20) as usize;
    let pause = number(req, "chunkDelayMs").map(Duration::from_millis);
    let total = body.len();
    let sent = if mode == "short" { total / 2 } else { total };
    let pieces: Vec<Bytes> = (0..sent)
        .step_by(chunk)
        .map(|at| body.slice(at..(at + chunk).min(sent)))
        .collect();
    let short = mode == "short";
    let frames = futures_util::stream::iter(pieces)
        .then(move |piece| async move {
            if let Some(pause) = pause {
                tokio::time::sleep(pause).await;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Frame::data(piece))
        })
        .chain(
            futures_util::stream::iter(short.then_some(())).then(|()| async {
                // Let hyper flush what was sent before dropping the connection.
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err::<Frame<Bytes>, _>(
                    Box::new(DropConnection) as Box<dyn std::error::Error + Send + Sync>
                )
            }),
        );
    let mut response = Response::new(BodyExt::boxed(StreamBody::new(frames)));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/octet-stream"),
    );
    if mode != "chunked" {
        headers.insert(CONTENT_LENGTH, hyper::header::HeaderValue::from(total));
    }
    response
}

/// `size` bytes that depend only on `name` and `kind`, starting with the
/// kind's file signature.
fn generated(name: &str, size: u64, kind: &str) -> Bytes {
    let size = size.min(256 << 20) as usize;
    let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut data = vec![0u8; size];
    rng.fill(&mut data);
    let signature: &[u8] = match kind {
        "jpeg" => b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
        "bin" => b"",
        _ => b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    };
    let n = signature.len().min(size);
    data[..n].copy_from_slice(&signature[..n]);
    Bytes::from(data)
}

#[cfg(test)]
mod tests {
    use super::generated;

    #[test]
    fn generated_bodies_are_deterministic() {
        let a = generated("x.png", 100, "png");
        assert_eq!(a, generated("x.png", 100, "png"));
        assert_ne!(a, generated("y.png", 100, "png"));
        assert_eq!(&a[..4], b"\x89PNG");
        assert_eq!(generated("x", 3, "jpeg").len(), 3);
    }
}
