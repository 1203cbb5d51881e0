// The fleet bench's results (bench/fleet.mjs): read back from its .jsonl, checked against the
// issue 10 targets, rendered as the "## Fleet" section of BENCHMARKS.md.
import { readFileSync } from 'node:fs'
import { median } from './common.mjs'
import { fmt } from './report.mjs'

export const START = '<!-- fleet:start -->'
export const END = '<!-- fleet:end -->'
export const HEADING = '## Fleet (npm run bench -- --fleet)'

const STORE_LABEL = { none: 'no store', hooks: '`tokenStore` hooks (ioredis)', redis: '`tokenStore: { redis }`' }
const CACHE_LABEL = { none: 'no cache', memory: '`mediaCache: true` (in-process, one per process)', redis: '`mediaCache: { redis }` (fleet-wide)' }
const num = (x) => typeof x === 'number' && Number.isFinite(x)

export function loadFleetResults (file) {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  const metaLine = lines.find((l) => l.kind === 'meta')
  if (!metaLine) throw new Error(`${file} has no meta line`)
  const { cfg, kind, ...meta } = metaLine
  Object.assign(meta, lines.find((l) => l.kind === 'meta-end') || {})
  delete meta.kind
  const skipped = {}
  for (const l of lines.filter((x) => x.kind === 'skipped')) skipped[l.variant] = l.reason
  return {
    meta,
    cfg,
    skipped,
    cold: lines.filter((l) => l.kind === 'cold'),
    repeat: lines.filter((l) => l.kind === 'repeat'),
    overhead: lines.find((l) => l.kind === 'overhead') || null
  }
}

/** The three issue 10 targets; `pass` null when not measured (a variant skipped or failed). */
export function evaluateFleetTargets (r) {
  const out = []
  const coldRedis = r.cold.filter((x) => x.store === 'redis' && !x.error)
  const ns = [...new Set(r.cold.map((x) => x.n))].sort((a, b) => a - b)
  const coldRedisPass = coldRedis.length && ns.every((n) => coldRedis.some((x) => x.n === n)) ? coldRedis.every((x) => x.tokenFetches === 1 && !x.failures) : null
  const byN = ns.map((n) => `N=${n}: ${coldRedis.filter((x) => x.n === n).map((x) => x.tokenFetches).join(', ') || 'n/a'}`).join('; ')
  out.push({ text: 'exactly 1 token fetch per fleet cold start with `tokenStore: { redis }` (every N, every run)', measured: coldRedis.length ? byN : 'n/a', pass: coldRedisPass })

  const rep = r.repeat.filter((x) => x.cache === 'redis' && !x.error)
  out.push({
    text: `1 \`media/upload\` request for the repeated image with \`mediaCache: { redis }\` (every run)`,
    measured: rep.length ? `${rep.map((x) => x.uploads).join(', ')} upload(s)` : (r.skipped['cache:redis'] ? 'skipped: mediaCache not available' : 'n/a'),
    pass: rep.length ? rep.every((x) => x.uploads === 1 && !x.failures) : null
  })

  const o = r.overhead
  const ok = o && !o.error && !o.failure && num(o.diffP50Ms)
  out.push({ text: 'Redis overhead ≤ 0.3 ms p50 per call (warm, sequential, `{ redis }` − no store)', measured: ok ? `${fmtDiff(o.diffP50Ms)} ms` : 'n/a', pass: ok ? o.diffP50Ms <= 0.3 : null })
  return out
}

// fmt, but a difference that rounds to zero prints as 0.000, not -0.000.
const fmtDiff = (x, d = 3) => fmt(Math.abs(x) < 0.5 * 10 ** -d ? 0 : x, d)
const mark = (p) => (p === true ? '✓' : p === false ? '✗' : 'n/a')
const ms = (x, d) => (num(x) ? fmt(x, d ?? (Math.abs(x) >= 100 ? 0 : 1)) : 'n/a')
const runsOf = (xs, k) => xs.map((x) => x[k]).join(' / ')
const esc = (s) => String(s).replace(/\|/g, '\\|')

function coldTable (r) {
  const L = []
  L.push('| processes | token store | token fetches at the emulator | spawn → first success ms | release → first success ms | release → every process served ms | call p50 ms | call p99 ms | failures |')
  L.push('|--:|---|--:|--:|--:|--:|--:|--:|--:|')
  const ns = [...new Set(r.cold.map((x) => x.n))].sort((a, b) => a - b)
  if (!ns.length) ns.push(...(r.cfg.ns || []))
  for (const n of ns) {
    for (const store of ['none', 'hooks', 'redis']) {
      const skip = r.skipped[`store:${store}`]
      if (skip) { L.push(`| ${n} | ${STORE_LABEL[store]} | skipped: ${store === 'hooks' ? 'hooks not available' : esc(skip)} | | | | | | |`); continue }
      const rows = r.cold.filter((x) => x.n === n && x.store === store)
      if (!rows.length) continue
      const bad = rows.find((x) => x.error)
      if (bad) { L.push(`| ${n} | ${STORE_LABEL[store]} | **FAILED**: ${esc(bad.error).slice(0, 160)} | | | | | | |`); continue }
      const ok = rows
      const failures = ok.reduce((a, x) => a + x.failures, 0)
      L.push(`| ${n} | ${STORE_LABEL[store]} | ${runsOf(ok, 'tokenFetches')} | ${ms(median(ok.map((x) => x.spawnToFirstMs)), 0)} | ${ms(median(ok.map((x) => x.goToFirstMs)))} | ${ms(median(ok.map((x) => x.goToAllServedMs)))} | ${ms(median(ok.map((x) => x.p50Ms)))} | ${ms(median(ok.map((x) => x.p99Ms)))} | ${failures}${failures ? ` of ${ok.reduce((a, x) => a + x.calls, 0)} (${esc(ok.flatMap((x) => x.errors)[0] || '')})` : ''} |`)
    }
  }
  return L
}

function repeatTable (r) {
  const L = []
  L.push('| media cache | `media/upload` requests | quota saved (of the total) | wall ms (release → last done) | distinct mediaIds | results with `cached: true` | call p50 ms | call p99 ms | failures |')
  L.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|')
  for (const cache of ['none', 'memory', 'redis']) {
    const skip = r.skipped[`cache:${cache}`]
    if (skip) { L.push(`| ${CACHE_LABEL[cache]} | skipped: mediaCache not available | | | | | | | |`); continue }
    const rows = r.repeat.filter((x) => x.cache === cache)
    if (!rows.length) continue
    const bad = rows.find((x) => x.error)
    if (bad) { L.push(`| ${CACHE_LABEL[cache]} | **FAILED**: ${esc(bad.error).slice(0, 160)} | | | | | | | |`); continue }
    const failures = rows.reduce((a, x) => a + x.failures, 0)
    L.push(`| ${CACHE_LABEL[cache]} | ${runsOf(rows, 'uploads')} | ${runsOf(rows, 'quotaSaved')} (of ${rows[0].total}) | ${ms(median(rows.map((x) => x.wallMs)), 0)} | ${runsOf(rows, 'distinctMediaIds')} | ${runsOf(rows, 'cached')} | ${ms(median(rows.map((x) => x.p50Ms)))} | ${ms(median(rows.map((x) => x.p99Ms)))} | ${failures}${failures ? ` (${esc(rows.flatMap((x) => x.errors)[0] || '')})` : ''} |`)
  }
  return L
}

function overheadTable (o) {
  const L = []
  if (!o) return ['_Not measured._']
  if (o.error || o.failure) return [`**FAILED**: ${esc(o.error || o.failure)}`]
  L.push('| token store | calls | p50 ms | p90 ms | p99 ms | mean ms |', '|---|--:|--:|--:|--:|--:|')
  L.push(`| no store | ${o.A.n} | ${fmt(o.A.p50, 3)} | ${fmt(o.A.p90, 3)} | ${fmt(o.A.p99, 3)} | ${fmt(o.A.mean, 3)} |`)
  L.push(`| \`tokenStore: { redis }\` | ${o.B.n} | ${fmt(o.B.p50, 3)} | ${fmt(o.B.p90, 3)} | ${fmt(o.B.p99, 3)} | ${fmt(o.B.mean, 3)} |`)
  L.push(`| **difference** | | **${fmtDiff(o.diffP50Ms)}** | ${fmtDiff(o.B.p90 - o.A.p90)} | ${fmtDiff(o.diffP99Ms)} | ${fmtDiff(o.diffMeanMs)} |`)
  const bA = o.blockP50?.A || []; const bB = o.blockP50?.B || []
  if (bA.length && bB.length) {
    const diffs = bA.map((a, i) => (bB[i] ?? NaN) - a).filter(num)
    L.push('', `Per-block p50 difference (B − A, ${diffs.length} block pairs): median ${fmtDiff(median(diffs))} ms, range ${fmtDiff(Math.min(...diffs))} … ${fmtDiff(Math.max(...diffs))} ms.`)
  }
  if (num(o.redisCommands)) {
    L.push('', `Redis served ${o.redisCommands} command${o.redisCommands === 1 ? '' : 's'} over the whole run (${o.A.n + o.B.n} timed calls plus the warm-up)${o.redisCommands < o.B.n / 10 ? ': a warm call with a fresh token in its own process does not touch Redis, so the store costs the warm path nothing; Redis is read when a process has no fresh token (cold start, expiry, a rejected token)' : ''}.`)
  }
  return L
}

export function renderFleetSection (r) {
  const { meta, cfg } = r
  const L = [START, HEADING, '']
  const mins = Math.round((meta.durationS || 0) / 60)
  L.push(`Generated by \`npm run bench -- --fleet${meta.smoke ? ' --smoke' : ''}\` (bench/fleet.mjs) on ${meta.date.slice(0, 10)} from \`${meta.git}\`; it took ${mins ? `${mins} min` : `${meta.durationS} s`}. Raw JSON lines: \`${r.jsonlPath}\` (not committed). How it works: [bench/README.md](bench/README.md#fleet-npm-run-bench------fleet).`, '')
  if (meta.smoke) L.push('> **Smoke run** (N = 2 only, fewer repeated uploads): not the full bench.', '')
  const skips = Object.entries(r.skipped)
  for (const [v, why] of skips) L.push(`> **${v.startsWith('store:hooks') ? 'tokenStore hooks' : v.startsWith('cache:') ? `mediaCache (${v.slice(6)})` : v} skipped**: ${esc(why)}.`, '')
  L.push('| | |', '|---|---|')
  L.push(`| CPU | ${meta.cpu} |`)
  L.push(`| cores | ${meta.cores}${meta.pinned ? ` — emulator and redis-server pinned to CPU ${meta.serverCpu}, every fleet process to CPU ${meta.fleetCpu} (\`taskset -c\`)` : ' — not pinned'} |`)
  L.push(`| memory | ${meta.memGiB} GiB |`)
  L.push(`| OS | ${meta.platform} |`)
  L.push(`| Node | ${meta.node} |`)
  L.push(`| date | ${meta.date} |`)
  L.push(`| addon | ${meta.build} |`)
  const cpus = [...r.cold, ...r.repeat, r.overhead].filter((x) => x && num(x.otherCpuPct)).map((x) => x.otherCpuPct)
  L.push(`| background load | load average ${(meta.loadavgStart || []).join(' ')} at start, ${(meta.loadavgEnd || []).join(' ')} at the end (the load average counts this bench's own fleet processes too); CPU used by other processes during the runs (machine busy time minus this bench's processes): median ${fmt(median(cpus), 0)} %, max ${cpus.length ? fmt(Math.max(...cpus), 0) : 'n/a'} % of one core${median(cpus) > 25 ? ' (the machine was busy: times are disturbed; counts are not)' : ''} |`)
  L.push(`| servers | \`${meta.server}\` and \`redis-server ${meta.redis}\` (\`--save '' --appendonly no --bind 127.0.0.1\`, a free loopback port), each its own process; Redis flushed and the emulator's counters reset (\`POST /__emulator/reset\`) before every run |`)
  L.push(`| hooks | \`tokenStore: { get, set }\` on ioredis ${meta.ioredis}, written as a user would: \`get\` → \`JSON.parse(await redis.get(key))\`, \`set\` → \`redis.set(key, JSON.stringify(v), 'PX', expiresAt − now)\` (no lock); each process connects its ioredis client before it says ready |`)
  L.push(`| method | every fleet process is fresh (\`bench/fleet-worker.mjs\`): it loads wx-media, builds its client, says ready; when all are ready they are released at once (one line on stdin each), so every first call is cold at the same moment. Token fetches and uploads are counted by the emulator (\`GET /__emulator/stats\`: \`/cgi-bin/token\` + \`/cgi-bin/stable_token\`, \`/cgi-bin/media/upload\`). Payload: ${cfg.payloadBytes} bytes behind a PNG signature, the same bytes everywhere. Token mode: ${cfg.tokenMode || "`'stable'` (the default)"}. Every reply verified (errCode 0 and a mediaId). |`)
  L.push('')

  L.push('### Targets', '')
  L.push('| target | measured | |', '|---|---|:-:|')
  for (const t of evaluateFleetTargets(r)) L.push(`| ${t.text} | ${t.measured} | ${mark(t.pass)} |`)
  L.push('')

  L.push(`### Token cold start: N processes × ${cfg.callsPerProcess} concurrent \`uploadTempMedia\` calls`, '')
  L.push(`${cfg.reps} run${cfg.reps === 1 ? '' : 's'} per cell, the store order rotated between runs. Token fetches: each run's count (run 1 / run 2 / …). Times: medians over the runs, wall clock. "spawn → first success": from spawning the N processes to the fleet's first successful upload (includes Node start-up and loading the addon in N processes on one core). "release → …": from releasing the ready processes to the fleet's first success, and to the moment every process had its first success. Call latencies over every call of the run (N × ${cfg.callsPerProcess}), the first (cold) calls included. With \`{ redis }\` the processes that did not win the lock poll Redis for the holder's token (every 20 ms, \`POLL\` in src/token_store/shared.rs), so their first success can trail the holder's by up to one poll.`, '')
  L.push(...coldTable(r), '')
  const hooked = r.cold.filter((x) => x.store === 'hooks' && x.hookCalls)
  if (hooked.length) {
    const ns = [...new Set(hooked.map((x) => x.n))].sort((a, b) => a - b)
    L.push(`Hook calls, summed over the fleet (get / get that found a token / set), per run: ${ns.map((n) => `N=${n}: ${hooked.filter((x) => x.n === n).map((x) => `${x.hookCalls.get}/${x.hookCalls.hit}/${x.hookCalls.set}`).join(', ')}`).join('; ')}. Hooks have no lock: every process whose \`get\` runs before the first \`set\` has landed fetches its own token.`, '')
  }

  const per = cfg.repeatTotal / cfg.repeatProcs
  L.push(`### Repeated image: ${cfg.repeatTotal} uploads of the same image across ${cfg.repeatProcs} processes`, '')
  L.push(`${per} uploads per process, ${cfg.repeatConcurrency} in flight each, ${cfg.repeatReps} run${cfg.repeatReps === 1 ? '' : 's'} (counts per run, times medians). No token store (each process fetches its own token). Quota saved = ${cfg.repeatTotal} − \`media/upload\` requests (the daily quota is 5000 for an official account).`, '')
  L.push(...repeatTable(r), '')

  L.push('### Redis overhead per call', '')
  L.push(`One process, two clients against the same emulator: A with no store, B with \`tokenStore: { redis }\`. ${cfg.overheadWarmup} warm-up calls each, then ${cfg.overheadCalls} timed sequential uploads each in blocks of ${cfg.overheadBlock / 2} (A B B A, then B A A B, …, so drift cancels out). Target: B − A ≤ 0.3 ms at p50.`, '')
  L.push(...overheadTable(r.overhead), '')
  L.push(END)
  return L.join('\n') + '\n'
}

/** `doc` with its fleet section replaced by `section` (or `section` appended). */
export function replaceFleetSection (doc, section) {
  const a = doc.indexOf(START)
  const b = doc.indexOf(END)
  if (a >= 0 && b > a) return doc.slice(0, a) + section.trimEnd() + doc.slice(b + END.length)
  const h = doc.indexOf(HEADING)
  if (h >= 0) {
    const nx = doc.indexOf('\n## ', h + HEADING.length)
    return doc.slice(0, h) + section + (nx >= 0 ? '\n' + doc.slice(nx + 1) : '')
  }
  return (doc ? doc.trimEnd() + '\n\n' : '') + section
}

/** The fleet section of `doc`, or '' (bench/index.mjs keeps it when it rewrites the report). */
export function extractFleetSection (doc) {
  const a = doc.indexOf(START)
  const b = doc.indexOf(END)
  return a >= 0 && b > a ? doc.slice(a, b + END.length) + '\n' : ''
}
