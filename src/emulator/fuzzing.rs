//! Synchronous entry points to the emulator's parsers of untrusted bytes,
//! for the cargo-fuzz targets in `fuzz/`. Not part of the API.
//!
//! multer reads a body that is already whole (a one-chunk stream), so its
//! futures finish on their first poll; `now_or_never` runs them without a
//! runtime. A future that did not finish would be a finding in itself, so it
//! panics.

use bytes::Bytes;
use futures_util::FutureExt;

/// Fields and file size of a COS POST Object form, or `None` when the
/// emulator refuses it (MalformedPOSTRequest).
pub fn cos_form(content_type: Option<&str>, body: &[u8]) -> Option<(usize, usize)> {
    let form = super::storage::read_cos_form(content_type, Bytes::copy_from_slice(body))
        .now_or_never()
        .expect("a whole body parses without waiting");
    form.ok().map(|f| (f.fields.len(), f.file.len()))
}

/// The parts the request log records for a multipart body, with their sizes.
pub fn logged_parts(content_type: &str, body: &[u8]) -> usize {
    super::record::describe_parts(content_type, Bytes::copy_from_slice(body))
        .now_or_never()
        .expect("a whole body parses without waiting")
        .len()
}

/// Query pairs as the emulator decodes them.
pub fn query(raw: &str) -> Vec<(String, String)> {
    super::http::parse_query(Some(raw))
}
