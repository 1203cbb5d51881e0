//! Turning a [`WxError`] into the JS `Error` a promise rejects with.

use std::future::Future;

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

fn build_js_error(env: &Env, err: &WxError) -> Result<Error> {
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
    Ok(Error::from(obj.to_unknown()))
}

/// Runs `work` on napi's tokio runtime and settles a promise on the JS
/// thread: `to_js` shapes the result, a [`WxError`] becomes a JS `Error`
/// naming `api`.
pub fn spawn<'env, T, V, F, C>(
    env: &'env Env,
    api: &'static str,
    work: F,
    to_js: C,
) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = std::result::Result<T, WxError>> + Send + 'static,
    C: FnOnce(&'env Env, T) -> Result<V> + 'static,
{
    env.spawn_future_with_callback(
        async move { Ok(work.await) },
        move |env, outcome| match outcome {
            Ok(value) => to_js(env, value),
            Err(err) => Err(js_error(env, &err.with_api(api))),
        },
    )
}
