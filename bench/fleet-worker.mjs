#!/usr/bin/env node
// One process of the fleet bench (bench/fleet.mjs). `node fleet-worker.mjs '<json>'`.
//
// mode 'upload': builds one WxClient (with the asked token store / media cache), prints
// {"ready":…}, waits for a line on stdin (the orchestrator releases every process at once), then
// makes `calls` uploadTempMedia calls of the payload with `concurrency` in flight and prints one
// {"result":…} line: per-call latencies, failures, the first success's wall-clock time, mediaIds.
// mode 'overhead': two clients in this one process, A without a store and B with
// `tokenStore: { redis }`; warm sequential uploads in alternating blocks (ABBA…); prints the
// latency quantiles of each.
// A client that cannot be built (an option this build does not know) prints
// {"available":false,"error":…} and exits 0: the orchestrator reports it as skipped.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import Redis from 'ioredis'

const require = createRequire(import.meta.url)
const opts = JSON.parse(process.argv[2])
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const now = () => performance.timeOrigin + performance.now() // wall clock, sub-ms

let wx
try {
  wx = require('..')
} catch (e) {
  out({ available: false, error: `wx-media does not load: ${e.message}` })
  process.exit(0)
}
const payload = readFileSync(opts.payload)
const media = { contentType: 'image/png', value: payload }

/**
 * tokenStore hooks on Redis, written the way a user would: ioredis, the value as JSON, a Redis
 * expiry matching the token's. No lock: hooks cannot give fleet-wide single-flight.
 */
const hookCalls = { get: 0, hit: 0, set: 0 } // counted for the report only
function redisHooks (url) {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 })
  return {
    redis,
    store: {
      async get (key) {
        hookCalls.get++
        const v = await redis.get(key)
        if (v) hookCalls.hit++
        return v ? JSON.parse(v) : null
      },
      async set (key, value) {
        hookCalls.set++
        const ttl = Math.max(1, Math.floor(value.expiresAt - Date.now()))
        await redis.set(key, JSON.stringify(value), 'PX', ttl)
      }
    }
  }
}

function clientOptions (store, mediaCache, extra = {}) {
  const o = { appid: opts.appid, secret: opts.secret, baseUrl: opts.url, ...extra }
  if (opts.tokenMode) o.tokenMode = opts.tokenMode
  let redis = null
  if (store === 'redis') o.tokenStore = { redis: opts.redisUrl }
  else if (store === 'hooks') {
    const h = redisHooks(opts.redisUrl)
    redis = h.redis
    o.tokenStore = h.store
  }
  if (mediaCache === 'memory') o.mediaCache = true
  else if (mediaCache === 'redis') o.mediaCache = { redis: opts.redisUrl }
  return { options: o, redis }
}

function build (store, mediaCache) {
  const { options, redis } = clientOptions(store, mediaCache)
  try {
    return { client: new wx.WxClient(options), redis }
  } catch (e) {
    if (redis) redis.disconnect()
    out({ available: false, error: String(e.errMsg || e.message || e).split('\n')[0].split(';')[0].slice(0, 160) })
    process.exit(0)
  }
}

const checkReply = (r) => {
  if (!r || r.errCode !== 0) return `errCode ${r && r.errCode}`
  if (typeof r.mediaId !== 'string' || !r.mediaId) return 'no mediaId'
  return null
}

const waitGo = () => new Promise((resolve) => {
  process.stdin.once('data', () => resolve())
  process.stdin.once('end', () => process.exit(1))
})

async function close (client, redis) {
  try { await client.close() } catch {}
  if (redis) { try { await redis.quit() } catch { redis.disconnect() } }
}

async function uploadMode () {
  const { client, redis } = build(opts.store, opts.mediaCache)
  // A server process connects its Redis client before it serves (else the first hook calls
  // wait for the connection inside the measured window).
  if (redis && redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve))
  out({ ready: true, readyAt: now() })
  await waitGo()
  const goAt = now()
  const lat = []
  const ids = new Set()
  const errors = []
  let failures = 0
  let cached = 0
  let firstSuccessAt = null
  let next = 0
  const one = async () => {
    const t = performance.now()
    let bad
    try {
      const r = await client.uploadTempMedia({ type: 'image', media })
      bad = checkReply(r)
      if (!bad) {
        ids.add(r.mediaId)
        if (r.cached === true) cached++
      }
    } catch (e) {
      bad = `${e.code || 'Error'} ${e.errCode ?? ''}: ${String(e.message).slice(0, 160)}`
    }
    lat.push(+(performance.now() - t).toFixed(3))
    if (bad) { failures++; if (errors.length < 3) errors.push(bad) } else if (firstSuccessAt === null) firstSuccessAt = now()
  }
  const lane = async () => { while (next < opts.calls) { next++; await one() } }
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.calls) }, lane))
  const doneAt = now()
  out({ result: { calls: lat.length, failures, errors, lat, goAt, firstSuccessAt, doneAt, mediaIds: [...ids], cached, tokenFetches: client.tokenFetchCount, ...(opts.store === 'hooks' ? { hookCalls } : {}) } })
  await close(client, redis)
}

function quantiles (xs) {
  const s = [...xs].sort((a, b) => a - b)
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]
  return { n: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length, min: s[0], max: s[s.length - 1] }
}

async function overheadMode () {
  const A = build('none', null)
  const B = build('redis', null)
  out({ ready: true, readyAt: now() })
  await waitGo()
  const timed = async (client, into) => {
    const t = performance.now()
    const r = await client.uploadTempMedia({ type: 'image', media })
    const ms = performance.now() - t
    const bad = checkReply(r)
    if (bad) throw new Error(bad)
    if (into) into.push(ms)
  }
  let failure = null
  const lat = { A: [], B: [] }
  const blocks = { A: [], B: [] }
  try {
    for (let i = 0; i < opts.warmup; i++) { await timed(A.client); await timed(B.client) }
    const perBlock = opts.block
    const nBlocks = Math.ceil(opts.calls / perBlock)
    // ABBA BAAB …: each client is as often first as second, so drift cancels out.
    for (let b = 0; b < nBlocks; b++) {
      const order = b % 2 === 0 ? ['A', 'B', 'B', 'A'] : ['B', 'A', 'A', 'B']
      for (const k of order) {
        const xs = []
        for (let i = 0; i < perBlock / 2; i++) await timed(k === 'A' ? A.client : B.client, xs)
        lat[k].push(...xs)
        blocks[k].push(quantiles(xs).p50)
      }
    }
  } catch (e) {
    failure = `${e.code || 'Error'}: ${String(e.message).slice(0, 200)}`
  }
  out({ result: { failure, A: quantiles(lat.A), B: quantiles(lat.B), blockP50: blocks, tokenFetches: { A: A.client.tokenFetchCount, B: B.client.tokenFetchCount } } })
  await close(A.client, A.redis)
  await close(B.client, B.redis)
}

await (opts.mode === 'overhead' ? overheadMode() : uploadMode())
process.exit(0)
