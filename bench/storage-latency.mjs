#!/usr/bin/env node
// Latency of one getTempFileURL call through wx-media: upload one object (uploadFile), warm up,
// then time many sequential calls. Prints one JSON line. Exit 0 ok, 1 failure, 3 not available.
import { createRequire } from 'node:module'
import { makePayload, parseArgs, quantile } from './lib/common.mjs'

const a = parseArgs(process.argv.slice(2))
const calls = Number(a.calls ?? 1000)
const warmup = Number(a.warmup ?? 100)
const env = String(a.env || '')

function emit (obj, code) {
  process.stdout.write(JSON.stringify({ kind: 'getTempFileURL', ...obj }) + '\n', () => process.exit(code))
  setTimeout(() => process.exit(code), 2000).unref()
}

const wx = createRequire(import.meta.url)('..')
if (typeof wx.WxClient !== 'function') { emit({ ok: false, available: false, error: 'no WxClient export' }, 3); await new Promise(() => {}) }
const client = new wx.WxClient({ appid: String(a.appid), secret: String(a.secret), baseUrl: String(a.url), env, tokenMode: 'legacy', timeout: 60000 })
if (typeof client.uploadFile !== 'function' || typeof client.getTempFileURL !== 'function') {
  emit({ ok: false, available: false, error: 'WxClient has no uploadFile/getTempFileURL yet' }, 3); await new Promise(() => {})
}

try {
  const up = await client.uploadFile({ cloudPath: `bench/latency-${process.pid}.png`, fileContent: makePayload(4096), config: { env } })
  const fileID = up && up.fileID
  if (typeof fileID !== 'string' || !fileID) throw new Error(`uploadFile gave no fileID: ${JSON.stringify(up)}`)
  const one = async () => {
    const r = await client.getTempFileURL({ fileList: [fileID], config: { env } })
    const f = r && r.fileList && r.fileList[0]
    if (!f || f.status !== 0 || !f.tempFileURL) throw new Error(`bad getTempFileURL reply: ${JSON.stringify(r).slice(0, 300)}`)
  }
  for (let i = 0; i < warmup; i++) await one()
  const lat = []
  for (let i = 0; i < calls; i++) {
    const t = performance.now()
    await one()
    lat.push(performance.now() - t)
  }
  lat.sort((x, y) => x - y)
  emit({ ok: true, calls, p50Ms: quantile(lat, 0.5), p90Ms: quantile(lat, 0.9), p99Ms: quantile(lat, 0.99), minMs: lat[0] }, 0)
} catch (e) {
  emit({ ok: false, error: String(e && e.message ? e.message : e) }, 1)
}
