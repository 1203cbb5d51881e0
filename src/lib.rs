//! wx-media: WeChat temporary media and Cloud Base storage for Node.js.
//!
//! Core modules are plain Rust (testable with `cargo test`); `bindings` is the
//! thin napi boundary that turns JS values into core calls and back.
#![deny(clippy::all)]

/// Rust-side allocations (request state, bodies received) use mimalloc; JS
/// memory is untouched. Everything Rust allocates is freed by Rust.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod backend;
pub mod batch;
mod bindings;
pub mod client;
pub mod cloud_path;
pub mod config;
pub mod cos;
pub mod debug_log;
pub mod emulator;
pub mod error;
pub mod gateway;
pub mod http_transfer;
pub mod lifecycle;
pub mod media;
pub mod media_cache;
pub mod media_get;
pub mod multipart;
pub mod observed_body;
pub mod openapi;
pub mod progress;
pub mod redis_link;
pub mod reply;
pub mod retry;
pub mod secrets;
pub mod sink;
pub mod source;
pub mod storage;
pub mod suggest;
pub mod token;
pub mod token_store;
pub mod transfer;
pub mod transport;
pub mod world_clock;
pub mod wx_context;
