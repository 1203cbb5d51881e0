//! One request, end to end: read the body, apply faults, dispatch to the
//! endpoint, count and log it, and hand hyper the answer (or a reset).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::header::{CONNECTION, CONTENT_LENGTH};
use hyper::{Request, Response, StatusCode};
use serde_json::json;

use super::cdn;
use super::control;
use super::faults::Fault;
use super::generic::{self, ECHO_PATH, REDIRECT_PATH, UPLOAD_PREFIX};
use super::http::{parse_query, Incoming, Outcome, Reply};
use super::media::{self, VIDEO_PREFIX};
use super::messages;
use super::record;
use super::state::{lock, Shared};
use super::storage::{self, COS_PREFIX, DOWNLOAD_PREFIX};
use super::tokens;
use super::{gateway, gateway_storage};

/// Returned to hyper to make it drop the connection without answering.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for DropConnection {}

/// A response body: a whole buffer, or a stream (the CDN routes).
pub(crate) type BoxedBody = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<BoxedBody>, DropConnection> {
    let (parts, body) = request.into_parts();
    let mut incoming = Incoming {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parse_query(parts.uri.query()),
        raw_query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: Bytes::new(),
    };
    let body = read_body(body, incoming.content_length(), shared.opts.max_body_bytes).await;
    let outcome = match body {
        Ok(body) => {
            incoming.body = body;
            if control::is_control_path(&incoming.path) {
                return Ok(into_response(control::handle(&shared, &incoming)));
            }
            if cdn::is_cdn_path(&incoming.path) {
                lock(&shared.recorder).count("/__cdn");
                return Ok(cdn::handle(&shared, &incoming).await);
            }
            let fault = lock(&shared.faults).take(&incoming.path);
            respond(&shared, &incoming, fault).await
        }
        Err(BodyError::TooLarge) => Outcome::Reply(too_large()),
        // The client went away mid-body: nobody to answer.
        Err(BodyError::Broken) => return Err(DropConnection),
    };
    log_request(&shared, &incoming, &outcome).await;
    match outcome {
        Outcome::Reply(reply) => Ok(into_response(reply)),
        Outcome::Reset => Err(DropConnection),
    }
}

enum BodyError {
    TooLarge,
    Broken,
}

/// The whole body, unless it is (or says it will be) larger than `cap`.
async fn read_body(
    body: hyper::body::Incoming,
    declared_len: Option<u64>,
    cap: usize,
) -> Result<Bytes, BodyError> {
    if declared_len.is_some_and(|len| len > cap as u64) {
        return Err(BodyError::TooLarge);
    }
    match Limited::new(body, cap).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Broken),
    }
}

fn too_large() -> Reply {
    Reply::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "text/html",
        "<html><body><h1>413 Request Entity Too Large</h1></body></html>",
    )
    // The rest of the body was not read, so the connection cannot be reused.
    .with_header(CONNECTION, "close")
}

async fn respond(shared: &Shared, req: &Incoming, fault: Option<Fault>) -> Outcome {
    if let Some(fault) = fault {
        if let Some(delay) = fault.delay() {
            tokio::time::sleep(delay).await;
        }
        if let Some(outcome) = fault.outcome() {
            return outcome;
        }
    }
    Outcome::Reply(dispatch(shared, req).await)
}

async fn dispatch(shared: &Shared, req: &Incoming) -> Reply {
    match req.path.as_str() {
        "/cgi-bin/token" => tokens::handle_legacy(shared, req),
        "/cgi-bin/stable_token" => tokens::handle_stable(shared, req),
        "/cgi-bin/media/upload" => media::handle_upload(shared, req).await,
        "/cgi-bin/media/get" => media::handle_get(shared, req),
        "/cgi-bin/message/custom/send" => messages::handle_send(shared, req),
        "/wxa/img_sec_check" => messages::handle_img_sec_check(shared, req).await,
        "/tcb/uploadfile" => storage::handle_uploadfile(shared, req),
        "/tcb/batchdownloadfile" => storage::handle_batch_download(shared, req),
        "/tcb/batchdeletefile" => storage::handle_batch_delete(shared, req),
        gateway::ADMIN_PATH => gateway::handle_admin(shared, req).await,
        path if path.starts_with(COS_PREFIX) && req.method == hyper::Method::PUT => {
            gateway_storage::handle_cos_put(shared, req)
        }
        path if path.starts_with(COS_PREFIX) => storage::handle_cos_post(shared, req).await,
        path if path.starts_with(DOWNLOAD_PREFIX) => storage::handle_download(shared, req),
        path if path.starts_with(VIDEO_PREFIX) => media::handle_video(shared, req),
        path if path.starts_with(UPLOAD_PREFIX) => generic::handle_upload(req).await,
        REDIRECT_PATH => generic::handle_redirect(req),
        ECHO_PATH => generic::handle_echo(req),
        _ => Reply::json_with_status(
            StatusCode::NOT_FOUND,
            &json!({ "errcode": -1, "errmsg": "unknown path" }),
        ),
    }
}

/// The counter a path is tallied under: object paths collapse to their route.
pub(crate) fn route_key(path: &str) -> &str {
    [COS_PREFIX, DOWNLOAD_PREFIX, VIDEO_PREFIX, UPLOAD_PREFIX]
        .into_iter()
        .find(|prefix| path.starts_with(prefix))
        .map_or(path, |prefix| prefix.trim_end_matches('/'))
}

async fn log_request(shared: &Shared, req: &Incoming, outcome: &Outcome) {
    lock(&shared.recorder).count(route_key(&req.path));
    // Lean mode (benchmarks) skips the hashing and multipart re-parse.
    if shared.opts.lean {
        return;
    }
    let entry = record::describe(req, outcome).await;
    lock(&shared.recorder).push(entry);
}

fn into_response(reply: Reply) -> Response<BoxedBody> {
    let body = Full::new(reply.body)
        .map_err(|never: std::convert::Infallible| match never {})
        .boxed();
    let mut response = Response::new(body);
    *response.status_mut() = reply.status;
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        headers.insert(name, value);
    }
    // hyper derives Content-Length from the body, except for HEAD/204.
    if reply.status == StatusCode::NO_CONTENT {
        headers.remove(CONTENT_LENGTH);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::route_key;

    #[test]
    fn route_keys() {
        assert_eq!(route_key("/cos/7465-e-1/a/b.png"), "/cos");
        assert_eq!(route_key("/tcb-dl/7465-e-1/a.png"), "/tcb-dl");
        assert_eq!(route_key("/__emulator/video/abc"), "/__emulator/video");
        assert_eq!(route_key("/cgi-bin/media/upload"), "/cgi-bin/media/upload");
    }
}
