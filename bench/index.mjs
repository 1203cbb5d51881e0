#!/usr/bin/env node
// wx-media benchmark orchestrator (`npm run bench`, `npm run bench:smoke`).
//
// Starts the emulator (`bin/wx-media-emulator.js --port 0 --lean`) in its own process, then runs
// every client in its own fresh process (bench/run-client.mjs) against it, cell by cell
// (payload size × concurrency), repeating each cell with the client order rotated. With taskset
// the server is pinned to CPU 0 and each client to CPU 1. Writes JSON lines to bench/results/ and,
// for a full run, BENCHMARKS.md. See bench/README.md for the flags.
import { spawn, execFileSync } from 'node:child_process'
import { createWriteStream, writeFileSync, readFileSync, mkdirSync, rmSync, existsSync, mkdtempSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { makePayload, median, machineInfo, hasTaskset, parseArgs, loadAverage, machineBusySeconds, treeCpuSeconds } from './lib/common.mjs'
import { renderReport, renderCellTables, evaluateTargets, summarize, loadResults, CLIENTS } from './lib/report.mjs'
import { extractFleetSection } from './lib/fleet-report.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(here, '..')
const EMULATOR = path.join(ROOT, 'bin', 'wx-media-emulator.js')
const SINK = path.join(here, 'lib', 'sink.mjs')
const RESULTS = path.join(here, 'results')

const args = parseArgs(process.argv.slice(2))
if (args.fleet) {
  // `npm run bench -- --fleet`: tokens and media across a fleet of processes (bench/fleet.mjs).
  const { main } = await import('./fleet.mjs')
  process.exit(await main(process.argv.slice(2)))
}
const smoke = !!args.smoke
const SIZES = { '16k': 16 * 1024, '64k': 64 * 1024, '1m': 1024 * 1024, '8m': 8 * 1024 * 1024 }
const sizeArg = (s) => SIZES[String(s).toLowerCase()] ?? Number(s)
const list = (v, d) => (v === undefined || v === true ? d : String(v).split(',').map((x) => x.trim()).filter(Boolean))

const cfg = {
  sizes: list(args.sizes, smoke ? ['16k'] : ['16k', '1m', '8m']).map(sizeArg),
  concurrency: list(args.concurrency, ['1', '16']).map(Number),
  clients: list(args.clients, smoke ? ['wx-media', 'raw'] : CLIENTS.map((c) => c.id)),
  reps: Number(args.reps ?? (smoke ? 1 : 3)),
  windowMs: Number(args.window ?? (smoke ? 1000 : 3000)),
  warmupMs: Number(args.warmup ?? (smoke ? 200 : 700)),
  max: Number(args.max ?? 200000),
  server: String(args.server ?? 'auto'),
  pin: args.pin !== false && hasTaskset(),
  extras: args.extras !== false && !smoke,
  soak: args.soak !== false && !smoke,
  soakCount: Number(args['soak-count'] ?? 100000),
  soakBudgetMs: Number(args['soak-budget'] ?? 600000),
  requireRuns: Number(args['require-runs'] ?? 9),
  latencyCalls: Number(args['latency-calls'] ?? 1000),
  // Smoke is strict: CI must notice when wx-media (or any client) stops loading.
  strict: args.strict === undefined ? smoke : args.strict !== false,
  // Before each run, wait (up to this many seconds) until other processes use < 25 % of a core.
  quietWaitS: Number(args['quiet-wait'] ?? (smoke ? 0 : 30)),
  quietBudgetS: Number(args['quiet-budget'] ?? 300), // total waiting allowed over the whole run
  out: args.out ? path.resolve(String(args.out)) : (smoke ? null : path.join(ROOT, 'BENCHMARKS.md'))
}
for (const c of cfg.clients) {
  if (!CLIENTS.some((k) => k.id === c)) { console.error(`unknown client ${c}; known: ${CLIENTS.map((k) => k.id).join(', ')}`); process.exit(2) }
}
const sizeLabel = (n) => n >= 2 ** 20 ? `${n / 2 ** 20} MiB` : `${n / 1024} KiB`
const cellKey = (size, c) => `${sizeLabel(size).replace(' ', '')}-c${c}`
const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length])
// The fleet section (`--fleet`, bench/fleet.mjs) survives a rewrite of the main report.
const keptFleetSection = (file) => {
  const kept = existsSync(file) ? extractFleetSection(readFileSync(file, 'utf8')) : ''
  return kept ? `\n${kept}` : ''
}

if (args['report-from']) {
  // Rebuild the Markdown report from a results file, without running anything.
  const file = path.resolve(String(args['report-from']))
  const r = loadResults(file)
  const cells = []
  for (const size of r.cfg.sizes) for (const c of r.cfg.concurrency) cells.push({ size, concurrency: c, key: cellKey(size, c), label: `${sizeLabel(size)}, concurrency ${c}` })
  const summary = summarize(r.runs, cells, r.cfg.clients, r.unavailable)
  const targets = evaluateTargets(summary, cells, r.extras)
  if (!r.meta.otherCpu) {
    const others = r.runs.filter((x) => x.ok && typeof x.otherCpuPct === 'number').map((x) => x.otherCpuPct)
    r.meta.otherCpu = { median: median(others), max: others.length ? Math.max(...others) : NaN, disturbed: others.filter((x) => x > 25).length, runs: others.length }
  }
  if (!r.meta.durationS && r.runs.length) r.meta.durationS = Math.round((Date.parse(r.runs[r.runs.length - 1].ts) - Date.parse(r.meta.date)) / 1000)
  const out = args.out ? path.resolve(String(args.out)) : path.join(ROOT, 'BENCHMARKS.md')
  writeFileSync(out, renderReport({ meta: r.meta, cfg: { ...r.cfg, requireRuns: r.cfg.requireRuns }, cells, summary, targets, extras: r.extras, unavailable: r.unavailable, aborted: r.aborted, jsonlPath: path.relative(ROOT, file) }) + keptFleetSection(out))
  console.log(`wrote ${path.relative(process.cwd(), out)} from ${path.relative(process.cwd(), file)}`)
  process.exit(0)
}
const SERVER_CPU = '0'
const CLIENT_CPU = '1'

// ---------- child process bookkeeping: everything we start is killed on the way out ----------
const children = new Set()
function track (child) {
  children.add(child)
  child.on('exit', () => children.delete(child))
  return child
}
function killAll (sig) { for (const c of children) { try { c.kill(sig) } catch {} } }
process.on('exit', () => killAll('SIGKILL'))
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { console.error(`\n${sig}: stopping children`); killAll('SIGTERM'); setTimeout(() => process.exit(130), 300) })
}

function pinned (cpu, argv) {
  return cfg.pin && cpu != null ? ['taskset', ['-c', cpu, ...argv]] : [argv[0], argv.slice(1)]
}

/** Runs a node script in a fresh (optionally pinned) process; resolves with its last JSON line. */
function runNode (script, scriptArgs, { cpu = CLIENT_CPU, timeoutMs = 120000, env = {}, nodeArgs = [] } = {}) {
  return new Promise((resolve) => {
    const [cmd, argv] = pinned(cpu, [process.execPath, ...nodeArgs, script, ...scriptArgs])
    const child = track(spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }))
    let out = ''
    let err = ''
    let timedOut = false
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d; if (err.length > 20000) err = err.slice(-10000) })
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, timeoutMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      let json = null
      for (const line of out.trim().split('\n').reverse()) {
        if (line.startsWith('{')) { try { json = JSON.parse(line); break } catch {} }
      }
      if (!json) json = { ok: false, error: timedOut ? `killed after ${timeoutMs} ms` : `no result line (exit ${code ?? signal}): ${err.trim().split('\n').slice(-3).join(' | ')}` }
      resolve({ code, signal, json, stderr: err })
    })
  })
}

// ---------- the server ----------
async function startServer (kind, { lean = true } = {}) {
  const argv = kind === 'emulator'
    ? [process.execPath, EMULATOR, '--port', '0', ...(lean ? ['--lean'] : [])]
    : [process.execPath, SINK, '--port', '0']
  const [cmd, cargs] = pinned(SERVER_CPU, argv)
  const child = track(spawn(cmd, cargs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }))
  const log = createWriteStream(path.join(RESULTS, `server-${kind}.log`), { flags: 'a' })
  child.stderr.pipe(log)
  const info = await new Promise((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => reject(new Error(`${kind} did not print its URL within 20 s`)), 20000)
    const onData = (d) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      child.stdout.off('data', onData)
      child.stdout.resume()
      try { resolve(JSON.parse(buf.slice(0, nl))) } catch (e) { reject(new Error(`${kind} printed no JSON line: ${buf.slice(0, 200)}`)) }
    }
    child.stdout.on('data', onData)
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${kind} exited (${code}) before printing its URL; see bench/results/server-${kind}.log`)) })
  })
  if (!info.url || !info.appid || !info.secret) throw new Error(`${kind} printed ${JSON.stringify(info)}: url, appid and secret are needed`)
  const desc = kind === 'emulator' ? `bin/wx-media-emulator.js --port 0${lean ? ' --lean' : ''}` : 'bench/lib/sink.mjs (Node stand-in: the emulator bin was missing)'
  return { kind, child, pid: child.pid, info, desc, alive: () => child.exitCode === null && child.signalCode === null }
}

async function stopServer (srv) {
  if (!srv || !srv.alive()) return
  const gone = new Promise((resolve) => srv.child.once('exit', resolve))
  srv.child.kill('SIGTERM')
  const t = await Promise.race([gone.then(() => 'ok'), sleep(3000).then(() => 'late')])
  if (t === 'late') { srv.child.kill('SIGKILL'); await gone }
}

// ---------- helpers ----------
function gitDescribe () {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const branch = execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() ? '+uncommitted changes' : ''
    return `${branch}@${sha}${dirty}`
  } catch { return 'unknown' }
}
function pkgVersions () {
  const v = {}
  for (const p of ['axios', 'form-data', 'request', 'got', 'undici', 'co-wechat-api', 'wx-server-sdk']) {
    try { v[p] = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', p, 'package.json'), 'utf8')).version } catch { v[p] = 'missing' }
  }
  try { v['wx-media'] = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version } catch {}
  v['node:undici (fetch)'] = process.versions.undici ?? '?'
  return v
}
/** CPU (% of one core) used by processes other than the server over a short sample. */
async function backgroundCpuPct (ms = 500) {
  const b0 = machineBusySeconds(); const s0 = treeCpuSeconds(srv.pid); const me0 = process.cpuUsage()
  await sleep(ms)
  const me = process.cpuUsage(me0)
  return Math.max(0, ((machineBusySeconds() - b0) - (treeCpuSeconds(srv.pid) - s0) - (me.user + me.system) / 1e6) * 100 / (ms / 1000))
}
let waitedS = 0
async function waitQuiet () {
  if (!cfg.quietWaitS || waitedS >= cfg.quietBudgetS) return
  const t = Date.now()
  let pct = await backgroundCpuPct()
  const limit = Math.min(cfg.quietWaitS, cfg.quietBudgetS - waitedS) * 1000
  while (pct > 25 && Date.now() - t < limit) {
    if (Date.now() - t < 600) console.log(`  (waiting for the machine to be quiet: ${pct.toFixed(0)} % of a core busy elsewhere)`)
    await sleep(1000)
    pct = await backgroundCpuPct()
  }
  waitedS += (Date.now() - t) / 1000
}
const fmtEta = (s) => s >= 90 ? `${Math.round(s / 60)} min` : `${Math.round(s)} s`

// ---------- main ----------
mkdirSync(RESULTS, { recursive: true })
const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')
const jsonlPath = path.join(RESULTS, `${smoke ? 'smoke' : 'bench'}-${stamp}.jsonl`)
const jsonl = createWriteStream(jsonlPath)
const record = (obj) => jsonl.write(JSON.stringify(obj) + '\n')
const tmp = mkdtempSync(path.join(os.tmpdir(), 'wx-media-bench-'))
process.on('exit', () => { try { rmSync(tmp, { recursive: true, force: true }) } catch {} })

const meta = {
  ...machineInfo(),
  git: gitDescribe(),
  pinned: cfg.pin,
  serverCpu: cfg.pin ? SERVER_CPU : null,
  clientCpu: cfg.pin ? CLIENT_CPU : null,
  windowMs: cfg.windowMs,
  warmupMs: cfg.warmupMs,
  reps: cfg.reps,
  versions: pkgVersions(),
  loadavgStart: loadAverage(),
  smoke
}

let serverKind = cfg.server
if (serverKind === 'auto') {
  serverKind = existsSync(EMULATOR) ? 'emulator' : 'sink'
  if (serverKind === 'sink') console.error('!! bin/wx-media-emulator.js is missing: using the Node stand-in bench/lib/sink.mjs (numbers are not the real thing)')
}
const t0All = Date.now()
let srv
try {
  srv = await startServer(serverKind)
} catch (e) {
  console.error(`cannot start the server: ${e.message}`)
  process.exit(1)
}
meta.server = srv.desc
record({ kind: 'meta', ...meta, cfg })
console.log(`server: ${srv.desc} at ${srv.info.url} (pid ${srv.pid})${cfg.pin ? `, pinned to CPU ${SERVER_CPU}; clients on CPU ${CLIENT_CPU}` : ', not pinned'}`)

const payloads = {}
for (const size of new Set([...cfg.sizes])) {
  const f = path.join(tmp, `payload-${size}.png`)
  writeFileSync(f, makePayload(size))
  payloads[size] = f
}

const cells = []
for (const size of cfg.sizes) for (const c of cfg.concurrency) cells.push({ size, concurrency: c, key: cellKey(size, c), label: `${sizeLabel(size)}, concurrency ${c}` })
const runs = [] // every run's JSON
const unavailable = new Map() // client -> reason
let failures = 0
const perRunS = (cfg.warmupMs + cfg.windowMs) / 1000 + 0.8
console.log(`matrix: ${cells.length} cells × ${cfg.reps} reps × ${cfg.clients.length} clients, window ${cfg.windowMs} ms; about ${fmtEta(cells.length * cfg.reps * cfg.clients.length * perRunS)}${cfg.extras ? ' + extras' : ''}`)

async function runClient (client, cell, rep, extra = {}) {
  const a = [
    '--client', client, '--url', srv.info.url, '--appid', srv.info.appid, '--secret', srv.info.secret,
    '--env', srv.info.env ?? '', '--size', String(cell.size), '--concurrency', String(cell.concurrency),
    '--window', String(extra.windowMs ?? cfg.windowMs), '--warmup', String(extra.warmupMs ?? cfg.warmupMs),
    '--max', String(cfg.max), '--server-pid', String(srv.pid), '--payload', payloads[cell.size]
  ]
  const r = await runNode(path.join(here, 'run-client.mjs'), a, { timeoutMs: cfg.warmupMs + cfg.windowMs + 90000 })
  return { ...r.json, exit: r.code, stderrTail: r.json.ok ? undefined : r.stderr.trim().split('\n').slice(-5).join('\n') }
}

// A short unrecorded run so the first measured client does not meet a cold server.
if (cfg.clients.includes('raw') || !smoke) await runClient('raw', { size: cfg.sizes[0], concurrency: Math.max(...cfg.concurrency) }, -1, { windowMs: smoke ? 300 : 1000, warmupMs: 100 })

let aborted = null
outer:
for (let ci = 0; ci < cells.length; ci++) {
  const cell = cells[ci]
  for (let rep = 0; rep < cfg.reps; rep++) {
    const order = rotate(cfg.clients, rep + ci)
    for (const client of order) {
      if (unavailable.has(client)) continue
      await waitQuiet()
      if (!srv.alive()) { aborted = `the server (pid ${srv.pid}) died; see bench/results/server-${srv.kind}.log`; break outer }
      const r = await runClient(client, cell, rep)
      const row = { kind: 'run', cell: cell.key, rep, ...r, client, size: cell.size, concurrency: cell.concurrency, ts: new Date().toISOString() }
      runs.push(row)
      record(row)
      if (r.available === false) {
        unavailable.set(client, r.error)
        console.log(`  ${cell.key} rep ${rep + 1}/${cfg.reps} ${client.padEnd(14)} not available: ${r.error}`)
        continue
      }
      if (!r.ok) {
        failures++
        console.log(`  ${cell.key} rep ${rep + 1}/${cfg.reps} ${client.padEnd(14)} FAILED: ${r.error}${r.stderrTail ? `\n    ${r.stderrTail.replace(/\n/g, '\n    ')}` : ''}`)
        continue
      }
      console.log(`  ${cell.key} rep ${rep + 1}/${cfg.reps} ${client.padEnd(14)} ${r.uploadsPerSec.toFixed(0).padStart(6)} up/s  cpu ${r.cpuMsPerUpload.toFixed(3)} ms/up  rss ${r.maxRssMB.toFixed(0)} MiB  eld p99 ${r.eldP99Ms.toFixed(2)} ms  server ${r.serverCpuPct == null ? '-' : r.serverCpuPct.toFixed(0) + '%'}  other ${r.otherCpuPct == null ? '-' : r.otherCpuPct.toFixed(0) + '%'}`)
    }
  }
}

// ---------- medians ----------
const summary = summarize(runs, cells, cfg.clients, unavailable)
for (const cell of cells) {
  for (const s of Object.values(summary[cell.key])) record({ kind: 'summary', cell: cell.key, size: cell.size, concurrency: cell.concurrency, ...s })
}

// ---------- extras: require time, getTempFileURL latency, soak ----------
const extras = {}
if (cfg.extras && !aborted) {
  console.log('require() time (fresh process each) ...')
  const sets = ['wx-media', 'axios+form-data', 'wx-server-sdk', 'co-wechat-api']
  const times = Object.fromEntries(sets.map((s) => [s, []]))
  const errors = {}
  for (let i = 0; i < cfg.requireRuns; i++) {
    for (const s of rotate(sets, i)) {
      const r = await runNode(path.join(here, 'require-time.mjs'), [s], { timeoutMs: 30000, env: { TENCENTCLOUD: 'true' } })
      if (typeof r.json.ms === 'number') times[s].push(r.json.ms)
      else errors[s] = r.json.error || r.stderr.trim().split('\n').slice(-2).join(' ')
    }
  }
  extras.require = sets.map((s) => ({ set: s, runs: times[s].length, medianMs: median(times[s]), minMs: Math.min(...times[s]), error: errors[s] }))
  for (const x of extras.require) { record({ kind: 'require', ...x }); console.log(`  ${x.set.padEnd(16)} ${Number.isFinite(x.medianMs) ? x.medianMs.toFixed(1) + ' ms' : 'n/a ' + (x.error || '')}`) }

  console.log('getTempFileURL latency through wx-media ...')
  let lat = (await runNode(path.join(here, 'storage-latency.mjs'), ['--url', srv.info.url, '--appid', srv.info.appid, '--secret', srv.info.secret, '--env', srv.info.env ?? '', '--calls', String(cfg.latencyCalls)], { timeoutMs: 120000 })).json
  lat.server = srv.desc
  if (!lat.ok && lat.available !== false && srv.kind === 'emulator') {
    // --lean may not keep stored objects: retry once against a full (recording) emulator.
    console.log(`  lean emulator: ${lat.error}; retrying against a non-lean emulator`)
    const full = await startServer('emulator', { lean: false })
    try {
      lat = (await runNode(path.join(here, 'storage-latency.mjs'), ['--url', full.info.url, '--appid', full.info.appid, '--secret', full.info.secret, '--env', full.info.env ?? '', '--calls', String(cfg.latencyCalls)], { timeoutMs: 120000 })).json
      lat.server = full.desc
    } finally { await stopServer(full) }
  }
  extras.latency = lat
  record({ ...lat, kind: 'getTempFileURL' })
  console.log(lat.ok ? `  p50 ${lat.p50Ms.toFixed(3)} ms, p99 ${lat.p99Ms.toFixed(3)} ms over ${lat.calls} calls` : `  n/a: ${lat.error}`)

  if (cfg.soak) {
    console.log(`soak: ${cfg.soakCount} uploads of 64 KiB at concurrency 16 through wx-media (budget ${fmtEta(cfg.soakBudgetMs / 1000)}) ...`)
    const r = await runNode(path.join(here, 'soak.mjs'), ['--url', srv.info.url, '--appid', srv.info.appid, '--secret', srv.info.secret, '--count', String(cfg.soakCount), '--budget', String(cfg.soakBudgetMs)], { nodeArgs: ['--expose-gc'], timeoutMs: cfg.soakBudgetMs + 120000 })
    extras.soak = r.json
    record({ ...r.json, kind: 'soak' })
    if (r.json.available === false) console.log(`  not available: ${r.json.error}`)
    else if (r.json.uploads) console.log(`  ${r.json.uploads} uploads in ${r.json.seconds} s; RSS ${r.json.rssAtFirstMarkMB?.toFixed(1)} → ${r.json.rssEndMB.toFixed(1)} MiB; fds ${r.json.fdsStart} → ${r.json.fdsEnd}${r.json.ok ? '' : `; ${r.json.error}`}`)
    else console.log(`  failed: ${r.json.error}`)
    if (r.json.available !== false && !r.json.ok) failures++
  } else extras.soak = { skipped: true }
}

await stopServer(srv)
meta.durationS = Math.round((Date.now() - t0All) / 1000)
const others = runs.filter((r) => r.ok && typeof r.otherCpuPct === 'number').map((r) => r.otherCpuPct)
meta.quietWaitS = Math.round(waitedS)
meta.otherCpu = { median: median(others), max: others.length ? Math.max(...others) : NaN, disturbed: others.filter((x) => x > 25).length, runs: others.length }
const targets = evaluateTargets(summary, cells, extras)
record({ kind: 'meta-end', durationS: meta.durationS, quietWaitS: meta.quietWaitS, otherCpu: meta.otherCpu, aborted })
record({ kind: 'targets', targets })
await new Promise((resolve) => jsonl.end(resolve))

const tables = renderCellTables(summary, cells, cfg.clients, targets)
if (cfg.out) {
  writeFileSync(cfg.out, renderReport({ meta, cfg, cells, summary, targets, extras, unavailable, aborted, jsonlPath: path.relative(ROOT, jsonlPath) }) + keptFleetSection(cfg.out))
  console.log(`\nwrote ${path.relative(process.cwd(), cfg.out) || cfg.out}`)
}
if (cfg.out && cfg.extras && !aborted && args.url !== false) {
  // Seed 000 (upload from a URL) has its own runner; it adds its section to the report.
  console.log('\nupload from URL (bench/url-flow.mjs) ...')
  const r = await new Promise((resolve) => {
    const child = track(spawn(process.execPath, [path.join(here, 'url-flow.mjs'), '--out', cfg.out], { cwd: ROOT, stdio: 'inherit' }))
    child.on('close', resolve)
  })
  if (r !== 0) failures++
}
if (smoke) {
  writeFileSync(path.join(RESULTS, 'smoke.md'), `# bench smoke (${meta.date})\n\nserver: ${meta.server}\n\n${tables}`)
}
console.log(`\n${tables}`)
console.log(`results: ${path.relative(process.cwd(), jsonlPath)}  (${meta.durationS} s)`)
for (const [c, why] of unavailable) console.log(`note: ${c} not available (${why})`)
if (aborted) { console.error(`ABORTED: ${aborted}`); process.exit(1) }
if (failures) { console.error(`${failures} run(s) failed verification or did not finish`); process.exit(1) }
if (cfg.strict && unavailable.size) { console.error('--strict: some clients were not available'); process.exit(1) }
process.exit(0)
