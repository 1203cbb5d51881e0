#!/usr/bin/env bash
# Fuzz smoke (issue 11): every cargo-fuzz target in fuzz/ builds and runs a
# fixed, seeded number of inputs, so the targets keep compiling and a crash
# reachable from their seed fails CI the same way every time. The long runs
# are by hand (fuzz/README.md). cargo-fuzz goes into the checkout's .cache/.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$PWD/.cache/tools"
export PATH="$tools/bin:$PATH"
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "the nightly toolchain is missing: cargo fuzz needs it (rustup toolchain install nightly)"
  exit 1
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --root "$tools"
fi
cd fuzz
cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
  echo "-- $target"
  cargo +nightly fuzz run "$target" -- -runs=20000 -seed=1
done
