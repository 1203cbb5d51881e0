//! wx-media: WeChat temporary media and Cloud Base storage for Node.js.
//!
//! Core modules are plain Rust (testable with `cargo test`); `bindings` is the
//! thin napi boundary that turns JS values into core calls and back.
#![deny(clippy::all)]

mod bindings;
pub mod client;
pub mod config;
pub mod emulator;
pub mod error;
pub mod media;
pub mod multipart;
pub mod storage;
pub mod token;
