//! Local emulator of the WeChat and COS endpoints (work in progress).
