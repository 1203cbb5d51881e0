// tokenStore: { get, set } hooks (issue 10): the token shared through the
// user's own storage, within a process and across processes, and every way
// a hook can misbehave falling back to the process's own fetch.
import test from 'ava'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { wx, PNG, startEmulator, clientFor, requestsTo } from './helpers.mjs'

const CHILD = fileURLToPath(new URL('./fixtures/hooks-child.mjs', import.meta.url))
const upload = (client) => client.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: PNG } })
const documentedKey = (appid, secret) =>
  `wx-media:token:${appid}:${createHash('sha256').update(`${appid}:${secret}`).digest('hex').slice(0, 32)}`
const tokensUsed = (emu) => requestsTo(emu, '/cgi-bin/media/upload').map((r) => r.query.access_token)
const tokenRequests = (emu) => requestsTo(emu, '/cgi-bin/token').length + requestsTo(emu, '/cgi-bin/stable_token').length

/** Hooks over one Map, recording every call (`this` is the store: a class works). */
class MapStore {
  constructor(map = new Map()) {
    this.map = map
    this.calls = []
  }
  async get(key) {
    this.calls.push({ hook: 'get', key, self: this })
    return this.map.get(key) ?? null
  }
  async set(key, value) {
    this.calls.push({ hook: 'set', key, value, self: this })
    this.map.set(key, value)
  }
  sets() {
    return this.calls.filter((c) => c.hook === 'set')
  }
}

test('hooks are called with the documented key and { token, expiresAt } in ms since the epoch', async (t) => {
  const emu = await startEmulator(t)
  const store = new MapStore()
  const client = clientFor(emu, { tokenStore: store })
  const before = Date.now()
  t.is((await upload(client)).errCode, 0)
  const key = documentedKey(emu.appid, emu.secret)
  t.regex(key, /^wx-media:token:[^:]+:[0-9a-f]{32}$/)
  t.false(key.includes(emu.secret), 'the secret is not in the key')
  t.deepEqual(store.calls.map((c) => [c.hook, c.key]), [['get', key], ['set', key]])
  t.true(store.calls.every((c) => c.self === store), 'called as methods of the store')
  const { value } = store.sets()[0]
  t.is(Object.getPrototypeOf(value), Object.prototype, 'a plain object')
  t.deepEqual(Object.keys(value).sort(), ['expiresAt', 'token'])
  t.is(typeof value.token, 'string')
  t.deepEqual(tokensUsed(emu), [value.token], 'the stored token is the one the call used')
  t.is(typeof value.expiresAt, 'number')
  // WeChat's 7200 s minus the 300 s refresh margin.
  const ttl = value.expiresAt - before
  t.true(ttl > 6890_000 && ttl <= 6900_000 + (Date.now() - before), `expiresAt is now + ${ttl} ms`)
  t.is(client.tokenFetchCount, 1)
})

test('a second client with the same hooks reuses the stored token with no fetch', async (t) => {
  const emu = await startEmulator(t)
  const map = new Map()
  const first = clientFor(emu, { tokenStore: new MapStore(map) })
  t.is((await upload(first)).errCode, 0)
  t.is(tokenRequests(emu), 1)
  const store = new MapStore(map)
  const second = clientFor(emu, { tokenStore: store })
  const results = await Promise.all(Array.from({ length: 5 }, () => upload(second)))
  t.true(results.every((r) => r.errCode === 0))
  t.is(second.tokenFetchCount, 0)
  t.is(tokenRequests(emu), 1, 'no /cgi-bin/token or stable_token request')
  t.is(emu.stats().tokenFetches, 1)
  t.deepEqual(store.calls.map((c) => c.hook), ['get'], 'read once, nothing to store')
  t.deepEqual(new Set(tokensUsed(emu)), new Set([map.get(documentedKey(emu.appid, emu.secret)).token]))
})

test('an expired stored token is not used: a fresh one is fetched and set', async (t) => {
  const emu = await startEmulator(t)
  const key = documentedKey(emu.appid, emu.secret)
  const store = new MapStore(new Map([[key, { token: 'STALE_TOKEN_0123456789', expiresAt: Date.now() - 1000 }]]))
  const client = clientFor(emu, { tokenStore: store })
  t.is((await upload(client)).errCode, 0)
  t.is(client.tokenFetchCount, 1)
  t.false(tokensUsed(emu).includes('STALE_TOKEN_0123456789'))
  const fresh = store.map.get(key)
  t.not(fresh.token, 'STALE_TOKEN_0123456789')
  t.true(fresh.expiresAt > Date.now())
})

test('40001 on a hook-stored token: one refresh, the new token is set, the rejected one never reused', async (t) => {
  const emu = await startEmulator(t)
  const map = new Map()
  const key = documentedKey(emu.appid, emu.secret)
  const store = new MapStore(map)
  const client = clientFor(emu, { tokenStore: store })
  t.is((await upload(client)).errCode, 0)
  const rejected = map.get(key).token
  emu.expireTokens()
  // The store still holds the rejected token when the refresh reads it.
  const results = await Promise.all(Array.from({ length: 4 }, () => upload(client)))
  t.true(results.every((r) => r.errCode === 0))
  t.is(client.tokenFetchCount, 2, 'one refresh')
  t.is(emu.stats().tokenFetches, 2)
  const sets = store.sets().map((c) => c.value.token)
  t.is(sets.length, 2)
  t.is(sets[0], rejected)
  t.not(sets[1], rejected, 'the fresh token is set over the rejected one')
  t.is(map.get(key).token, sets[1])
  const used = tokensUsed(emu)
  t.true(used.every((tok) => tok === rejected || tok === sets[1]))
  t.true(used.slice(1).includes(rejected), 'the expired token was rejected at least once')
  t.is(used.filter((tok) => tok === sets[1]).length, 4, 'each call succeeded once, with the new token')
  // Another client takes the new token from the store, not the rejected one.
  const other = clientFor(emu, { tokenStore: new MapStore(map) })
  t.is((await upload(other)).errCode, 0)
  t.is(other.tokenFetchCount, 0)
  t.is(tokensUsed(emu).at(-1), sets[1])
})

test('a get that never settles leaves the call time for its own fetch within a short JSON timeout', async (t) => {
  const emu = await startEmulator(t)
  let gets = 0
  const tokenStore = { get: () => (gets++, new Promise(() => {})), set: () => {} }
  // 900 ms, shorter than the hooks' own 1 s bound: the store gets half of it.
  const client = clientFor(emu, { timeout: { json: 900 }, tokenStore })
  t.is((await upload(client)).errCode, 0)
  t.is(gets, 1)
  t.is(client.tokenFetchCount, 1)
})

test('init() takes hooks too', async (t) => {
  const emu = await startEmulator(t)
  const store = new MapStore()
  wx.init({ appid: emu.appid, secret: emu.secret, baseUrl: emu.url, tokenStore: store })
  t.is((await wx.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: PNG } })).errCode, 0)
  t.deepEqual(store.calls.map((c) => c.hook), ['get', 'set'])
  t.is(store.sets()[0].key, documentedKey(emu.appid, emu.secret))
})

/** Runs the child fixture; resolves { line, stderr, code } once it exits by itself. */
function runChild(t, emu, mode, { file, env = {}, calls = 3 } = {}) {
  const opts = { png: PNG.toString('base64'), calls, mode, file, client: { appid: emu.appid, secret: emu.secret, baseUrl: emu.url } }
  const proc = spawn(process.execPath, [CHILD, JSON.stringify(opts)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WX_MEDIA_LOG: '', DEBUG: '', ...env },
  })
  let stdout = ''
  let stderr = ''
  proc.stdout.on('data', (d) => (stdout += d))
  proc.stderr.on('data', (d) => (stderr += d))
  // Generous: a child that does not exit by itself is a failure, not a hang.
  const killer = setTimeout(() => proc.kill('SIGKILL'), 30_000)
  t.teardown(() => {
    clearTimeout(killer)
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
  return new Promise((resolve) => {
    proc.once('close', (code, signal) => {
      clearTimeout(killer)
      resolve({ line: stdout.trim() ? JSON.parse(stdout.trim().split('\n').at(-1)) : null, stderr, code, signal })
    })
  })
}

const tmpFile = (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-media-hooks-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'tokens.json')
}

test('a second process reuses the token stored through file-backed hooks, with no fetch', async (t) => {
  const emu = await startEmulator(t)
  const file = tmpFile(t)
  const first = await runChild(t, emu, 'file', { file })
  t.is(first.code, 0)
  t.true(first.line.results.every((r) => r.ok && r.errCode === 0))
  t.is(first.line.fetches, 1)
  const stored = JSON.parse(readFileSync(file, 'utf8'))
  const key = documentedKey(emu.appid, emu.secret)
  t.deepEqual(Object.keys(stored), [key])
  t.false(readFileSync(file, 'utf8').includes(emu.secret), 'no secret in the store')
  t.is(tokenRequests(emu), 1)

  const second = await runChild(t, emu, 'file', { file })
  t.is(second.code, 0)
  t.true(second.line.results.every((r) => r.ok && r.errCode === 0))
  t.is(second.line.fetches, 0)
  t.deepEqual(second.line.sets, [], 'nothing new to store')
  t.is(tokenRequests(emu), 1, 'no token request from the second process')
  t.deepEqual(new Set(tokensUsed(emu)), new Set([stored[key].token]))
})

const misbehaviours = [
  ['getThrows', /tokenStore \(hooks\) get failed.*tokenStore\.get threw: get exploded/],
  ['getRejects', /tokenStore \(hooks\) get failed.*tokenStore\.get rejected: get rejected/],
  ['getGarbage', /tokenStore \(hooks\) get failed.*tokenStore\.get must resolve to \{ token, expiresAt \}, null or undefined, got a number/],
  ['getNaN', /tokenStore \(hooks\) get failed.*its expiresAt is NaN/],
  ['getNeverSettles', /tokenStore \(hooks\) get failed.*tokenStore\.get did not settle within 1000 ms/],
  ['setRejects', /tokenStore \(hooks\) set failed.*tokenStore\.set rejected: cannot store/],
]

for (const [mode, warning] of misbehaviours) {
  test(`hook misbehaviour (${mode}): every call succeeds with its own fetch, one redacted warning`, async (t) => {
    const emu = await startEmulator(t)
    const run = await runChild(t, emu, mode, { env: { WX_MEDIA_LOG: 'debug' } })
    t.is(run.signal, null, 'the process exits by itself')
    t.is(run.code, 0)
    t.deepEqual(run.line.results.filter((r) => !r.ok || r.errCode !== 0), [], 'every call succeeds')
    t.is(run.line.fetches, 1, 'its own fetch')
    t.deepEqual(run.line.problems, [], 'no uncaught exception or unhandled rejection')
    const warnings = run.stderr.split('\n').filter((l) => l.startsWith('wx-media warning '))
    t.is(warnings.length, 1, run.stderr)
    t.regex(warnings[0], warning)
    t.false(run.stderr.includes(emu.secret), 'no secret on stderr')
    const tokens = [...tokensUsed(emu), ...run.line.sets.map((v) => v.token), 'LEAKED_STORE_TOKEN_1234567890']
    t.true(tokens.length >= 2)
    for (const token of tokens) t.false(run.stderr.includes(token), 'no token on stderr')
  })
}

test('without WX_MEDIA_LOG a failing hook writes nothing to stderr', async (t) => {
  const emu = await startEmulator(t)
  const run = await runChild(t, emu, 'getThrows')
  t.is(run.code, 0)
  t.true(run.line.results.every((r) => r.ok))
  t.is(run.stderr, '')
})

test('tokenStore hook options are checked at construction', (t) => {
  const base = { appid: 'wx1', secret: 's' }
  const get = async () => null
  const set = async () => {}
  const err = (tokenStore, extra = base) => {
    const e = t.throws(() => new wx.WxClient({ ...extra, tokenStore }))
    t.is(e.code, 'INVALID_PARAM')
    return e.message
  }
  t.regex(err({ get }), /need both get\(key\) and set\(key, \{ token, expiresAt \}\).*missing/)
  t.regex(err({ set }), /need both get\(key\) and set/)
  t.regex(err({ gte: get, set }), /unknown option 'tokenStore\.gte': did you mean 'tokenStore\.get'\?/)
  t.regex(err({ get: 'tokens', set }), /tokenStore\.get must be a function, got a string/)
  t.regex(err({ get, set: {} }), /tokenStore\.set must be a function, got an object/)
  t.regex(err({ get, set, redis: 'redis://127.0.0.1:1' }), /either \{ redis \} or \{ get, set \} hooks, not both/)
  t.regex(err({}), /redis.*or get\(key\) and set/)
  t.regex(err({ get, set }, { accessToken: 't' }), /appid, secret/)
  t.regex(err(() => null), /tokenStore: \{ redis: .* or \{ get\(key\), set\(key, value\) \}, got a function/)
  // The hooks object may carry its own state.
  t.notThrows(() => new wx.WxClient({ ...base, tokenStore: { get, set, cache: new Map() } }))
  t.notThrows(() => new wx.WxClient({ ...base, tokenStore: new MapStore() }))
})
