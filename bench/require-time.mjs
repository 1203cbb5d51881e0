#!/usr/bin/env node
// Time to require() a set of modules in a fresh process. Prints one JSON line {set, ms}.
//   node bench/require-time.mjs wx-media | wx-server-sdk | axios+form-data | co-wechat-api
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'

const require = createRequire(import.meta.url)
export const SETS = {
  'wx-media': ['..'],
  'wx-server-sdk': ['wx-server-sdk'],
  'axios+form-data': ['axios', 'form-data'],
  'co-wechat-api': ['co-wechat-api']
}

const set = process.argv[2]
if (set) {
  const mods = SETS[set]
  if (!mods) { console.error(`unknown set ${set}`); process.exit(2) }
  const t0 = performance.now()
  for (const m of mods) require(m)
  const ms = performance.now() - t0
  process.stdout.write(JSON.stringify({ set, ms }) + '\n', () => process.exit(0))
}
