//! One HTTP attempt: build the URL (token and query appended), send the
//! request with its body observed, and classify the outcome for the retry
//! loop in [`super::Client::send_until`].

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use tokio::time::Instant;

use super::{read_body, receive_to_file, transport_error};
use super::{Client, Reply, Request, RequestBody, Target};
use crate::error::{ErrorKind, WxError};
use crate::retry::{provably_unsent, Outcome, Tracked};
use crate::token::Token;

impl Client {
    pub(super) async fn exchange(
        &self,
        request: &Request,
        url: reqwest::Url,
        deadline: Instant,
        budget: Duration,
    ) -> (Result<Reply, WxError>, Outcome) {
        let path = request.path();
        let timed_out = |what: &str| {
            (
                Err(WxError::timeout(format!(
                    "request to {path} timed out after {} ms{what}",
                    budget.as_millis()
                ))),
                Outcome::TimedOut,
            )
        };
        // Waiting for a slot counts toward the timeout.
        let permit = match tokio::time::timeout_at(deadline, self.limiter.acquire()).await {
            Err(_) => return timed_out(" (waiting in the maxConcurrency queue)"),
            Ok(Err(_)) => {
                let closed = WxError::client_closed();
                return (Err(closed), Outcome::TimedOut);
            }
            Ok(Ok(permit)) => permit,
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return timed_out(" (waiting in the maxConcurrency queue)");
        }
        let http = match self.http() {
            Ok(http) => http,
            Err(closed) => return (Err(closed), Outcome::Final),
        };
        let mut builder = http.request(request.method.clone(), url).timeout(remaining);
        let (body, progress) = match &request.body {
            RequestBody::Empty => Tracked::new(reqwest::Body::from(Bytes::new())),
            RequestBody::Json(json) => {
                builder = builder
                    .header(CONTENT_TYPE, "application/json")
                    .header(CONTENT_LENGTH, json.len());
                Tracked::new(reqwest::Body::from(json.clone()))
            }
            RequestBody::Multipart(form) => {
                builder = builder
                    .header(CONTENT_TYPE, form.content_type())
                    .header(CONTENT_LENGTH, form.len());
                Tracked::new(crate::transfer::upload_body(form))
            }
        };
        if !matches!(request.body, RequestBody::Empty) {
            builder = builder.body(reqwest::Body::wrap(body));
        }
        let mut response = match builder.send().await {
            Ok(response) => response,
            Err(e) => {
                // A source that failed mid-body is its own failure, not retried.
                let source_failure = match &request.body {
                    RequestBody::Multipart(form) => form.source_failure(),
                    _ => None,
                };
                if let Some(err) = source_failure {
                    return (Err(err), Outcome::Final);
                }
                let outcome = if e.is_timeout() {
                    Outcome::TimedOut
                } else {
                    Outcome::Failed {
                        unsent: provably_unsent(&e, &progress),
                    }
                };
                return (Err(transport_error(e, path, budget)), outcome);
            }
        };
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            // Not followed, not read: the target is no concern of this call.
            let err = WxError::http_status(
                status,
                format!(
                    "{path} answered HTTP {status}, a redirect; WeChat and COS calls do not follow redirects"
                ),
            );
            return (
                Err(err),
                Outcome::Reply {
                    status,
                    empty_body: false,
                },
            );
        }
        let headers = std::mem::take(response.headers_mut());
        let progress = crate::transfer::download_progress(request);
        let body = match crate::transfer::sink_for(request, status, &headers) {
            // Streamed to the caller's filePath: no size limit, nothing held.
            Some(sink) => receive_to_file(response, &sink, progress, path, budget)
                .await
                .map(|()| Bytes::new()),
            None => read_body(response, request.max_reply_bytes, path, budget, progress).await,
        };
        drop(permit);
        match body {
            Ok(body) => {
                let outcome = Outcome::Reply {
                    status,
                    empty_body: body.iter().all(u8::is_ascii_whitespace),
                };
                let reply = Reply {
                    status,
                    headers,
                    body,
                };
                (Ok(reply), outcome)
            }
            // The reply was cut short: the request reached the server.
            Err(e) if e.kind == ErrorKind::Timeout => (Err(e), Outcome::TimedOut),
            Err(e) if e.kind == ErrorKind::TooLarge => (Err(e), Outcome::Final),
            Err(e) => (Err(e), Outcome::Failed { unsent: false }),
        }
    }

    pub(super) fn url_for(
        &self,
        request: &Request,
        token: Option<&Token>,
    ) -> Result<reqwest::Url, WxError> {
        let raw = match &request.target {
            Target::Api(path) => format!("{}{}", self.cfg.base_url, path),
            Target::Absolute(url) => url.clone(),
        };
        let mut url = reqwest::Url::parse(&raw).map_err(|e| {
            WxError::http_status(0, format!("invalid URL for {}: {e}", request.path()))
        })?;
        if token.is_some() || !request.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            if let Some(token) = token {
                pairs.append_pair(token.param, &token.value);
            }
            for (name, value) in &request.query {
                pairs.append_pair(name, value);
            }
        }
        Ok(url)
    }
}
