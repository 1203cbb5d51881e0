//! Reading JS arrays the way `Array.isArray` sees them: a Proxy whose target
//! is an array (Vue's reactive arrays, MobX observables) is an array too,
//! although napi's `napi_is_array` says no. Elements are read through the
//! Proxy's traps; a trap that throws fails the call like a throwing getter.

use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;

use crate::error::WxError;

use super::args::{count_value, ArgResult};

/// More elements than any batch call takes (they are split into batches of
/// 50); a Proxy claiming a larger `length` is refused rather than walked.
const MAX_ITEMS: u64 = 100_000;

fn cannot_read(what: &str, e: Error) -> WxError {
    WxError::invalid_param(format!("cannot read {what}: {}", e.reason))
}

/// `Some(items)` when `Array.isArray(value)`, else `None`.
pub fn array_items<'e>(value: Unknown<'e>, what: &str) -> ArgResult<Option<Vec<Unknown<'e>>>> {
    if value.is_array().unwrap_or(false) {
        return Vec::from_unknown(value)
            .map(Some)
            .map_err(|e| cannot_read(what, e));
    }
    if !matches!(value.get_type(), Ok(ValueType::Object)) || !is_array_per_js(value)? {
        return Ok(None);
    }
    let obj = Object::from_unknown(value).map_err(|e| cannot_read(what, e))?;
    let length: Unknown = obj
        .get_named_property("length")
        .map_err(|e| cannot_read(what, e))?;
    let length = count_value(length, &format!("{what}.length"))?;
    if length > MAX_ITEMS {
        return Err(WxError::invalid_param(format!(
            "{what} has {length} items; at most {MAX_ITEMS} are taken in one call"
        )));
    }
    (0..length as u32)
        .map(|i| {
            obj.get_element::<Unknown>(i)
                .map_err(|e| cannot_read(&format!("{what}[{i}]"), e))
        })
        .collect::<ArgResult<Vec<_>>>()
        .map(Some)
}

/// `Array.isArray(value)`, which sees through Proxies.
fn is_array_per_js(value: Unknown) -> ArgResult<bool> {
    let env = value.value().env;
    let mut global = ptr::null_mut();
    let mut array = ptr::null_mut();
    let mut is_array = ptr::null_mut();
    let mut result = ptr::null_mut();
    let mut answer = false;
    // SAFETY: on the JS thread with the env of a live `Unknown`; every out
    // pointer is a valid local, each handle is used only after the call that
    // produced it succeeded, and the names are NUL-terminated.
    let ok = unsafe {
        sys::napi_get_global(env, &mut global) == sys::Status::napi_ok
            && sys::napi_get_named_property(env, global, c"Array".as_ptr(), &mut array)
                == sys::Status::napi_ok
            && sys::napi_get_named_property(env, array, c"isArray".as_ptr(), &mut is_array)
                == sys::Status::napi_ok
            && sys::napi_call_function(env, array, is_array, 1, &value.raw(), &mut result)
                == sys::Status::napi_ok
            && sys::napi_get_value_bool(env, result, &mut answer) == sys::Status::napi_ok
    };
    if ok {
        Ok(answer)
    } else {
        Err(WxError::invalid_param(
            "cannot tell whether the value is an array (Array.isArray failed)",
        ))
    }
}
