//! The TCB gateway transport, used inside WeChat cloud functions (research
//! cloud-function.md): TC3-signed `/admin` actions for storage and
//! `wx.openApi` cloud calls.

pub mod params;
pub mod sign;
