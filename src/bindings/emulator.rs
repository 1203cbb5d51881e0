//! napi bindings of the emulator (work in progress).
