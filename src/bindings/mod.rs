//! The napi boundary: JS argument shaping, JS results and JS errors.
mod emulator;

use napi_derive::napi;

/// Version of the native addon.
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
