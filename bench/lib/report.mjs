// Turns runs into medians and medians into Markdown: the target checks, one table per cell, and
// BENCHMARKS.md. Also rebuilds a report from a results .jsonl (`--report-from`).
import { readFileSync } from 'node:fs'
import { median } from './common.mjs'

export const CLIENTS = [
  { id: 'wx-media', label: '**wx-media**' },
  { id: 'raw', label: 'raw node:http (hand-built multipart)' },
  { id: 'axios', label: 'axios + form-data' },
  { id: 'request', label: 'request `formData` (seed 000)' },
  { id: 'got', label: 'got + form-data' },
  { id: 'undici', label: 'undici `request` + FormData' },
  { id: 'fetch', label: 'fetch + FormData' },
  { id: 'co-wechat-api', label: 'co-wechat-api `uploadMedia`' }
]
const labelOf = (id) => (CLIENTS.find((c) => c.id === id) || { label: id }).label

const MiB = 2 ** 20
// At or above this server CPU share the server, not the client, sets the pace: uploads/s ratios
// there say little about the client (compare CPU per upload instead).
export const SERVER_BOUND_PCT = 90

export const METRICS = ['uploadsPerSec', 'cpuMsPerUpload', 'maxRssMB', 'eldP50Ms', 'eldP99Ms', 'serverCpuPct', 'clientCpuPct', 'otherCpuPct', 'uploads']

/** cellKey -> client -> medians over that cell's successful runs. */
export function summarize (runs, cells, clients, unavailable = new Map()) {
  const summary = {}
  for (const cell of cells) {
    summary[cell.key] = {}
    for (const client of clients) {
      const rs = runs.filter((r) => r.cell === cell.key && r.client === client)
      const ok = rs.filter((r) => r.ok)
      const s = {
        client,
        runs: rs.length,
        okRuns: ok.length,
        available: !unavailable.has(client) && !rs.some((r) => r.available === false),
        failed: rs.some((r) => !r.ok && r.available !== false),
        error: (rs.find((r) => !r.ok) || {}).error
      }
      for (const k of METRICS) s[k] = median(ok.map((r) => r[k]))
      s.uploadsPerSecAll = ok.map((r) => r.uploadsPerSec)
      summary[cell.key][client] = s
    }
  }
  return summary
}

/** Everything renderReport needs, read back from a bench-*.jsonl file. */
export function loadResults (file) {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  const metaLine = lines.find((l) => l.kind === 'meta')
  if (!metaLine) throw new Error(`${file} has no meta line`)
  const { cfg, kind, ...meta } = metaLine
  Object.assign(meta, lines.find((l) => l.kind === 'meta-end') || {})
  delete meta.kind
  const runs = lines.filter((l) => l.kind === 'run')
  const unavailable = new Map(runs.filter((r) => r.available === false).map((r) => [r.client, r.error]))
  const extras = {}
  const req = lines.filter((l) => l.kind === 'require')
  if (req.length) extras.require = req
  const lat = lines.find((l) => l.kind === 'getTempFileURL')
  if (lat) extras.latency = lat
  const soak = lines.find((l) => l.kind === 'soak')
  if (soak) extras.soak = soak
  else if (req.length) extras.soak = { skipped: true }
  return { meta, cfg, runs, unavailable, extras, aborted: (lines.find((l) => l.kind === 'meta-end') || {}).aborted || null }
}
// "16 × 8 MiB + 120 MB": both terms read in MiB, the more lenient reading (248 MiB).
export const RSS_LIMIT_8M_C16_MIB = 16 * 8 + 120

const num = (x) => typeof x === 'number' && Number.isFinite(x)
export function fmt (x, d) {
  if (!num(x)) return 'n/a'
  if (d === undefined) d = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : Math.abs(x) >= 1 ? 2 : 3
  return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
}
const ratio = (a, b) => (num(a) && num(b) && b > 0 ? a / b : NaN)
const mark = (pass) => (pass === true ? '✓' : pass === false ? '✗' : 'n/a')

function sizeOfKey (key) { return key.split('-c')[0] }
function concOfKey (key) { return Number(key.split('-c')[1]) }

/** Per-cell target instances for wx-media, plus the whole-run ones. */
export function evaluateTargets (summary, cells, extras = {}) {
  const out = []
  let serverBound = false
  const add = (t) => {
    t.pass = num(t.value) ? t.test(t.value) : null
    delete t.test
    if (t.kind === 'throughput' && serverBound) t.serverBound = true
    out.push(t)
  }
  for (const cell of cells) {
    const s = summary[cell.key] || {}
    const w = s['wx-media']; const raw = s.raw; const ax = s.axios
    if (!w) continue
    serverBound = num(w.serverCpuPct) && w.serverCpuPct >= SERVER_BOUND_PCT
    const size = sizeOfKey(cell.key); const c = concOfKey(cell.key)
    const upRaw = ratio(w.uploadsPerSec, raw?.uploadsPerSec)
    const upAx = ratio(w.uploadsPerSec, ax?.uploadsPerSec)
    const cpuRaw = ratio(w.cpuMsPerUpload, raw?.cpuMsPerUpload)
    if (size === '16KiB' && c === 16) {
      add({ cell: cell.key, group: 'ups16axios', text: 'uploads/s ≥ 15× axios at 16 KiB c16', short: '≥15× axios', kind: 'throughput', value: upAx, unit: '×', limit: 15, test: (v) => v >= 15 })
      add({ cell: cell.key, group: 'ups16raw', text: 'uploads/s ≥ 3× raw at 16 KiB c16', short: '≥3× raw', kind: 'throughput', value: upRaw, unit: '×', limit: 3, test: (v) => v >= 3 })
    }
    if (size === '1MiB' && c === 1) {
      add({ cell: cell.key, group: 'ups1maxios', text: 'uploads/s ≥ 2.5× axios at 1 MiB c1', short: '≥2.5× axios', kind: 'throughput', value: upAx, unit: '×', limit: 2.5, test: (v) => v >= 2.5 })
      add({ cell: cell.key, group: 'ups1mraw', text: 'uploads/s ≥ 1.3× raw at 1 MiB c1', short: '≥1.3× raw', kind: 'throughput', value: upRaw, unit: '×', limit: 1.3, test: (v) => v >= 1.3 })
    }
    add({ cell: cell.key, group: 'upsraw', text: 'uploads/s never below raw (every cell)', short: '≥1× raw', kind: 'throughput', value: upRaw, unit: '×', limit: 1, test: (v) => v >= 1 })
    const cpuLim = size === '16KiB' ? 0.5 : size === '1MiB' ? 0.65 : size === '8MiB' ? 1 : null
    if (cpuLim != null) {
      add({ cell: cell.key, group: `cpu${size}`, text: `client CPU/upload ≤ ${cpuLim}× raw at ${size.replace('KiB', ' KiB').replace('MiB', ' MiB')}`, short: `CPU ≤${cpuLim}× raw`, value: cpuRaw, unit: '×', limit: cpuLim, test: (v) => v <= cpuLim, worst: 'max' })
    }
    add({ cell: cell.key, group: 'eld', text: 'event-loop delay p99 ≤ 3 ms (every cell)', short: 'ELD p99 ≤3 ms', value: w.eldP99Ms, unit: 'ms', limit: 3, test: (v) => v <= 3, worst: 'max' })
    if (size === '8MiB' && c === 16) {
      add({ cell: cell.key, group: 'rss8m', text: `peak RSS at 8 MiB c16 ≤ 16×8 MiB + 120 MB (${RSS_LIMIT_8M_C16_MIB} MiB)`, short: `RSS ≤${RSS_LIMIT_8M_C16_MIB} MiB`, value: w.maxRssMB, unit: 'MiB', limit: RSS_LIMIT_8M_C16_MIB, test: (v) => v <= RSS_LIMIT_8M_C16_MIB, worst: 'max' })
    }
  }
  // The soak targets count only for a complete soak of at least 100 000 uploads.
  const soak = extras.soak || {}
  const soakValid = soak.complete && soak.ok && soak.uploads >= 100000
  const short = soak.ok && soak.uploads < 100000 ? ` (this run: only ${soak.uploads})` : ''
  add({ cell: null, group: 'soakrss', text: `RSS growth over 100 000 uploads (10 000 mark → end) < 20 MB${short}`, value: soakValid ? soak.rssGrowthMB * MiB / 1e6 : NaN, unit: 'MB', limit: 20, test: (v) => v < 20 })
  add({ cell: null, group: 'soakfd', text: `no fd growth over the soak${short}`, value: soakValid ? soak.fdGrowth : NaN, unit: 'fds', limit: 0, test: (v) => v <= 0 })
  const req = (extras.require || []).find((x) => x.set === 'wx-media')
  add({ cell: null, group: 'require', text: "`require('wx-media')` ≤ 10 ms (median)", value: req ? req.medianMs : NaN, unit: 'ms', limit: 10, test: (v) => v <= 10 })
  return out
}

/** One summary row per target group: the worst cell decides. */
export function targetSummary (targets) {
  const groups = new Map()
  for (const t of targets) {
    if (!groups.has(t.group)) groups.set(t.group, [])
    groups.get(t.group).push(t)
  }
  const rows = []
  const order = ['ups16axios', 'ups16raw', 'ups1maxios', 'ups1mraw', 'upsraw', 'cpu16KiB', 'cpu1MiB', 'cpu8MiB', 'eld', 'rss8m', 'soakrss', 'soakfd', 'require']
  const rank = (g) => (order.indexOf(g) + 1) || order.length + 1
  for (const ts of [...groups.values()].sort((a, b) => rank(a[0].group) - rank(b[0].group))) {
    const known = ts.filter((t) => t.pass !== null)
    let worst = null
    if (known.length) {
      worst = known.reduce((a, b) => {
        if (a.pass !== b.pass) return a.pass === false ? a : b
        const pickMax = ts[0].worst === 'max'
        return (pickMax ? b.value > a.value : b.value < a.value) ? b : a
      })
    }
    const pass = !known.length ? null : known.length < ts.length && known.every((t) => t.pass) ? null : known.every((t) => t.pass)
    rows.push({ text: ts[0].text, worst, pass, cells: ts.length })
  }
  return rows
}

function fmtTargetValue (t) {
  if (!t || !num(t.value)) return 'n/a'
  // Enough digits that a value just past the limit does not print as the limit itself.
  const d = num(t.limit) && fmt(t.value, 2) === fmt(t.limit, 2) && t.value !== t.limit ? 3 : 2
  if (t.unit === '×') return `${fmt(t.value, d)}×`
  if (t.unit === 'fds') return `${t.value > 0 ? '+' : ''}${t.value} fds`
  return `${fmt(t.value, t.unit === 'ms' ? 2 : 1)} ${t.unit}`
}

export function renderCellTables (summary, cells, clients, targets = []) {
  const parts = []
  const order = CLIENTS.map((c) => c.id).filter((id) => clients.includes(id))
  for (const cell of cells) {
    const s = summary[cell.key] || {}
    const ax = s.axios; const raw = s.raw
    parts.push(`### ${cell.label}\n`)
    parts.push('| client | uploads/s | × axios | × raw | CPU ms/upload | CPU × raw | peak RSS MiB | ELD p50 ms | ELD p99 ms | server CPU % | target |')
    parts.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|')
    for (const id of order) {
      const r = s[id]
      if (!r) continue
      if (!r.available) { parts.push(`| ${labelOf(id)} | not available | | | | | | | | | |`); continue }
      if (!r.okRuns) { parts.push(`| ${labelOf(id)} | **FAILED**: ${String(r.error || '').replace(/\|/g, '\\|').slice(0, 160)} | | | | | | | | | ${id === 'wx-media' ? '✗' : ''} |`); continue }
      const tg = id === 'wx-media'
        ? targets.filter((t) => t.cell === cell.key && t.pass !== null)
          .map((t) => `${mark(t.pass)} ${t.short} (${fmtTargetValue(t)})${t.serverBound ? ' ⚠ server-bound' : ''}`).join('<br>')
        : ''
      const failNote = r.failed ? ` (${r.runs - r.okRuns} run(s) failed)` : ''
      parts.push(`| ${labelOf(id)}${failNote} | ${fmt(r.uploadsPerSec, 0)} | ${fmt(ratio(r.uploadsPerSec, ax?.uploadsPerSec), 2)} | ${fmt(ratio(r.uploadsPerSec, raw?.uploadsPerSec), 2)} | ${fmt(r.cpuMsPerUpload, 3)} | ${fmt(ratio(r.cpuMsPerUpload, raw?.cpuMsPerUpload), 2)} | ${fmt(r.maxRssMB, 0)} | ${fmt(r.eldP50Ms, 2)} | ${fmt(r.eldP99Ms, 2)} | ${fmt(r.serverCpuPct, 0)} | ${tg} |`)
    }
    parts.push('')
  }
  return parts.join('\n')
}

export function renderReport ({ meta, cfg, cells, summary, targets, extras, unavailable, aborted, jsonlPath }) {
  const L = []
  L.push('# wx-media benchmarks', '')
  L.push(`Generated by \`npm run bench\` (bench/index.mjs) on ${meta.date.slice(0, 10)} from \`${meta.git}\`; ` +
    `it took ${Math.round(meta.durationS / 60)} min. Raw JSON lines: \`${jsonlPath}\` (not committed). ` +
    'How it works and how to read it: [bench/README.md](bench/README.md).', '')
  if (aborted) L.push(`> **Run aborted:** ${aborted}. The tables hold what was measured before that.`, '')
  for (const [c, why] of unavailable) L.push(`> **${c} not available** in this run: ${why}.`, '')
  if (/sink/.test(meta.server)) L.push('> **Warning:** measured against the Node stand-in sink, not the emulator.', '')

  L.push('## Machine and method', '')
  L.push('| | |', '|---|---|')
  L.push(`| CPU | ${meta.cpu} |`)
  L.push(`| cores | ${meta.cores}${meta.pinned ? ` — server pinned to CPU ${meta.serverCpu}, each client process to CPU ${meta.clientCpu} (\`taskset -c\`)` : ' — not pinned (no taskset or fewer than 2 CPUs): expect noisy numbers'} |`)
  L.push(`| memory | ${meta.memGiB} GiB |`)
  L.push(`| OS | ${meta.platform} |`)
  L.push(`| Node | ${meta.node} |`)
  L.push(`| date | ${meta.date} |`)
  if (meta.otherCpu && meta.otherCpu.runs) {
    L.push(`| background load | load average at start ${(meta.loadavgStart || []).join(' ')}; CPU used by other processes during the windows: median ${fmt(meta.otherCpu.median, 0)} %, max ${fmt(meta.otherCpu.max, 0)} % of one core${meta.otherCpu.disturbed ? ` (${meta.otherCpu.disturbed} of ${meta.otherCpu.runs} runs above 25 %: numbers disturbed, rerun on a quiet machine)` : ''}${meta.quietWaitS ? `; ${meta.quietWaitS} s spent waiting for quiet before runs` : ''} |`)
  }
  L.push(`| server | \`${meta.server}\`, its own process |`)
  L.push(`| clients | ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(', ')} |`)
  L.push(`| method | every run is a fresh process: token fetch, ${meta.warmupMs} ms warm-up, then a ${meta.windowMs / 1000} s measured window at fixed concurrency; every reply verified (errcode 0 and a media_id). ${meta.reps} run${meta.reps === 1 ? '' : 's'} per cell, the client order rotated between runs; the tables show medians. Payload: one random buffer per size behind a PNG signature, sent as \`media.png\`, \`image/png\`. |`)
  L.push('')

  L.push('## Targets (wx-media)', '')
  L.push('| target | worst cell | measured | |', '|---|---|--:|:-:|')
  for (const r of targetSummary(targets)) {
    L.push(`| ${r.text} | ${r.worst && r.worst.cell ? r.worst.cell : ''}${r.worst && r.worst.serverBound ? ' ⚠ server-bound' : ''} | ${fmtTargetValue(r.worst)} | ${mark(r.pass)} |`)
  }
  L.push('')

  L.push('## Uploads per cell', '')
  L.push('Medians of the runs. `× axios` and `× raw`: uploads/s relative to those clients (higher is better). ' +
    '`CPU ms/upload`: user+sys CPU of the client process over the window divided by uploads (lower is better). ' +
    '`peak RSS`: the client process\'s maxRSS. `ELD`: event-loop delay (`monitorEventLoopDelay`, 1 ms resolution, so an idle loop reads about 1 ms). ' +
    '`server CPU %`: the server process\'s CPU over the window, 100 = one core: near 100 the server, not the client, is the limit ' +
    `(throughput targets in cells where it is ≥ ${SERVER_BOUND_PCT} % are marked ⚠ server-bound).`, '')
  L.push(renderCellTables(summary, cells, cfg.clients, targets))

  L.push('## Startup, latency and soak', '')
  if (extras.require) {
    L.push(`### \`require()\` time (fresh process each, median of ${cfg.requireRuns})`, '')
    L.push('| module(s) | median ms | min ms |', '|---|--:|--:|')
    for (const r of extras.require) L.push(`| ${r.set === 'axios+form-data' ? 'axios + form-data' : r.set}${r.set === 'wx-server-sdk' ? ' (`TENCENTCLOUD=true`)' : ''} | ${fmt(r.medianMs, 1)}${r.error ? ` (${r.error.slice(0, 80)})` : ''} | ${fmt(r.minMs, 1)} |`)
    L.push('')
  } else L.push('_Not measured in this run (`--no-extras`)._', '')
  if (extras.latency) {
    const x = extras.latency
    L.push('### `getTempFileURL` latency through wx-media', '')
    if (x.ok) L.push(`One file uploaded with \`uploadFile\`, then ${x.calls} sequential \`getTempFileURL\` calls after warm-up against \`${x.server}\`: **p50 ${fmt(x.p50Ms, 3)} ms**, p90 ${fmt(x.p90Ms, 3)} ms, p99 ${fmt(x.p99Ms, 3)} ms.`, '')
    else L.push(`n/a — ${x.error}`, '')
  }
  if (extras.soak) {
    const s = extras.soak
    L.push('### Soak: 64 KiB uploads at concurrency 16 through one WxClient', '')
    if (s.skipped) L.push('_Skipped (`--no-soak`)._', '')
    else if (s.available === false) L.push(`n/a — ${s.error}`, '')
    else if (!s.samples) L.push(`failed — ${s.error}`, '')
    else {
      L.push(`${s.uploads} uploads in ${s.seconds} s (${fmt(s.uploadsPerSec, 0)}/s) after 1 000 warm-up uploads${s.ok ? '' : ` — **${s.error}**`}. RSS sampled every 10 000 uploads` +
        `${num(s.rssAfterGcGrowthMB) ? ', then again after a forced GC' : ''}; growth from the 10 000 mark to the end: **${fmt(s.rssGrowthMB, 1)} MiB**` +
        `${num(s.rssAfterGcGrowthMB) ? ` (after GC: ${fmt(s.rssAfterGcGrowthMB, 1)} MiB)` : ''}. ` +
        `Open fds (\`/proc/self/fd\`): ${s.fdsBeforeLoad} before loading the addon, ${s.fdsStart} after warm-up (the connection pool is open), ${s.fdsEnd} at the end.`, '')
      const gcCol = s.samples.some((p) => num(p.rssAfterGcMB))
      L.push(`| uploads | RSS MiB |${gcCol ? ' RSS after GC MiB |' : ''} fds |`, `|--:|--:|${gcCol ? '--:|' : ''}--:|`)
      for (const p of s.samples) L.push(`| ${p.uploads} | ${fmt(p.rssMB, 1)} |${gcCol ? ` ${fmt(p.rssAfterGcMB, 1)} |` : ''} ${p.fds} |`)
      L.push('')
    }
  }
  return L.join('\n') + '\n'
}
