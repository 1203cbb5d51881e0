#!/usr/bin/env node
// Runs one client in this (fresh) process: setup (token fetch) → warm-up → timed window at a
// fixed concurrency → drain. Every reply is verified (errcode 0 and a media_id). Prints exactly
// one JSON line on stdout; diagnostics go to stderr. Exit 0 = all replies verified,
// 1 = a failure, 3 = the client is not available.
//
//   node bench/run-client.mjs --client raw --url http://127.0.0.1:PORT --appid A --secret S \
//        --size 16384 --concurrency 16 --window 3000 --max 200000 --warmup 700 [--server-pid N]
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import path from 'node:path'
import { readFileSync } from 'node:fs'
import {
  makePayload, verifyReply, treeCpuSeconds, machineBusySeconds, parseArgs, FILENAME, CONTENT_TYPE
} from './lib/common.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const a = parseArgs(process.argv.slice(2))
const opt = {
  client: String(a.client),
  url: String(a.url),
  appid: String(a.appid),
  secret: String(a.secret),
  env: a.env ? String(a.env) : '',
  size: Number(a.size ?? 16384),
  concurrency: Number(a.concurrency ?? 1),
  windowMs: Number(a.window ?? 3000),
  max: Number(a.max ?? 1e9),
  warmupMs: Number(a.warmup ?? 700),
  warmupMax: Number(a['warmup-max'] ?? 2000),
  serverPid: Number(a['server-pid'] ?? 0),
  timeoutMs: Number(a.timeout ?? 0),
  payloadFile: a.payload ? String(a.payload) : '',
  // Upload-from-URL flow (bench/url-flow.mjs): where the image is served.
  sourceUrl: a['source-url'] ? String(a['source-url']) : ''
}
const base = { client: opt.client, size: opt.size, concurrency: opt.concurrency, pid: process.pid }
let printed = false
function emit (obj, code) {
  if (!printed) { printed = true; process.stdout.write(JSON.stringify({ ...base, ...obj }) + '\n') }
  // Let stdout flush, then leave even if keep-alive sockets or timers are still open.
  process.stdout.write('', () => process.exit(code))
  setTimeout(() => process.exit(code), 2000).unref()
}

const hardLimit = opt.timeoutMs || (opt.warmupMs + opt.windowMs + 60000)
setTimeout(() => {
  emit({ ok: false, error: `runner timed out after ${hardLimit} ms (phase ${phase}, ${done} replies)` }, 1)
}, hardLimit).unref()

// The orchestrator writes one random PNG-looking payload per size and hands every client the same
// file; run alone, the runner makes its own.
const payload = opt.payloadFile ? readFileSync(opt.payloadFile) : makePayload(opt.size)
if (payload.length !== opt.size) throw new Error(`payload ${opt.payloadFile} is ${payload.length} bytes, expected ${opt.size}`)
let phase = 'setup'
let done = 0
let failed = null

let client
try {
  const mod = await import(pathToFileURL(path.join(here, 'clients', `${opt.client}.mjs`)).href)
  client = await mod.setup({ ...opt, payload, filename: FILENAME, contentType: CONTENT_TYPE })
} catch (e) {
  if (e && e.notAvailable) emit({ ok: false, available: false, error: e.message }, 3)
  else emit({ ok: false, error: `setup: ${e && e.stack ? e.stack : e}` }, 1)
  await new Promise(() => {})
}

const eld = monitorEventLoopDelay({ resolution: 1 })
let win = null // { t0, cpu0, srv0, count }
let result = null
let stopping = false
let warmStart = performance.now()
phase = 'warmup'
let warmupCount = 0
let windowTimer = null

function startWindow () {
  phase = 'window'
  win = { count: 0, t0: performance.now(), cpu0: process.cpuUsage(), srv0: treeCpuSeconds(opt.serverPid), busy0: machineBusySeconds() }
  eld.reset()
  eld.enable()
  windowTimer = setTimeout(endWindow, opt.windowMs)
}

function endWindow () {
  if (phase !== 'window') return
  const t1 = performance.now()
  const cpu = process.cpuUsage(win.cpu0)
  const srv1 = treeCpuSeconds(opt.serverPid)
  const busy1 = machineBusySeconds()
  eld.disable()
  clearTimeout(windowTimer)
  phase = 'drain'
  stopping = true
  const secs = (t1 - win.t0) / 1000
  const cpuMs = (cpu.user + cpu.system) / 1000
  result = {
    uploads: win.count,
    windowMs: +(t1 - win.t0).toFixed(1),
    uploadsPerSec: win.count / secs,
    cpuMsPerUpload: win.count ? cpuMs / win.count : NaN,
    cpuUserMs: cpu.user / 1000,
    cpuSysMs: cpu.system / 1000,
    clientCpuPct: (cpuMs / 10) / secs,
    eldP50Ms: eld.percentile(50) / 1e6,
    eldP99Ms: eld.percentile(99) / 1e6,
    eldMaxMs: eld.max / 1e6,
    serverCpuPct: opt.serverPid ? ((srv1 - win.srv0) * 100) / secs : null,
    // CPU used on the machine by anything but this client and the server (other jobs, the
    // orchestrator): if high, the run was disturbed.
    otherCpuPct: opt.serverPid ? Math.max(0, ((busy1 - win.busy0) - (srv1 - win.srv0) - cpuMs / 1000) * 100 / secs) : null,
    mbPerSec: (win.count * opt.size) / 2 ** 20 / secs
  }
}

function onReply () {
  done++
  if (phase === 'warmup') {
    warmupCount++
    if (warmupCount >= opt.warmupMax || (performance.now() - warmStart >= opt.warmupMs && warmupCount >= opt.concurrency)) startWindow()
  } else if (phase === 'window') {
    win.count++
    if (win.count >= opt.max) endWindow()
  }
}

function fail (msg) {
  if (!failed) failed = msg
  stopping = true
}

async function worker () {
  while (!stopping) {
    let r
    try { r = await client.upload() } catch (e) { fail(`upload threw: ${e && e.message ? e.message : e}${e && e.code ? ` (code ${e.code})` : ''}`); return }
    const bad = verifyReply(r)
    if (bad) { fail(bad); return }
    onReply()
  }
}

warmStart = performance.now()
await Promise.all(Array.from({ length: opt.concurrency }, worker))
if (phase === 'window') endWindow()
const ru = process.resourceUsage()
try { await client.close?.() } catch {}
if (failed || !result) {
  emit({ ok: false, error: failed || 'no measured window', verified: done }, 1)
} else {
  emit({ ok: true, ...result, warmupUploads: warmupCount, verified: done, maxRssMB: ru.maxRSS / 1024 }, 0)
}
