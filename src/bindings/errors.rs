//! Turning a [`WxError`] into the JS `Error` a promise rejects with.

use napi::bindgen_prelude::*;

use crate::error::WxError;

/// A real JS `Error` with `errCode`, `errMsg` and `code` (and `requestId`,
/// `statusCode` when known), wrapped so napi throws or rejects with exactly it.
pub fn js_error(env: &Env, err: &WxError) -> Error {
    match build_js_error(env, err) {
        Ok(error) => error,
        // Building the object failed (out of memory?): still say what happened.
        Err(_) => Error::new(
            Status::GenericFailure,
            crate::secrets::scrub(&err.message()),
        ),
    }
}

/// The same error as a raw JS value, to reject a promise with.
pub fn js_error_object(env: &Env, err: &WxError) -> napi::sys::napi_value {
    match error_object(env, err) {
        Ok(obj) => obj.raw(),
        Err(_) => env
            .create_error(Error::new(
                Status::GenericFailure,
                crate::secrets::scrub(&err.message()),
            ))
            .map_or(std::ptr::null_mut(), |obj| obj.raw()),
    }
}

fn build_js_error(env: &Env, err: &WxError) -> Result<Error> {
    Ok(Error::from(error_object(env, err)?.to_unknown()))
}

/// Every text property is scrubbed once more here, on the way out: a secret
/// registered after the error was built (or text added to it later) is masked
/// too. `stack` is built by JS from the scrubbed message.
fn error_object<'e>(env: &'e Env, err: &WxError) -> Result<Object<'e>> {
    let scrub = crate::secrets::scrub;
    let mut obj = env.create_error(Error::new(Status::GenericFailure, scrub(&err.message())))?;
    obj.set("errCode", err.err_code)?;
    obj.set("errMsg", scrub(&err.err_msg()))?;
    obj.set("code", err.kind.as_str())?;
    if let Some(request_id) = &err.request_id {
        obj.set("requestId", scrub(request_id))?;
    }
    if let Some(status) = err.status {
        obj.set("statusCode", status)?;
    }
    if !err.file_list.is_empty() {
        obj.set("fileList", file_list(&err.file_list))?;
    }
    Ok(obj)
}

/// `err.fileList` of a batch call that failed part-way.
fn file_list(items: &[crate::error::BatchItemReport]) -> serde_json::Value {
    let scrub = crate::secrets::scrub;
    items
        .iter()
        .map(|item| {
            let mut v = serde_json::json!({
                "fileID": item.file_id,
                "state": item.state.as_str(),
                "status": item.status,
                "errMsg": scrub(&item.err_msg),
            });
            if let Some(url) = &item.temp_file_url {
                v["tempFileURL"] = serde_json::Value::from(url.as_str());
            }
            v
        })
        .collect()
}
