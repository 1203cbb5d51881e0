//! The bytes of a `Buffer` / `Uint8Array` argument, held so that they stay
//! alive and unchanged in length for a transfer that outlives the call.
//!
//! JS can pull memory out from under a view while Rust still reads it on a
//! tokio thread: `structuredClone(ab, { transfer: [ab] })`, `postMessage`,
//! `ab.transfer()` (Node 22; `markAsUntransferable` does not stop it) and
//! `ab.resize(0)` all detach or shrink an `ArrayBuffer`, and napi has no way
//! to pin a backing store. So a view over an `ArrayBuffer` (resizable or not,
//! the Buffer pool included) is copied here, on the JS thread, before any
//! other JS runs. A `SharedArrayBuffer` can be neither detached nor shrunk,
//! and the reference held by napi's `Uint8Array` keeps it alive, so a view
//! over one is sent without a copy. A detached view is refused.

use std::ptr;

use bytes::Bytes;
use napi::bindgen_prelude::*;
use napi::sys;

use crate::error::WxError;

use super::args::{describe, ArgResult};

/// Whether `v` is binary data of some kind (for "which branch" decisions).
pub fn is_binary(v: &Unknown) -> bool {
    v.is_buffer().unwrap_or(false)
        || v.is_typedarray().unwrap_or(false)
        || v.is_arraybuffer().unwrap_or(false)
        || is_dataview(v)
}

fn is_dataview(v: &Unknown) -> bool {
    let mut result = false;
    // SAFETY: `env` and the value handle come from a live `Unknown` on the JS
    // thread; `result` is a valid out pointer.
    let status = unsafe { sys::napi_is_dataview(v.value().env, v.raw(), &mut result) };
    status == sys::Status::napi_ok && result
}

/// What `napi_get_typedarray_info` says about a typed array.
struct ViewInfo {
    kind: sys::napi_typedarray_type,
    len: usize,
    data: *const u8,
    buffer: sys::napi_value,
}

fn view_info(v: &Unknown, what: &str) -> ArgResult<ViewInfo> {
    let mut kind = 0;
    let mut len = 0;
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut offset = 0;
    // SAFETY: `v` is a typed array (checked by the caller) handle of the
    // current scope on the JS thread, and all out pointers are valid locals.
    let status = unsafe {
        sys::napi_get_typedarray_info(
            v.value().env,
            v.raw(),
            &mut kind,
            &mut len,
            &mut data,
            &mut buffer,
            &mut offset,
        )
    };
    if status != sys::Status::napi_ok {
        return Err(WxError::invalid_param(format!(
            "cannot read {what}: napi status {status}"
        )));
    }
    Ok(ViewInfo {
        kind,
        len,
        data: data.cast::<u8>().cast_const(),
        buffer,
    })
}

/// `(detached, is a plain ArrayBuffer)` for the buffer under a view.
fn buffer_state(env: sys::napi_env, buffer: sys::napi_value) -> (bool, bool) {
    let mut detached = false;
    let mut plain = false;
    // SAFETY: `buffer` is the handle napi_get_typedarray_info just returned
    // in the current scope; the out pointers are valid locals. For a
    // SharedArrayBuffer both answers are false.
    unsafe {
        if sys::napi_is_detached_arraybuffer(env, buffer, &mut detached) != sys::Status::napi_ok {
            detached = false;
        }
        if sys::napi_is_arraybuffer(env, buffer, &mut plain) != sys::Status::napi_ok {
            // Unknown: treat it as a plain ArrayBuffer, i.e. copy.
            plain = true;
        }
    }
    (detached, plain)
}

fn typed_array_name(kind: sys::napi_typedarray_type) -> &'static str {
    use sys::TypedarrayType as T;
    match kind {
        T::int8_array => "an Int8Array",
        T::uint8_clamped_array => "a Uint8ClampedArray",
        T::int16_array => "an Int16Array",
        T::uint16_array => "a Uint16Array",
        T::int32_array => "an Int32Array",
        T::uint32_array => "a Uint32Array",
        T::float32_array => "a Float32Array",
        T::float64_array => "a Float64Array",
        T::bigint64_array => "a BigInt64Array",
        T::biguint64_array => "a BigUint64Array",
        _ => "a typed array other than Uint8Array",
    }
}

fn refused(what: &str, got: &str, hint: &str) -> WxError {
    WxError::invalid_param(format!(
        "{what} must be a Buffer or Uint8Array, got {got}{hint}"
    ))
}

const WRAP_HINT: &str =
    ": pass new Uint8Array(x.buffer, x.byteOffset, x.byteLength) to send its bytes";

/// Bytes of a Buffer or Uint8Array: copied from an `ArrayBuffer`, shared
/// (no copy) from a `SharedArrayBuffer`; see the module comment.
pub fn bytes_value(v: Unknown, what: &str) -> ArgResult<Bytes> {
    if !v.is_typedarray().unwrap_or(false) {
        if v.is_arraybuffer().unwrap_or(false) {
            return Err(refused(
                what,
                "an ArrayBuffer",
                ": wrap it as new Uint8Array(arrayBuffer)",
            ));
        }
        if is_dataview(&v) {
            return Err(refused(what, "a DataView", WRAP_HINT));
        }
        return Err(refused(what, describe(&v), ""));
    }
    let info = view_info(&v, what)?;
    if info.kind != sys::TypedarrayType::uint8_array {
        return Err(refused(what, typed_array_name(info.kind), WRAP_HINT));
    }
    let (detached, plain) = buffer_state(v.value().env, info.buffer);
    if detached {
        return Err(WxError::invalid_param(format!(
            "{what} is detached (its ArrayBuffer was transferred, e.g. by structuredClone or postMessage): pass a view that still holds the bytes"
        )));
    }
    if !plain {
        let shared = Uint8Array::from_unknown(v)
            .map_err(|e| WxError::invalid_param(format!("cannot read {what}: {}", e.reason)))?;
        return Ok(Bytes::from_owner(shared));
    }
    if info.len == 0 || info.data.is_null() {
        return Ok(Bytes::new());
    }
    // SAFETY: napi_get_typedarray_info just reported `len` readable bytes at
    // `data` for a view over a live, attached ArrayBuffer. We are on the JS
    // thread and no JS runs between that call and this copy, so the memory
    // cannot be detached, resized or collected meanwhile; the slice does not
    // outlive this statement.
    let view = unsafe { std::slice::from_raw_parts(info.data, info.len) };
    Ok(Bytes::copy_from_slice(view))
}
