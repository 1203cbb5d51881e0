//! The COS POST Object form upload (`POST /cos/<bucket>/<path>`): reading
//! the multipart form and matching it against its upload ticket.

use std::collections::HashMap;

use bytes::Bytes;
use hyper::header::ETAG;
use hyper::{Method, StatusCode};

use super::super::http::{
    cos_error, cos_request_id, random_string, sha256_hex, Incoming, Reply, HEX_LOWER,
};
use super::super::media::{once_stream, part_content_type};
use super::super::state::{lock, Shared};
use super::{StoredObject, Ticket, COS_PREFIX, TICKET_TTL_MS, X_COS_REQUEST_ID};

/// The fields of a COS POST Object form, `file` last.
#[derive(Debug)]
pub(crate) struct CosForm {
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) file_content_type: Option<String>,
    pub(crate) file: Bytes,
}

impl CosForm {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a POST Object form with multer. Like COS, refuses a form with no
/// `file` or with anything after it (`Err` means MalformedPOSTRequest).
pub(crate) async fn read_cos_form(content_type: Option<&str>, body: Bytes) -> Result<CosForm, ()> {
    let content_type = content_type.ok_or(())?;
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Err(());
    }
    let boundary = multer::parse_boundary(content_type).map_err(|_| ())?;
    let mut multipart = multer::Multipart::new(once_stream(body), boundary);
    let mut fields = Vec::new();
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| ())? {
        if file.is_some() {
            return Err(());
        }
        let name = field.name().ok_or(())?.to_owned();
        let part_type = part_content_type(&field);
        let data = field.bytes().await.map_err(|_| ())?;
        if name.eq_ignore_ascii_case("file") {
            file = Some((part_type, data));
        } else {
            fields.push((name, String::from_utf8_lossy(&data).into_owned()));
        }
    }
    let (file_content_type, file) = file.ok_or(())?;
    Ok(CosForm {
        fields,
        file_content_type,
        file,
    })
}

/// `POST /cos/<bucket>/<path>`: the second step of an upload.
pub(crate) async fn handle_cos_post(shared: &Shared, req: &Incoming) -> Reply {
    let resource = format!(
        "{}{}",
        req.header(hyper::header::HOST).unwrap_or_default(),
        req.path
    );
    match cos_post(shared, req, &resource).await {
        Ok(reply) | Err(reply) => reply,
    }
}

async fn cos_post(shared: &Shared, req: &Incoming, resource: &str) -> Result<Reply, Reply> {
    if req.method != Method::POST {
        let msg = "The specified method is not allowed against this resource.";
        return Err(cos_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            msg,
            resource,
        ));
    }
    if req.is_length_unknown() {
        let msg = "You must provide the Content-Length HTTP header.";
        return Err(cos_error(
            StatusCode::LENGTH_REQUIRED,
            "MissingContentLength",
            msg,
            resource,
        ));
    }
    let form = read_cos_form(req.content_type(), req.body.clone())
        .await
        .map_err(|_| {
            let msg = "The body of your POST request is not well-formed multipart/form-data.";
            cos_error(
                StatusCode::BAD_REQUEST,
                "MalformedPOSTRequest",
                msg,
                resource,
            )
        })?;
    let bucket = req
        .path
        .strip_prefix(COS_PREFIX)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    let now = shared.clock.now_ms();
    let mut storage = lock(&shared.storage);
    let ticket = check_form(&storage.tickets, bucket, &form, now)
        .map_err(|(code, msg)| cos_error(StatusCode::FORBIDDEN, code, msg, resource))?
        .clone();
    let object = stored_object(form, shared.opts.lean);
    let etag = format!("\"{}\"", object.etag);
    storage.objects.insert((ticket.bucket, ticket.path), object);
    Ok(Reply::empty(StatusCode::NO_CONTENT)
        .with_header(ETAG, &etag)
        .with_header(X_COS_REQUEST_ID, &cos_request_id()))
}

fn stored_object(form: CosForm, lean: bool) -> StoredObject {
    // Lean mode (benchmarks) skips hashing.
    let etag = if lean {
        random_string(32, HEX_LOWER)
    } else {
        sha256_hex(&form.file)[..32].to_owned()
    };
    // COS takes the object's type from a `Content-Type` form field, else the part.
    let content_type = form
        .field("Content-Type")
        .map(str::to_owned)
        .or(form.file_content_type)
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    StoredObject {
        data: form.file,
        content_type,
        etag,
    }
}

/// Matches a form against the ticket its `Signature` names: (COS code, message) on failure.
pub(super) fn check_form<'a>(
    tickets: &'a HashMap<String, Ticket>,
    bucket: &str,
    form: &CosForm,
    now_ms: u64,
) -> Result<&'a Ticket, (&'static str, &'static str)> {
    let signature = form.field("Signature").ok_or((
        "AccessDenied",
        "Access Denied: the form has no Signature field.",
    ))?;
    let invalid_signature = (
        "SignatureDoesNotMatch",
        "The Signature you specified is invalid.",
    );
    let ticket = tickets.get(signature).ok_or(invalid_signature)?;
    if ticket.bucket != bucket {
        return Err(invalid_signature);
    }
    if now_ms >= ticket.issued_at_ms + TICKET_TTL_MS {
        return Err(("AccessDenied", "Request has expired"));
    }
    let expectations = [
        (
            "key",
            ticket.path.as_str(),
            "Access Denied: key is missing or does not match the upload ticket.",
        ),
        (
            "x-cos-security-token",
            ticket.token.as_str(),
            "Access Denied: x-cos-security-token is missing or invalid.",
        ),
        (
            "x-cos-meta-fileid",
            ticket.cos_file_id.as_str(),
            "Access Denied: x-cos-meta-fileid is missing or does not match the upload ticket.",
        ),
    ];
    for (field, expected, message) in expectations {
        if form.field(field) != Some(expected) {
            return Err(("AccessDenied", message));
        }
    }
    Ok(ticket)
}
