// Fleet bench (`npm run bench -- --fleet`, dispatched from bench/index.mjs; see bench/README.md).
//
// One emulator (`bin/wx-media-emulator.js --lean`) and one redis-server, each its own process
// (pinned to CPU 0 with taskset), and fleets of fresh processes (bench/fleet-worker.mjs, pinned to
// CPU 1) released at once:
//   1. token cold start: N = 2, 8, 32 processes × 20 concurrent uploads; no store, tokenStore
//      hooks on Redis (ioredis), tokenStore { redis };
//   2. repeated image: the same image 1000 times across 8 processes; no cache, mediaCache: true,
//      mediaCache { redis };
//   3. Redis overhead: warm sequential uploads in one process, tokenStore { redis } vs none.
// Counts come from the emulator's /__emulator/stats. Writes bench/results/fleet-*.jsonl and the
// "## Fleet" section of BENCHMARKS.md (only that section).
import { spawn, execFileSync } from 'node:child_process'
import { createWriteStream, writeFileSync, readFileSync, mkdirSync, mkdtempSync, rmSync, existsSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { makePayload, quantile, machineInfo, hasTaskset, parseArgs, loadAverage, machineBusySeconds, treeCpuSeconds, clockTicks } from './lib/common.mjs'
import { startRedisServer, redisVersion } from './lib/redis-server.mjs'
import { renderFleetSection, replaceFleetSection, evaluateFleetTargets, loadFleetResults } from './lib/fleet-report.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(here, '..')
const EMULATOR = path.join(ROOT, 'bin', 'wx-media-emulator.js')
const WORKER = path.join(here, 'fleet-worker.mjs')
const RESULTS = path.join(here, 'results')
const SERVER_CPU = '0'
const FLEET_CPU = '1'
const now = () => performance.timeOrigin + performance.now()
const list = (v, d) => (v === undefined || v === true ? d : String(v).split(',').map((x) => x.trim()).filter(Boolean))

export const STORES = ['none', 'hooks', 'redis']
export const CACHES = ['none', 'memory', 'redis']

export async function main (argv) {
  const args = parseArgs(argv)
  const smoke = !!args.smoke
  const cfg = {
    ns: list(args.n, smoke ? ['2'] : ['2', '8', '32']).map(Number),
    callsPerProcess: Number(args.calls ?? 20),
    reps: Number(args.reps ?? (smoke ? 1 : 3)),
    repeatProcs: Number(args['repeat-procs'] ?? (smoke ? 2 : 8)),
    repeatTotal: Number(args['repeat-total'] ?? (smoke ? 100 : 1000)),
    repeatConcurrency: Number(args['repeat-concurrency'] ?? 16),
    repeatReps: Number(args['repeat-reps'] ?? (smoke ? 1 : 3)),
    overheadCalls: Number(args['overhead-calls'] ?? (smoke ? 200 : 2000)),
    overheadWarmup: Number(args['overhead-warmup'] ?? (smoke ? 50 : 200)),
    overheadBlock: Number(args['overhead-block'] ?? (smoke ? 20 : 100)),
    payloadBytes: Number(args.size ?? 1024),
    tokenMode: args['token-mode'] ? String(args['token-mode']) : null,
    pin: args.pin !== false && hasTaskset(),
    out: args.out ? path.resolve(String(args.out)) : (smoke ? null : path.join(ROOT, 'BENCHMARKS.md'))
  }
  if (args['report-from']) {
    const file = path.resolve(String(args['report-from']))
    const r = loadFleetResults(file)
    const out = cfg.out || path.join(ROOT, 'BENCHMARKS.md')
    const section = renderFleetSection({ ...r, jsonlPath: path.relative(ROOT, file) })
    writeFileSync(out, replaceFleetSection(existsSync(out) ? readFileSync(out, 'utf8') : '', section))
    console.log(`wrote the fleet section of ${path.relative(process.cwd(), out)} from ${path.relative(process.cwd(), file)}`)
    return 0
  }
  if (cfg.repeatTotal % cfg.repeatProcs !== 0) { console.error('--repeat-total must be a multiple of --repeat-procs'); return 2 }
  if (!redisVersion()) { console.error('redis-server is not installed (apt-get install redis-server)'); return 1 }

  // ---------- everything we start is stopped on the way out ----------
  const children = new Set()
  const track = (c) => { children.add(c); c.on('exit', () => children.delete(c)); return c }
  const killAll = (sig) => { for (const c of children) { try { c.kill(sig) } catch {} } }
  process.on('exit', () => killAll('SIGKILL'))
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { console.error(`\n${sig}: stopping children`); killAll('SIGKILL'); process.exit(130) })
  const pinned = (cpu, argv) => (cfg.pin ? ['taskset', ['-c', cpu, ...argv]] : [argv[0], argv.slice(1)])

  mkdirSync(RESULTS, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')
  const jsonlPath = path.join(RESULTS, `fleet-${smoke ? 'smoke-' : ''}${stamp}.jsonl`)
  const jsonl = createWriteStream(jsonlPath)
  const record = (obj) => jsonl.write(JSON.stringify(obj) + '\n')
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'wx-media-fleet-'))
  process.on('exit', () => { try { rmSync(tmp, { recursive: true, force: true }) } catch {} })
  const payloadPath = path.join(tmp, 'image.png')
  writeFileSync(payloadPath, makePayload(cfg.payloadBytes))

  const t0All = Date.now()
  const meta = { ...machineInfo(), git: gitDescribe(), build: addonBuild(), pinned: cfg.pin, serverCpu: cfg.pin ? SERVER_CPU : null, fleetCpu: cfg.pin ? FLEET_CPU : null, loadavgStart: loadAverage(), redis: redisVersion(), ioredis: pkgVersion('ioredis'), smoke }

  // ---------- servers ----------
  const emu = await startEmulator(pinned, track)
  const redis = await startRedisServer({ cpu: cfg.pin ? SERVER_CPU : null, track })
  meta.server = 'bin/wx-media-emulator.js --port 0 --lean'
  record({ kind: 'meta', ...meta, cfg })
  console.log(`fleet bench: emulator ${emu.info.url} (pid ${emu.pid}), redis-server ${meta.redis} ${redis.url} (pid ${redis.pid})${cfg.pin ? `, both on CPU ${SERVER_CPU}; fleet processes on CPU ${FLEET_CPU}` : ', not pinned'}; ${meta.build}`)
  const control = async (method, route) => {
    const res = await fetch(`${emu.info.url}/__emulator/${route}`, { method })
    if (!res.ok) throw new Error(`/__emulator/${route}: HTTP ${res.status}`)
    return res.json()
  }
  const fresh = async () => { redis.cli('FLUSHALL'); await control('POST', 'reset') }
  const counts = async () => {
    const s = await control('GET', 'stats')
    const q = s.requests || {}
    return { tokenFetches: (q['/cgi-bin/token'] || 0) + (q['/cgi-bin/stable_token'] || 0), uploads: q['/cgi-bin/media/upload'] || 0 }
  }

  // ---------- what this build offers (a construction error means "not available") ----------
  const skipped = {}
  const probe = probeFeatures(emu.info, redis.url)
  for (const [variant, why] of Object.entries(probe)) {
    if (why) { skipped[variant] = why; record({ kind: 'skipped', variant, reason: why }); console.log(`  ${variant}: skipped (${why})`) }
  }
  if (skipped['store:redis']) { console.error(`tokenStore { redis } is not available: ${skipped['store:redis']}`); return 1 }

  const base = { url: emu.info.url, appid: emu.info.appid, secret: emu.info.secret, redisUrl: redis.url, payload: payloadPath, tokenMode: cfg.tokenMode }
  let failures = 0

  /** Spawns `n` workers, waits until all are ready, releases them at once, collects results. */
  async function fleet (n, workerOpts, timeoutMs = 180000) {
    const cpu0 = ourCpu(); const busy0 = machineBusySeconds()
    const spawnAt = now()
    const kids = []
    for (let i = 0; i < n; i++) {
      const [cmd, a] = pinned(FLEET_CPU, [process.execPath, WORKER, JSON.stringify({ ...base, ...workerOpts })])
      kids.push(spawnWorker(track(spawn(cmd, a, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] }))))
    }
    const timer = setTimeout(() => { for (const k of kids) k.child.kill('SIGKILL') }, timeoutMs)
    try {
      const ready = await Promise.all(kids.map((k) => k.next()))
      const unavailable = ready.find((r) => r.available === false)
      const broken = ready.find((r) => !r.ready && r.available !== false)
      if (unavailable || broken) {
        for (const k of kids) k.child.kill('SIGKILL')
        return unavailable ? { unavailable: unavailable.error } : { error: broken.error || 'a worker did not start' }
      }
      const readyAt = now()
      for (const k of kids) k.child.stdin.write('go\n')
      const results = await Promise.all(kids.map((k) => k.next()))
      await Promise.all(kids.map((k) => k.exited))
      const bad = results.find((r) => !r.result)
      const cpu = ourCpu() - cpu0; const busy = machineBusySeconds() - busy0
      const secs = (now() - spawnAt) / 1000
      const otherCpuPct = Math.max(0, (busy - cpu) * 100 / secs)
      if (bad) return { error: bad.error || 'a worker gave no result' }
      return { spawnAt, readyAt, results: results.map((r) => r.result), otherCpuPct }
    } finally { clearTimeout(timer) }
  }

  // ---------- 1. token cold start ----------
  console.log(`\n1. token cold start: N = ${cfg.ns.join(', ')} processes × ${cfg.callsPerProcess} concurrent uploads, ${cfg.reps} run(s) each`)
  for (const n of cfg.ns) {
    for (let rep = 0; rep < cfg.reps; rep++) {
      for (const store of rotate(STORES, rep)) {
        if (skipped[`store:${store}`]) continue
        await fresh()
        const f = await fleet(n, { mode: 'upload', store, calls: cfg.callsPerProcess, concurrency: cfg.callsPerProcess })
        if (f.unavailable) { skipped[`store:${store}`] = f.unavailable; record({ kind: 'skipped', variant: `store:${store}`, reason: f.unavailable }); continue }
        const c = await counts()
        const row = coldRow(n, store, rep, f, c)
        record(row)
        if (row.error || row.failures) failures++
        console.log(`  N=${String(n).padStart(2)} ${store.padEnd(5)} rep ${rep + 1}: ${row.error ? `FAILED: ${row.error}` : `${row.tokenFetches} token fetch(es), spawn→first ${row.spawnToFirstMs.toFixed(0)} ms (go→first ${row.goToFirstMs.toFixed(1)} ms), p99 ${row.p99Ms.toFixed(1)} ms, ${row.failures} failure(s)${row.failures ? ': ' + row.errors.join('; ') : ''}, other CPU ${row.otherCpuPct.toFixed(0)} %`}`)
      }
    }
  }

  // ---------- 2. repeated image ----------
  const per = cfg.repeatTotal / cfg.repeatProcs
  console.log(`\n2. repeated image: ${cfg.repeatTotal} uploads of one image across ${cfg.repeatProcs} processes (${per} each, ${cfg.repeatConcurrency} in flight), ${cfg.repeatReps} run(s) each`)
  for (let rep = 0; rep < cfg.repeatReps; rep++) {
    for (const cache of rotate(CACHES, rep)) {
      if (skipped[`cache:${cache}`]) continue
      await fresh()
      const f = await fleet(cfg.repeatProcs, { mode: 'upload', store: 'none', mediaCache: cache === 'none' ? null : cache, calls: per, concurrency: cfg.repeatConcurrency })
      if (f.unavailable) { skipped[`cache:${cache}`] = f.unavailable; record({ kind: 'skipped', variant: `cache:${cache}`, reason: f.unavailable }); continue }
      const c = await counts()
      const row = repeatRow(cache, rep, f, c, cfg.repeatTotal)
      record(row)
      if (row.error || row.failures) failures++
      console.log(`  ${cache.padEnd(6)} rep ${rep + 1}: ${row.error ? `FAILED: ${row.error}` : `${row.uploads} upload request(s), quota saved ${row.quotaSaved}, wall ${row.wallMs.toFixed(0)} ms, ${row.distinctMediaIds} distinct mediaId(s), ${row.cached} cached result(s), ${row.failures} failure(s)${row.failures ? ': ' + row.errors.join('; ') : ''}`}`)
    }
  }

  // ---------- 3. Redis overhead ----------
  console.log(`\n3. Redis overhead: ${cfg.overheadCalls} warm sequential uploads per client after ${cfg.overheadWarmup} warm-up, blocks of ${cfg.overheadBlock} (ABBA)`)
  await fresh()
  const redisCommands = () => Number(/total_commands_processed:(\d+)/.exec(redis.cli('INFO', 'stats'))?.[1] ?? NaN)
  const cmd0 = redisCommands()
  const o = await fleet(1, { mode: 'overhead', calls: cfg.overheadCalls, warmup: cfg.overheadWarmup, block: cfg.overheadBlock }, 600000)
  // Commands Redis served during the whole overhead run (warm-up included; INFO itself counts 1).
  const redisCommandsServed = redisCommands() - cmd0 - 1
  const orow = o.error ? { kind: 'overhead', error: o.error } : { kind: 'overhead', ...o.results[0], redisCommands: redisCommandsServed, otherCpuPct: o.otherCpuPct }
  if (orow.error || orow.failure) failures++
  else { orow.diffP50Ms = orow.B.p50 - orow.A.p50; orow.diffP99Ms = orow.B.p99 - orow.A.p99; orow.diffMeanMs = orow.B.mean - orow.A.mean }
  record(orow)
  console.log(orow.error || orow.failure ? `  FAILED: ${orow.error || orow.failure}` : `  no store p50 ${orow.A.p50.toFixed(3)} ms p99 ${orow.A.p99.toFixed(3)} ms; { redis } p50 ${orow.B.p50.toFixed(3)} ms p99 ${orow.B.p99.toFixed(3)} ms; difference p50 ${orow.diffP50Ms.toFixed(3)} ms`)

  await emu.stop()
  await redis.stop()
  meta.durationS = Math.round((Date.now() - t0All) / 1000)
  meta.loadavgEnd = loadAverage()
  record({ kind: 'meta-end', durationS: meta.durationS, loadavgEnd: meta.loadavgEnd })
  await new Promise((resolve) => jsonl.end(resolve))

  const r = loadFleetResults(jsonlPath)
  const targets = evaluateFleetTargets(r)
  const section = renderFleetSection({ ...r, jsonlPath: path.relative(ROOT, jsonlPath) })
  if (cfg.out) {
    writeFileSync(cfg.out, replaceFleetSection(existsSync(cfg.out) ? readFileSync(cfg.out, 'utf8') : '', section))
    console.log(`\nwrote the fleet section of ${path.relative(process.cwd(), cfg.out) || cfg.out}`)
  } else writeFileSync(path.join(RESULTS, 'fleet-smoke.md'), section)
  console.log('\ntargets:')
  for (const t of targets) console.log(`  ${t.pass === true ? '✓' : t.pass === false ? '✗' : '-'} ${t.text}: ${t.measured}`)
  console.log(`results: ${path.relative(process.cwd(), jsonlPath)}  (${meta.durationS} s)`)
  if (failures) { console.error(`${failures} fleet run(s) had failures or did not finish`); return 1 }
  return 0
}

// ---------- pieces ----------
const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length])

function coldRow (n, store, rep, f, c) {
  if (f.error) return { kind: 'cold', n, store, rep, error: f.error }
  const rs = f.results
  const lat = rs.flatMap((r) => r.lat).sort((a, b) => a - b)
  const firsts = rs.map((r) => r.firstSuccessAt).filter((x) => x != null)
  const failures = rs.reduce((a, r) => a + r.failures, 0)
  return {
    kind: 'cold', n, store, rep,
    tokenFetches: c.tokenFetches,
    clientTokenFetches: rs.reduce((a, r) => a + r.tokenFetches, 0),
    uploads: c.uploads,
    calls: lat.length,
    failures,
    errors: rs.flatMap((r) => r.errors).slice(0, 3),
    startupMs: f.readyAt - f.spawnAt,
    spawnToFirstMs: firsts.length ? Math.min(...firsts) - f.spawnAt : NaN,
    goToFirstMs: firsts.length ? Math.min(...firsts) - f.readyAt : NaN,
    goToAllServedMs: firsts.length === rs.length ? Math.max(...firsts) - f.readyAt : NaN,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    ...(store === 'hooks' ? { hookCalls: ['get', 'hit', 'set'].reduce((o, k) => ({ ...o, [k]: rs.reduce((a, r) => a + (r.hookCalls?.[k] || 0), 0) }), {}) } : {}),
    otherCpuPct: f.otherCpuPct,
    ts: new Date().toISOString()
  }
}

function repeatRow (cache, rep, f, c, total) {
  if (f.error) return { kind: 'repeat', cache, rep, error: f.error }
  const rs = f.results
  const lat = rs.flatMap((r) => r.lat).sort((a, b) => a - b)
  const done = Math.max(...rs.map((r) => r.doneAt))
  return {
    kind: 'repeat', cache, rep,
    procs: rs.length,
    total,
    calls: lat.length,
    uploads: c.uploads,
    quotaSaved: total - c.uploads,
    tokenFetches: c.tokenFetches,
    failures: rs.reduce((a, r) => a + r.failures, 0),
    errors: rs.flatMap((r) => r.errors).slice(0, 3),
    distinctMediaIds: new Set(rs.flatMap((r) => r.mediaIds)).size,
    cached: rs.reduce((a, r) => a + r.cached, 0),
    wallMs: done - f.readyAt,
    spawnToDoneMs: done - f.spawnAt,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    otherCpuPct: f.otherCpuPct,
    ts: new Date().toISOString()
  }
}

/** Reads a worker's JSON lines; `next()` resolves the next one ({ error } if it exits first). */
function spawnWorker (child) {
  let buf = ''
  let err = ''
  const lines = []
  const waiting = []
  let gone = false
  const push = (obj) => { const w = waiting.shift(); if (w) w(obj); else lines.push(obj) }
  child.stdout.on('data', (d) => {
    buf += d
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i); buf = buf.slice(i + 1)
      try { push(JSON.parse(line)) } catch { err += line + '\n' }
    }
  })
  child.stderr.on('data', (d) => { err += d; if (err.length > 20000) err = err.slice(-10000) })
  child.stdin.on('error', () => {})
  const exited = new Promise((resolve) => child.on('close', (code, signal) => {
    gone = true
    const why = `worker exited (${code ?? signal}) early: ${err.trim().split('\n').slice(-3).join(' | ')}`
    while (waiting.length) waiting.shift()({ error: why })
    lines.push({ error: why })
    resolve()
  }))
  return { child, exited, next: () => (lines.length ? Promise.resolve(lines.shift()) : gone ? Promise.resolve({ error: 'worker gone' }) : new Promise((resolve) => waiting.push(resolve))) }
}

async function startEmulator (pinned, track) {
  const [cmd, a] = pinned(SERVER_CPU, [process.execPath, EMULATOR, '--port', '0', '--lean'])
  const child = track(spawn(cmd, a, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }))
  child.stderr.pipe(createWriteStream(path.join(RESULTS, 'server-fleet-emulator.log'), { flags: 'a' }))
  const info = await new Promise((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => reject(new Error('the emulator did not print its URL within 20 s')), 20000)
    child.stdout.on('data', (d) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      try { resolve(JSON.parse(buf.slice(0, nl))) } catch { reject(new Error(`the emulator printed no JSON line: ${buf.slice(0, 200)}`)) }
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the emulator exited (${code}); see bench/results/server-fleet-emulator.log`)) })
  })
  return {
    info,
    pid: child.pid,
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      const gone = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      if (await Promise.race([gone.then(() => false), sleep(3000).then(() => true)])) { child.kill('SIGKILL'); await gone }
    }
  }
}

/** Builds (and drops) a client per optional feature; a construction error is the reason to skip. */
function probeFeatures (info, redisUrl) {
  const require = createRequire(import.meta.url)
  let wx
  try { wx = require('..') } catch (e) { return { 'store:redis': `wx-media does not load: ${e.message}` } }
  const base = { appid: info.appid, secret: info.secret, baseUrl: info.url }
  const hooks = { get: async () => null, set: async () => {} }
  const tries = {
    'store:redis': { tokenStore: { redis: redisUrl } },
    'store:hooks': { tokenStore: hooks },
    'cache:memory': { mediaCache: true },
    'cache:redis': { mediaCache: { redis: redisUrl } }
  }
  const names = { 'store:hooks': 'hooks', 'cache:memory': 'mediaCache', 'cache:redis': 'mediaCache' }
  const out = {}
  for (const [k, extra] of Object.entries(tries)) {
    try {
      const c = new wx.WxClient({ ...base, ...extra })
      c.close().catch(() => {})
      out[k] = null
    } catch (e) {
      out[k] = `${names[k] || 'tokenStore { redis }'} not available (${shortError(e)})`
    }
  }
  return out
}

/** "WxClient:fail unknown option 'mediaCache'" out of a construction error. */
function shortError (e) {
  const m = String(e.errMsg || e.message || e).split('\n')[0]
  const i = m.indexOf('errMsg: ')
  return (i >= 0 ? m.slice(i + 8) : m).split(';')[0].slice(0, 160)
}

/** CPU seconds of this process, its reaped children and its live descendants. */
function ourCpu () {
  let reaped = 0
  try {
    const s = readFileSync('/proc/self/stat', 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    reaped = (Number(f[13]) + Number(f[14])) / clockTicks() // cutime + cstime
  } catch {}
  return treeCpuSeconds(process.pid) + reaped
}

function gitDescribe () {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const branch = execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() ? '+uncommitted changes' : ''
    return `${branch}@${sha}${dirty}`
  } catch { return 'unknown' }
}

function pkgVersion (name) {
  try { return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version } catch { return 'missing' }
}

/** "release build" or "debug build" of the addon this run loads (debug builds keep .debug_info). */
function addonBuild () {
  const file = path.join(ROOT, 'wx-media.linux-x64-gnu.node')
  if (!existsSync(file)) return 'addon: wx-media.linux-x64-gnu.node missing (loaded from elsewhere)'
  const mb = (statSync(file).size / 2 ** 20).toFixed(1)
  let kind = 'build'
  try { kind = /\.debug_info/.test(execFileSync('readelf', ['-S', '-W', file], { encoding: 'utf8', maxBuffer: 1 << 24 })) ? 'debug build' : 'release build' } catch {}
  return `${kind} (wx-media.linux-x64-gnu.node, ${mb} MiB)`
}

