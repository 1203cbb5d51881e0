//! What a call asks the client to send (a [`Request`]: target, query,
//! body, timeout class, reply limit, retry rule) and what comes back.

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

use crate::multipart::MultipartBody;
use crate::retry::Retry;

/// Which timeout applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutClass {
    Json,
    Transfer,
}

/// Where a request goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// A path under the client's `baseUrl`.
    Api(&'static str),
    /// A full URL handed out by WeChat (COS upload, temp download links).
    Absolute(String),
}

#[derive(Debug, Clone)]
pub enum RequestBody {
    Empty,
    Json(Bytes),
    Multipart(MultipartBody),
}

/// A request that can be sent again unchanged (retries and token replays).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub target: Target,
    pub query: Vec<(&'static str, String)>,
    pub body: RequestBody,
    pub timeout: TimeoutClass,
    /// Replies larger than this are refused instead of buffered.
    pub max_reply_bytes: u64,
    /// How freely it may be sent again (see [`crate::retry`]).
    pub retry: Retry,
}

/// JSON API replies are small; anything larger is not a WeChat JSON reply.
pub const MAX_JSON_REPLY_BYTES: u64 = 16 * 1024 * 1024;

impl Request {
    pub fn post_json(path: &'static str, body: Bytes) -> Self {
        Request {
            method: Method::POST,
            target: Target::Api(path),
            query: Vec::new(),
            body: RequestBody::Json(body),
            timeout: TimeoutClass::Json,
            max_reply_bytes: MAX_JSON_REPLY_BYTES,
            // A POST may act: repeated only when provably unsent, unless the
            // caller says it is a lookup ([`Request::idempotent`]).
            retry: Retry::UnsentOnly,
        }
    }

    /// Marks the request as safe to repeat (lookups, puts to the same key).
    pub fn idempotent(mut self) -> Self {
        self.retry = Retry::Idempotent;
        self
    }

    /// False for calls that could act twice if sent twice (an upload, a
    /// customer service message): those are resent only when provably unsent.
    pub fn is_idempotent(&self) -> bool {
        self.retry == Retry::Idempotent
    }

    /// The path, for messages (never the query).
    pub fn path(&self) -> &str {
        match &self.target {
            Target::Api(path) => path,
            Target::Absolute(url) => url_path(url),
        }
    }
}

/// The path of a URL, for messages (never the query, which may hold secrets).
fn url_path(url: &str) -> &str {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = without_scheme
        .find('/')
        .map_or("/", |at| &without_scheme[at..]);
    path.split(['?', '#']).next().unwrap_or(path)
}

/// A received HTTP reply, body buffered.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: reqwest::header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A WeChat API reply: the HTTP reply plus its JSON, when it was JSON.
#[derive(Debug, Clone)]
pub struct ApiReply {
    pub reply: Reply,
    pub json: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_path_hides_the_query() {
        assert_eq!(url_path("http://h:1/a/b?access_token=x"), "/a/b");
        assert_eq!(url_path("http://h"), "/");
    }
}
