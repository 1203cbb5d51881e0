//! Request log and counters, for tests and the benchmark.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use super::http::{sha256_hex, Incoming, Outcome};

/// How many requests `requests()` keeps.
const MAX_RECORDS: usize = 1000;
/// Non-file multipart fields up to this size are logged as text.
const MAX_LOGGED_FIELD: usize = 4096;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestRecord {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    headers: HeaderSummary,
    body_size: usize,
    body_sha256: String,
    json: Value,
    parts: Vec<PartRecord>,
    /// None when the connection was reset instead of answered.
    status: Option<u16>,
    errcode: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct HeaderSummary {
    content_type: Option<String>,
    content_length: Option<u64>,
    transfer_encoding: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PartRecord {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    size: usize,
    sha256: String,
    value: Option<String>,
}

#[derive(Default)]
pub(crate) struct Recorder {
    counts: BTreeMap<String, u64>,
    records: VecDeque<RequestRecord>,
}

impl Recorder {
    pub(crate) fn count(&mut self, route: &str) {
        // Look up before inserting: the hot path should not allocate a key.
        match self.counts.get_mut(route) {
            Some(count) => *count += 1,
            None => {
                self.counts.insert(route.to_owned(), 1);
            }
        }
    }

    pub(crate) fn push(&mut self, record: RequestRecord) {
        if self.records.len() == MAX_RECORDS {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    pub(crate) fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    /// Logged requests, oldest first, optionally only those under a path prefix.
    pub(crate) fn records(&self, path_prefix: Option<&str>) -> Value {
        let matching: Vec<&RequestRecord> = self
            .records
            .iter()
            .filter(|r| path_prefix.is_none_or(|p| r.path.starts_with(p)))
            .collect();
        serde_json::to_value(matching).unwrap_or(Value::Array(Vec::new()))
    }

    pub(crate) fn clear_records(&mut self) {
        self.records.clear();
    }

    pub(crate) fn clear(&mut self) {
        self.records.clear();
        self.counts.clear();
    }
}

/// Describes a request and what was sent back, hashing bodies and parts.
pub(crate) async fn describe(req: &Incoming, outcome: &Outcome) -> RequestRecord {
    let (status, errcode) = match outcome {
        Outcome::Reply(reply) => (Some(reply.status.as_u16()), reply.errcode),
        Outcome::Reset => (None, None),
    };
    let is_multipart = req
        .content_type()
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/"));
    let parts = match (is_multipart, req.content_type()) {
        (true, Some(ct)) => describe_parts(ct, req.body.clone()).await,
        _ => Vec::new(),
    };
    let json = if is_multipart || req.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&req.body).unwrap_or(Value::Null)
    };
    RequestRecord {
        method: req.method.to_string(),
        path: req.path.clone(),
        query: req.query.iter().cloned().collect(),
        headers: HeaderSummary {
            content_type: req.content_type().map(str::to_owned),
            content_length: req.content_length(),
            transfer_encoding: req
                .header(hyper::header::TRANSFER_ENCODING)
                .map(str::to_owned),
        },
        body_size: req.body.len(),
        body_sha256: sha256_hex(&req.body),
        json,
        parts,
        status,
        errcode,
    }
}

/// The parts multer can read, in wire order; stops quietly at the first
/// malformation (the handler reports that; the log shows what came before).
pub(crate) async fn describe_parts(content_type: &str, body: Bytes) -> Vec<PartRecord> {
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return Vec::new();
    };
    let mut multipart = multer::Multipart::new(super::media::once_stream(body), boundary);
    let mut parts = Vec::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = super::media::part_content_type(&field);
        let Ok(data) = field.bytes().await else { break };
        let value = match filename {
            None if data.len() <= MAX_LOGGED_FIELD => String::from_utf8(data.to_vec()).ok(),
            _ => None,
        };
        parts.push(PartRecord {
            name,
            filename,
            content_type,
            size: data.len(),
            sha256: sha256_hex(&data),
            value,
        });
    }
    parts
}
