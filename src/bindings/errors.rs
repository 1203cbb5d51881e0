//! Turning a [`WxError`] into the JS `Error` a promise rejects with.

use napi::bindgen_prelude::*;

use crate::error::WxError;

/// A real JS `Error` with `errCode`, `errMsg` and `code` (and `requestId`,
/// `statusCode` when known), wrapped so napi throws or rejects with exactly it.
pub fn js_error(env: &Env, err: &WxError) -> Error {
    match build_js_error(env, err) {
        Ok(error) => error,
        // Building the object failed (out of memory?): still say what happened.
        Err(_) => Error::new(Status::GenericFailure, err.message()),
    }
}

/// The same error as a raw JS value, to reject a promise with.
pub fn js_error_object(env: &Env, err: &WxError) -> napi::sys::napi_value {
    match error_object(env, err) {
        Ok(obj) => obj.raw(),
        Err(_) => env
            .create_error(Error::new(Status::GenericFailure, err.message()))
            .map_or(std::ptr::null_mut(), |obj| obj.raw()),
    }
}

fn build_js_error(env: &Env, err: &WxError) -> Result<Error> {
    Ok(Error::from(error_object(env, err)?.to_unknown()))
}

fn error_object<'e>(env: &'e Env, err: &WxError) -> Result<Object<'e>> {
    let mut obj = env.create_error(Error::new(Status::GenericFailure, err.message()))?;
    obj.set("errCode", err.err_code)?;
    obj.set("errMsg", err.err_msg())?;
    obj.set("code", err.kind.as_str())?;
    if let Some(request_id) = &err.request_id {
        obj.set("requestId", request_id.as_str())?;
    }
    if let Some(status) = err.status {
        obj.set("statusCode", status)?;
    }
    Ok(obj)
}
