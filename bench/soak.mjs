#!/usr/bin/env node
// Memory soak: N uploads (default 100 000) of 64 KiB at concurrency 16 through one wx-media
// WxClient. Samples RSS every 10 000 uploads (after a forced GC when --expose-gc is on, so the
// numbers show retained memory rather than GC timing) and counts open fds via /proc/self/fd.
// Prints one JSON line. Exit 0 ok, 1 failure, 3 wx-media not available.
// Run it as `node --expose-gc bench/soak.mjs ...` (the orchestrator does).
import { createRequire } from 'node:module'
import {
  makePayload, verifyReply, openFds, rssBytes, parseArgs, CONTENT_TYPE, MEDIA_TYPE
} from './lib/common.mjs'

const a = parseArgs(process.argv.slice(2))
const count = Number(a.count ?? 100000)
const size = Number(a.size ?? 65536)
const concurrency = Number(a.concurrency ?? 16)
const every = Number(a.every ?? 10000)
const budgetMs = Number(a.budget ?? 600000)
const warmup = Number(a.warmup ?? 1000)

function emit (obj, code) {
  process.stdout.write(JSON.stringify({ kind: 'soak', count, size, concurrency, ...obj }) + '\n', () => process.exit(code))
  setTimeout(() => process.exit(code), 2000).unref()
}
// RSS as the OS sees it, then again after a forced GC (with --expose-gc): the first is what the
// target is about, the second separates retained memory from garbage not yet collected.
const sample = () => {
  const rss = rssBytes()
  globalThis.gc?.()
  return { rssMB: rss / 2 ** 20, rssAfterGcMB: rssBytes() / 2 ** 20 }
}

const require = createRequire(import.meta.url)
const fdsBeforeLoad = openFds()
const wx = require('..')
if (typeof wx.WxClient !== 'function') { emit({ ok: false, available: false, error: 'wx-media has no WxClient export yet' }, 3); await new Promise(() => {}) }
const client = new wx.WxClient({ appid: String(a.appid), secret: String(a.secret), baseUrl: String(a.url), tokenMode: 'legacy', maxConcurrency: 64, timeout: 60000 })
const media = { contentType: CONTENT_TYPE, value: makePayload(size) }

let failed = null
let started = 0
let done = 0
const deadline = Date.now() + budgetMs
async function run (n, onEach) {
  let i = 0
  async function worker () {
    while (!failed && i < n && Date.now() < deadline) {
      i++; started++
      try {
        const r = await client.uploadTempMedia({ type: MEDIA_TYPE, media })
        const bad = verifyReply(r)
        if (bad) { failed = bad; return }
      } catch (e) { failed = `upload threw: ${e && e.message}`; return }
      done++
      onEach?.()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

// Warm-up: opens the connection pool and fills caches, so fds at "start" include the pool.
await run(warmup)
const fdsStart = openFds()
const rssStart = sample()
const samples = [{ uploads: 0, ...rssStart, fds: fdsStart }]
let measured = 0
const t0 = performance.now()
await run(count, () => {
  measured++
  if (measured % every === 0) samples.push({ uploads: measured, ...sample(), fds: openFds(), s: +((performance.now() - t0) / 1000).toFixed(1) })
})
const secs = (performance.now() - t0) / 1000
const fdsEnd = openFds()
const rssEnd = sample()
const mark = samples.find((s) => s.uploads === every)
try { await client.close?.() } catch {}
emit({
  ok: !failed && measured >= count,
  complete: measured >= count,
  error: failed || (measured < count ? `time budget ${budgetMs} ms reached after ${measured} uploads` : undefined),
  uploads: measured,
  seconds: +secs.toFixed(1),
  uploadsPerSec: measured / secs,
  rssStartMB: rssStart.rssMB,
  rssAtFirstMarkMB: mark ? mark.rssMB : null,
  rssEndMB: rssEnd.rssMB,
  rssGrowthMB: mark ? rssEnd.rssMB - mark.rssMB : null,
  rssAfterGcGrowthMB: mark ? rssEnd.rssAfterGcMB - mark.rssAfterGcMB : null,
  fdsBeforeLoad,
  fdsStart,
  fdsEnd,
  fdGrowth: fdsEnd - fdsStart,
  gcForced: typeof globalThis.gc === 'function',
  samples
}, failed ? 1 : 0)
