#!/usr/bin/env node
// Seed 000, upload-from-URL (issue 9 item 6): an image served by the emulator's CDN route
// (/__cdn/, with a Content-Length) is uploaded as temporary media by
//   - wx-media `{ url }` (Rust fetches and streams it through),
//   - request → Buffer → request formData (seed 000 as written),
//   - axios stream → form-data (knownLength from the source),
//   - and, for reference, wx-media with the image already in a Buffer.
// Each run is a fresh process (bench/run-client.mjs) pinned to CPU 1, the emulator to CPU 0.
// Writes bench/results/url-flow-<date>.jsonl and the "Upload from URL" section of
// BENCHMARKS.md (between markers; the rest of the file is left as it is).
//
//   node bench/url-flow.mjs [--sizes 1m,10m] [--concurrency 1,4] [--reps 2] [--window 3000]
//                           [--out BENCHMARKS.md] [--report-from results.jsonl]
import { spawn } from 'node:child_process'
import { writeFileSync, readFileSync, mkdirSync, existsSync, appendFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import os from 'node:os'
import path from 'node:path'
import { makePayload, median, hasTaskset, parseArgs } from './lib/common.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(here, '..')
const RESULTS = path.join(here, 'results')
const args = parseArgs(process.argv.slice(2))
const SIZES = { '1m': 2 ** 20, '10m': 10 * 2 ** 20 }
const list = (v, d) => (v === undefined || v === true ? d : String(v).split(',').map((x) => x.trim()).filter(Boolean))
const cfg = {
  sizes: list(args.sizes, ['1m', '10m']).map((s) => SIZES[s] ?? Number(s)),
  concurrency: list(args.concurrency, ['1', '4']).map(Number),
  reps: Number(args.reps ?? 2),
  windowMs: Number(args.window ?? 3000),
  warmupMs: Number(args.warmup ?? 500),
  pin: args.pin !== false && hasTaskset(),
  out: path.resolve(String(args.out ?? path.join(ROOT, 'BENCHMARKS.md')))
}
const CLIENTS = [
  { id: 'wx-media-url', label: '**wx-media** `{ url }`', url: true },
  { id: 'request-url', label: 'request → Buffer → request `formData` (seed 000)', url: true },
  { id: 'axios-url', label: 'axios stream → form-data', url: true },
  { id: 'wx-media', label: 'wx-media, image already in a Buffer (reference)', url: false }
]
const MiB = 2 ** 20
const sizeLabel = (n) => `${n / MiB} MiB`
const START = '<!-- url-flow:start -->'
const END = '<!-- url-flow:end -->'

const pinned = (cpu, argv) => (cfg.pin ? ['taskset', ['-c', cpu, ...argv]] : [argv[0], argv.slice(1)])

function runClient (client, srv, size, concurrency, payloadFile) {
  const scriptArgs = ['--client', client.id, '--url', srv.url, '--appid', srv.appid, '--secret', srv.secret,
    '--size', String(size), '--concurrency', String(concurrency), '--window', String(cfg.windowMs),
    '--warmup', String(cfg.warmupMs), '--server-pid', String(srv.pid), '--payload', payloadFile,
    '--source-url', `${srv.url}/__cdn/bench-${size}.png`]
  const [cmd, argv] = pinned('1', [process.execPath, path.join(here, 'run-client.mjs'), ...scriptArgs])
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d })
    child.on('close', (code) => {
      const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'))
      let json
      try { json = JSON.parse(line) } catch { json = { ok: false, error: `exit ${code}: ${err.trim().split('\n').slice(-2).join(' | ')}` } }
      resolve(json)
    })
  })
}

async function startEmulator () {
  const [cmd, argv] = pinned('0', [process.execPath, path.join(ROOT, 'bin', 'wx-media-emulator.js'), '--port', '0', '--lean'])
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  const info = await new Promise((resolve, reject) => {
    let buf = ''
    child.stdout.on('data', (d) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl >= 0) { try { resolve(JSON.parse(buf.slice(0, nl))) } catch (e) { reject(e) } }
    })
    child.on('exit', (c) => reject(new Error(`emulator exited (${c})`)))
  })
  return { ...info, pid: child.pid, child }
}

function summarize (runs) {
  const rows = []
  for (const size of cfg.sizes) {
    for (const c of cfg.concurrency) {
      for (const client of CLIENTS) {
        const mine = runs.filter((r) => r.ok && r.client === client.id && r.size === size && r.concurrency === c)
        rows.push({
          size, concurrency: c, client: client.id, runs: mine.length,
          uploadsPerSec: median(mine.map((r) => r.uploadsPerSec)),
          cpuMsPerUpload: median(mine.map((r) => r.cpuMsPerUpload)),
          maxRssMB: median(mine.map((r) => r.maxRssMB)),
          serverCpuPct: median(mine.map((r) => r.serverCpuPct))
        })
      }
    }
  }
  return rows
}

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a')
const row = (rows, size, c, id) => rows.find((r) => r.size === size && r.concurrency === c && r.client === id)

function targets (rows) {
  const out = []
  const m1 = cfg.sizes.find((s) => s === MiB)
  if (m1) {
    for (const c of cfg.concurrency) {
      const wx = row(rows, m1, c, 'wx-media-url')
      const peers = ['request-url', 'axios-url'].map((id) => row(rows, m1, c, id)).filter((r) => Number.isFinite(r.uploadsPerSec))
      const best = peers.reduce((a, b) => (b.uploadsPerSec > a.uploadsPerSec ? b : a), peers[0])
      const ratio = wx.uploadsPerSec / best.uploadsPerSec
      out.push({ what: `1 MiB c${c}: wx-media \`{ url }\` ≥ 2× the best JS peer (${best.client})`, value: `${fmt(ratio, 2)}×`, met: ratio >= 2 })
    }
  }
  const m10 = cfg.sizes.find((s) => s === 10 * MiB)
  if (m10 && cfg.concurrency.includes(4)) {
    const url = row(rows, m10, 4, 'wx-media-url')
    const buf = row(rows, m10, 4, 'wx-media')
    const delta = url.maxRssMB - buf.maxRssMB
    out.push({ what: '10 MiB c4: peak RSS of `{ url }` ≤ the Buffer case + 20 MB', value: `${fmt(url.maxRssMB)} vs ${fmt(buf.maxRssMB)} MiB (${delta >= 0 ? '+' : ''}${fmt(delta)})`, met: delta * MiB <= 20e6 })
  }
  return out
}

function render (meta, rows) {
  const lines = [START, '## Upload from URL (seed 000)', '',
    `\`node bench/url-flow.mjs\` (part of \`npm run bench\`), ${meta.date}, ${meta.node}, ${meta.cpus}; ` +
    `emulator \`--lean\` on CPU 0 serving the image from its \`/__cdn/\` route with a Content-Length, ` +
    `each client a fresh process on CPU 1${meta.pinned ? '' : ' (not pinned: no taskset)'}; ${cfg.reps} runs of ${cfg.windowMs} ms per cell, medians. ` +
    'CPU per upload is the client process (JS and Rust threads); peak RSS is its maxRSS (every client process also holds the payload file, read at start); server CPU is the emulator serving both the image and the upload. ' +
    'The Buffer reference copies the payload once per call (README "Why the payload is copied"), so it holds one copy per upload in flight; `{ url }` holds none.' +
    (Number.isFinite(meta.loadavg) ? ` The 1-minute load average was ${meta.loadavg.toFixed(1)} on ${os.cpus().length} CPUs when the run started: above 1 per CPU, uploads/s are disturbed by other work and CPU per upload is the steadier figure.` : ''), '']
  for (const size of cfg.sizes) {
    for (const c of cfg.concurrency) {
      lines.push(`**${sizeLabel(size)}, concurrency ${c}**`, '', '| client | uploads/s | CPU ms/upload | peak RSS MiB | server CPU % |', '|---|---:|---:|---:|---:|')
      for (const client of CLIENTS) {
        const r = row(rows, size, c, client.id)
        lines.push(`| ${client.label} | ${fmt(r.uploadsPerSec)} | ${fmt(r.cpuMsPerUpload, 2)} | ${fmt(r.maxRssMB)} | ${fmt(r.serverCpuPct, 0)} |`)
      }
      lines.push('')
    }
  }
  lines.push('| target | measured | met |', '|---|---|---|')
  for (const t of targets(rows)) lines.push(`| ${t.what} | ${t.value} | ${t.met ? 'yes' : '**no**'} |`)
  lines.push('', `Raw results: \`${meta.jsonl}\`.`, END)
  return lines.join('\n')
}

function writeSection (text) {
  const old = existsSync(cfg.out) ? readFileSync(cfg.out, 'utf8') : ''
  const at = old.indexOf(START)
  const end = old.indexOf(END)
  const next = at >= 0 && end > at ? old.slice(0, at) + text + old.slice(end + END.length) : `${old.trimEnd()}\n\n${text}\n`
  writeFileSync(cfg.out, next)
}

if (args['report-from']) {
  const lines = readFileSync(String(args['report-from']), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  const meta = lines.find((l) => l.kind === 'meta')
  Object.assign(cfg, meta.cfg)
  writeSection(render(meta, summarize(lines.filter((l) => l.kind === 'run'))))
  console.log(`wrote ${path.relative(process.cwd(), cfg.out)}`)
  process.exit(0)
}

mkdirSync(RESULTS, { recursive: true })
const date = new Date().toISOString()
const jsonl = path.join(RESULTS, `url-flow-${date.replace(/[:.]/g, '-')}.jsonl`)
const meta = { kind: 'meta', date, loadavg: os.loadavg()[0], node: process.version, cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`, pinned: cfg.pin, cfg, jsonl: path.relative(ROOT, jsonl) }
appendFileSync(jsonl, JSON.stringify(meta) + '\n')
const srv = await startEmulator()
const runs = []
let failures = 0
try {
  for (const size of cfg.sizes) {
    const payload = makePayload(size)
    const file = path.join(RESULTS, `url-flow-payload-${size}.png`)
    writeFileSync(file, payload)
    const put = await fetch(`${srv.url}/__cdn/bench-${size}.png`, { method: 'PUT', body: payload })
    if (put.status !== 201) throw new Error(`CDN PUT answered ${put.status}`)
    for (const c of cfg.concurrency) {
      for (let rep = 0; rep < cfg.reps; rep++) {
        for (const client of CLIENTS.map((_, i) => CLIENTS[(i + rep) % CLIENTS.length])) {
          const r = await runClient(client, srv, size, c, file)
          runs.push(r)
          appendFileSync(jsonl, JSON.stringify({ kind: 'run', ...r }) + '\n')
          if (!r.ok) failures++
          console.log(`${sizeLabel(size)} c${c} ${client.id.padEnd(13)} ${r.ok ? `${fmt(r.uploadsPerSec).padStart(7)} up/s  ${fmt(r.cpuMsPerUpload, 2).padStart(7)} ms CPU/up  ${fmt(r.maxRssMB).padStart(6)} MiB` : `FAILED ${r.error}`}`)
        }
      }
    }
  }
} finally {
  srv.child.kill('SIGTERM')
}
writeSection(render(meta, summarize(runs)))
console.log(`wrote ${path.relative(process.cwd(), cfg.out)}; results ${meta.jsonl}`)
process.exit(failures ? 1 : 0)
