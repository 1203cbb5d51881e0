//! The napi boundary: JS argument shaping, JS results and JS errors. Core
//! logic lives in the plain-Rust modules; nothing here does I/O itself.
//!
//! Under `cargo test` napi does not register exports, so the exported
//! functions look unused there.
#![cfg_attr(test, allow(dead_code))]
mod args;
mod arrays;
mod bytes;
mod client;
mod cloud_call;
mod emulator;
mod errors;
mod fleet_options;
mod http;
mod js_settle;
mod media;
mod media_cache_options;
mod openapi;
mod option_names;
mod options;
mod settle;
mod source;
mod storage;
mod token_hooks;
mod token_provider;
mod transfer;

use napi_derive::napi;

/// Version of the native addon.
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
