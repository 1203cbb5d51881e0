// Shared helpers for the benchmark: payloads, verification, /proc readers, stats.
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import os from 'node:os'

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
export const FILENAME = 'media.png'
export const CONTENT_TYPE = 'image/png'
export const MEDIA_TYPE = 'image'

/** A "random Buffer" that the strict emulator accepts as a PNG: signature + random bytes. */
export function makePayload (size) {
  const buf = randomBytes(size)
  PNG_SIGNATURE.copy(buf, 0)
  return buf
}

/** Accepts WeChat's raw reply ({media_id, errcode?}) and wx-media's ({errCode, mediaId}). */
export function verifyReply (r) {
  if (r == null || typeof r !== 'object') return `reply is not an object: ${String(r).slice(0, 200)}`
  const code = r.errcode ?? r.errCode ?? 0
  if (code !== 0) return `errcode ${code}: ${r.errmsg ?? r.errMsg ?? ''}`
  const id = r.media_id ?? r.mediaId
  if (typeof id !== 'string' || id.length === 0) return `no media_id in reply: ${JSON.stringify(r).slice(0, 200)}`
  return null
}

export function tokenUrl ({ url, appid, secret }) {
  return `${url}/cgi-bin/token?grant_type=client_credential&appid=${encodeURIComponent(appid)}&secret=${encodeURIComponent(secret)}`
}

export function uploadUrl ({ url }, token) {
  return `${url}/cgi-bin/media/upload?access_token=${encodeURIComponent(token)}&type=${MEDIA_TYPE}`
}

export function checkToken (body) {
  if (!body || typeof body.access_token !== 'string' || !body.access_token) {
    throw new Error(`token fetch failed: ${JSON.stringify(body).slice(0, 200)}`)
  }
  return body.access_token
}

/** Marker error: the client library is not there (yet); reported as "not available", not as a failure. */
export class NotAvailable extends Error {
  constructor (msg) { super(msg); this.notAvailable = true }
}

// ---------- /proc ----------
let clkTck = 0
export function clockTicks () {
  if (clkTck) return clkTck
  try { clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch { clkTck = 100 }
  return clkTck
}

function statTicks (pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    // after "pid (comm) ": state=f[0], utime=f[11], stime=f[12]
    return Number(f[11]) + Number(f[12])
  } catch { return 0 }
}

function childrenOf (pid) {
  const out = []
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const c = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim()
        if (c) out.push(...c.split(/\s+/).map(Number))
      } catch {}
    }
  } catch {}
  return out
}

/** utime+stime (seconds) of a process and all its live descendants (all threads included). */
export function treeCpuSeconds (pid) {
  if (!pid) return NaN
  let ticks = 0
  const seen = new Set()
  const stack = [pid]
  while (stack.length) {
    const p = stack.pop()
    if (seen.has(p)) continue
    seen.add(p)
    ticks += statTicks(p)
    stack.push(...childrenOf(p))
  }
  return ticks / clockTicks()
}

/**
 * Busy seconds of the whole machine (all CPUs) from /proc/stat: user+nice+system+steal. irq and
 * softirq time is left out: loopback traffic between our own client and server lands there and
 * is charged to neither process, so counting it would blame our own uploads on "other" load.
 */
export function machineBusySeconds () {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number)
    const [user, nice, system, , , , , steal] = f
    return (user + nice + system + (steal || 0)) / clockTicks()
  } catch { return NaN }
}

export function loadAverage () {
  try { return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number) } catch { return [] }
}

export function openFds () {
  try { return readdirSync('/proc/self/fd').length } catch { return NaN }
}

export function rssBytes () { return process.memoryUsage.rss() }

// ---------- stats ----------
export function median (xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (!v.length) return NaN
  const m = v.length >> 1
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2
}

export function quantile (sorted, q) {
  if (!sorted.length) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i]
}

// ---------- machine ----------
export function machineInfo () {
  let cpu = os.cpus()[0]?.model ?? 'unknown'
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)
    if (m) cpu = m[1].trim()
  } catch {}
  return {
    cpu,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${process.platform} ${os.release()} ${process.arch}`,
    date: new Date().toISOString()
  }
}

export function hasTaskset () {
  if (os.availableParallelism?.() < 2) return false
  try { execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }); return true } catch { return false }
}

export function fileExists (p) { return existsSync(p) }

export function parseArgs (argv, defaults = {}) {
  const out = { ...defaults, _: [] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) { out._.push(a); continue }
    const eq = a.indexOf('=')
    let k, v
    if (eq > 0) { k = a.slice(2, eq); v = a.slice(eq + 1) } else {
      k = a.slice(2)
      if (k.startsWith('no-')) { out[k.slice(3)] = false; continue }
      const nx = argv[i + 1]
      if (nx !== undefined && !nx.startsWith('--')) { v = nx; i++ } else v = true
    }
    out[k] = v
  }
  return out
}
