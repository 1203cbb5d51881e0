//! The TCB gateway transport, used inside WeChat cloud functions (research
//! cloud-function.md): TC3-signed `/admin` actions for storage and
//! `wx.openApi` cloud calls. [`crate::transport`] picks it or WeChat HTTP.

pub mod admin;
pub mod context;
pub mod openapi;
pub mod params;
pub mod proto;
pub mod sign;
pub mod storage;

pub use context::{choose, GatewayConfig, Invocation, Snapshot};
pub use openapi::{OpenApiParam, OpenApiResult};
