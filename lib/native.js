'use strict'
// Loads the native addon through napi's generated loader (../index.js).
// Kept apart so that the loader's failure can be reported in words a user can
// act on (see loadError), and so that nothing else requires ../index.js.

// What the release builds (package.json `napi.targets`) run on. The floors are
// those of the binaries: glibc 2.17 via zig, Rust's musl target (1.2.3).
const SUPPORTED = [
  ['linux-x64-gnu', 'Linux x64, glibc >= 2.17 (CentOS 7, Amazon Linux 2, Debian 10+, Ubuntu 18.04+)'],
  ['linux-x64-musl', 'Linux x64, musl >= 1.2.3 (Alpine 3.17+)'],
  ['linux-arm64-gnu', 'Linux arm64, glibc >= 2.17'],
  ['darwin-arm64', 'macOS arm64'],
  ['darwin-x64', 'macOS x64'],
  ['win32-x64-msvc', 'Windows x64'],
]
const NODE_FLOOR = '16.0.0'

function load() {
  try {
    return require('../index.js')
  } catch (err) {
    throw loadError(err)
  }
}

/** glibc's or musl's name and version on Linux, e.g. "glibc 2.17", "musl 1.2.4". */
function libcOf(report) {
  const glibc = report && report.header && report.header.glibcVersionRuntime
  if (glibc) return `glibc ${glibc}`
  const objects = (report && report.sharedObjects) || []
  if (!objects.some((f) => f.includes('musl'))) return 'libc unknown (neither glibc nor musl detected)'
  // musl's loader prints its version when run under its own name (ldd).
  try {
    const out = require('child_process').spawnSync('ldd', ['--version'], { encoding: 'utf8', timeout: 2000 })
    const version = /Version ([0-9.]+)/.exec(`${out.stdout}${out.stderr}`)
    if (version) return `musl ${version[1]}`
  } catch {
    // no ldd: the version stays unknown
  }
  return 'musl (version unknown)'
}

/** The platform as the loader sees it: os, arch, libc and its version, Node. */
function detectedPlatform() {
  let report = null
  try {
    if (process.report && typeof process.report.getReport === 'function') {
      process.report.excludeNetwork = true
      report = process.report.getReport()
    }
  } catch {
    report = null
  }
  const parts = [process.platform, process.arch]
  if (process.platform === 'linux') parts.push(libcOf(report))
  const napi = process.versions.napi ? `, Node-API ${process.versions.napi}` : ''
  return `${parts.join(' ')} (Node ${process.version}${napi})`
}

/** Messages of the loader's error and its cause chain, deduplicated, most useful first. */
function causesOf(err) {
  const messages = []
  for (let e = err; e; e = e.cause) {
    // Node's "Require stack:" lists only our own files.
    const message = (e && typeof e.message === 'string' ? e.message : String(e)).split('\nRequire stack:')[0]
    // napi's generic advice (replaced by ours below) and the WASI fallback,
    // which this package does not ship, say nothing about this platform.
    if (/^Cannot find native binding|^Failed to load native binding|wasm32-wasi|\.wasi\.cjs/.test(message)) continue
    if (!messages.includes(message)) messages.push(message)
  }
  // A binary that was found but failed to load (dlopen: "GLIBC_2.34 not
  // found", "wrong ELF class", …) says more than the packages that are absent.
  const absent = (m) => m.startsWith('Cannot find module')
  return [...messages.filter((m) => !absent(m)), ...messages.filter(absent)]
}

/** The loader's failure, with the real cause in the message itself. */
function loadError(err) {
  const causes = causesOf(err)
  const message = [
    `wx-media: no native addon could be loaded on this platform.`,
    `Detected: ${detectedPlatform()}.`,
    `Loader said:`,
    ...causes.map((m) => `  - ${m.split('\n').join('\n    ')}`),
    `Supported platforms (prebuilt packages wx-media-<platform>, Node >= ${NODE_FLOOR}):`,
    ...SUPPORTED.map(([name, what]) => `  - ${name}: ${what}`),
    `If yours is listed: install on the machine (or image) that runs the code, with optional`,
    `dependencies enabled (not --no-optional / --omit=optional); if npm skipped the platform`,
    `package, delete node_modules and package-lock.json and run npm install again.`,
    `Otherwise build from source (Rust >= 1.85 and a C compiler): clone the wx-media repository,`,
    `run \`npm install\` there (it builds wx-media.<platform>.node), and point`,
    `NAPI_RS_NATIVE_LIBRARY_PATH at that file. See README.md, "Install".`,
  ].join('\n')
  const error = new Error(message)
  error.code = 'NATIVE_LOAD_FAILED'
  error.errCode = -1
  error.errMsg = `wx-media: cannot load the native addon: ${causes[0] || 'unknown error'}`
  error.cause = err
  return error
}

module.exports = load()
