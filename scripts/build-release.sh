#!/usr/bin/env bash
# Release builds of the addon for the Linux targets this machine can build.
#
#   npm run build:release                          linux-x64-gnu, glibc 2.17 (zig)
#   npm run build:release -- --target musl         linux-x64-musl
#   npm run build:release -- --target arm64        linux-arm64-gnu, glibc 2.17
#   npm run build:release -- --target all          all three
#
# (macOS and Windows binaries build on their own CI runners, see
# .github/workflows/release.yml.) Where rustup has the target's std installed
# (CI runners), it is used; otherwise (this machine) std is built from source.
#
# Each binary lands in artifacts/wx-media.<platform>.node (the layout that
# `napi artifacts` reads). Tools are installed here, on first use, into the
# ignored folder .cache/tools/ of this checkout (nothing system-wide, nothing in
# $HOME):
#   .cache/tools/zig       PyPI's ziglang + cargo-zigbuild in a venv: the C
#                          compiler and linker for every target, linking
#                          against glibc 2.17 or musl
#   .cache/tools/rust-web  Debian's rustc-web + rust-web-src, unpacked: a rustc
#                          with std sources, so that std for musl and aarch64
#                          is built with -Zbuild-std (rustup cannot download it)
# The host build for contributors stays `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tools="$root/.cache/tools"
out="$root/artifacts"

ZIGLANG_VERSION=0.17.0
CARGO_ZIGBUILD_VERSION=0.24.0

targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target | -t) shift; targets+=("${1:?--target needs a value}") ;;
    --target=*) targets+=("${1#--target=}") ;;
    -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "build-release: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=(gnu)

log() { echo "build-release: $*" >&2; }

zig_tools() {
  local venv="$tools/zig"
  if [ ! -x "$venv/bin/cargo-zigbuild" ] || [ ! -x "$venv/bin/zig" ]; then
    log "installing ziglang $ZIGLANG_VERSION + cargo-zigbuild $CARGO_ZIGBUILD_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
    # napi's --cross-compile looks for `zig` on PATH; the wheel ships it inside
    # the ziglang module.
    printf '#!/bin/sh\nexec "%s/bin/python3" -m ziglang "$@"\n' "$venv" >"$venv/bin/zig"
    chmod +x "$venv/bin/zig"
  fi
  export PATH="$venv/bin:$PATH"
}

# Debian's rustc-web and its std sources, unpacked with dpkg -x.
rust_web() {
  local dir="$tools/rust-web"
  if [ ! -x "$dir/usr/bin/rustc" ] || [ ! -d "$dir/usr/lib/rustlib/src/rust/library" ]; then
    command -v apt-get >/dev/null || { log "needs apt-get (Debian) for rustc-web"; exit 1; }
    log "downloading Debian's rustc-web + rust-web-src into $dir"
    local debs="$tools/debs"
    rm -rf "$dir" "$debs" && mkdir -p "$dir" "$debs"
    # libstd-rust-web-<version> and libllvm<N> are named after their versions:
    # take them from rustc-web's dependencies, recursively.
    local pkgs
    pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances rustc-web | grep -E '^(rustc-web|libstd-rust-web-[0-9.]+|libllvm[0-9]+)$' | sort -u)
    if ! echo "$pkgs" | grep -q '^libllvm'; then
      apt-get update -qq
      pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
        --no-replaces --no-enhances rustc-web | grep -E '^(rustc-web|libstd-rust-web-[0-9.]+|libllvm[0-9]+)$' | sort -u)
    fi
    # shellcheck disable=SC2086
    (cd "$debs" && apt-get download -qq $pkgs libstd-rust-web-dev rust-web-src 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
    ls "$debs"/rustc-web_*.deb "$debs"/rust-web-src_*.deb "$debs"/libllvm*.deb >/dev/null
    for deb in "$debs"/*.deb; do dpkg -x "$deb" "$dir"; done
  fi
  export RUSTC="$dir/usr/bin/rustc"
  export LD_LIBRARY_PATH="$dir/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export RUSTC_BOOTSTRAP=1
}

# -Zbuild-std when rustup has no std for the target (as here), else nothing.
std_for() { # <rust triple>
  std_args=()
  if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx "$1"; then
    return
  fi
  rust_web
  std_args=(-- -Zbuild-std=std,panic_abort)
}

build() { # <napi target> <target dir> [extra napi build args]
  local target=$1 dir=$2; shift 2
  log "building $target"
  nice npx napi build --platform --release --target "$target" \
    --target-dir "$root/target/$dir" --output-dir "$out" --no-js "$@"
}

mkdir -p "$out"
for t in "${targets[@]}"; do
  case "$t" in
    all) set -- gnu musl arm64 ;;
    *) set -- "$t" ;;
  esac
  for one in "$@"; do
    case "$one" in
      gnu | linux-x64-gnu | x86_64-unknown-linux-gnu)
        (zig_tools && build x86_64-unknown-linux-gnu.2.17 zig --cross-compile) ;;
      musl | linux-x64-musl | x86_64-unknown-linux-musl)
        (zig_tools && std_for x86_64-unknown-linux-musl &&
          build x86_64-unknown-linux-musl build-std --cross-compile "${std_args[@]}") ;;
      arm64 | linux-arm64-gnu | aarch64-unknown-linux-gnu)
        (zig_tools && std_for aarch64-unknown-linux-gnu &&
          build aarch64-unknown-linux-gnu.2.17 build-std --cross-compile "${std_args[@]}") ;;
      *) log "unknown target $one (gnu, musl, arm64 or all; macOS and Windows build in .github/workflows/release.yml)"; exit 2 ;;
    esac
  done
done
ls -l "$out"/*.node
