// Fleet scale (issue 10): tokens shared through a real redis-server by
// several child processes against one emulator.
import anyTest from 'ava'
import { wx, startEmulator } from './helpers.mjs'
import { startRedis, redisCli, until } from './redis-helper.mjs'
import { child, allOk, keys } from './fleet-helper.mjs'

// Serial: each test runs a fleet of processes; on 2 cores they must not pile up.
const test = anyTest.serial

for (const tokenMode of ['stable', 'legacy']) {
  test(`8 processes × 20 concurrent cold calls with { redis }: exactly 1 token fetch (${tokenMode})`, async (t) => {
    const emu = await startEmulator(t)
    const redis = await startRedis(t)
    // Keep the first fetch slow so every process starts cold while it runs.
    emu.injectFault({ path: tokenMode === 'stable' ? '/cgi-bin/stable_token' : '/cgi-bin/token', delayMs: 300 })
    const kids = Array.from({ length: 8 }, () => child(t, emu, { store: { redis: redis.url }, tokenMode }))
    const lines = await Promise.all(kids.map((k) => k.round()))
    for (const line of lines) allOk(t, line)
    t.is(emu.stats().tokenFetches, 1)
    t.is(lines.reduce((n, l) => n + l.fetches, 0), 1)
    // No call was replayed after a 40001 (legacy: no process invalidated another's token).
    t.is(emu.stats().requests['/cgi-bin/media/upload'], 160)

    // No secret in any key or value; the only value is the token.
    const found = keys(redis.port)
    t.true(found.length >= 1)
    for (const key of found) {
      t.false(key.includes(emu.secret), 'no secret in a key')
      t.true(key.startsWith(`wx-media:token:${emu.appid}:`))
      const value = redisCli(redis.port, 'GET', key).trim()
      t.false(value.includes(emu.secret), 'no secret in a value')
      if (!key.endsWith(':lock')) {
        const parsed = JSON.parse(value)
        t.deepEqual(Object.keys(parsed).sort(), ['expiresAt', 'token'])
        t.true(parsed.expiresAt > Date.now())
      }
    }
  })
}

test('a second process reuses the stored token with no fetch; a prefix keeps fleets apart', async (t) => {
  const emu = await startEmulator(t)
  const redis = await startRedis(t)
  const store = { redis: { url: redis.url, prefix: 'fleetA:' } }
  allOk(t, await child(t, emu, { store, calls: 2 }).round())
  t.is(emu.stats().tokenFetches, 1)
  const second = await child(t, emu, { store, calls: 2 }).round()
  allOk(t, second)
  t.is(second.fetches, 0)
  t.is(emu.stats().tokenFetches, 1)
  t.true(keys(redis.port).every((k) => k.startsWith('fleetA:wx-media:token:')))
})

test('lock holder SIGKILLed while holding the lock: another refreshes after it expires, every call succeeds', async (t) => {
  const emu = await startEmulator(t)
  const redis = await startRedis(t)
  const store = { redis: { url: redis.url, lockMs: 1000 } }
  emu.injectFault({ path: '/cgi-bin/stable_token', delayMs: 5000 }) // the holder's fetch hangs
  const holder = child(t, emu, { store, calls: 1 })
  await until(() => keys(redis.port).some((k) => k.endsWith(':lock')), 10000, 'the lock to be taken')
  const exited = new Promise((r) => holder.proc.once('exit', r))
  holder.proc.kill('SIGKILL')
  await exited
  const other = await child(t, emu, { store, calls: 20 }).round()
  allOk(t, other)
  t.is(other.fetches, 1)
})

test('40001 on a token shared through Redis: one refresh fleet-wide, the new token is kept', async (t) => {
  const emu = await startEmulator(t)
  const redis = await startRedis(t)
  const store = { redis: redis.url }
  const a = child(t, emu, { store, rounds: 2, tokenMode: 'legacy' })
  const b = child(t, emu, { store, rounds: 2, tokenMode: 'legacy' })
  allOk(t, await a.round())
  allOk(t, await b.round())
  t.is(emu.stats().tokenFetches, 1)
  const [key] = keys(redis.port).filter((k) => !k.endsWith(':lock'))
  const before = JSON.parse(redisCli(redis.port, 'GET', key)).token
  emu.expireTokens()
  a.next()
  b.next()
  const [ra, rb] = await Promise.all([a.round(), b.round()])
  allOk(t, ra)
  allOk(t, rb)
  t.is(emu.stats().tokenFetches, 2, 'one refresh for both processes')
  const after = JSON.parse(redisCli(redis.port, 'GET', key)).token
  t.not(after, before, 'the failed token was replaced, the new one not removed')
})

test('Redis stopped mid-run, then restarted: no call fails, sharing resumes', async (t) => {
  const emu = await startEmulator(t)
  const redis = await startRedis(t)
  const store = { redis: redis.url }
  const a = child(t, emu, { store, rounds: 3 })
  allOk(t, await a.round())
  await redis.stop()
  emu.expireTokens() // force a refresh while Redis is down
  a.next()
  allOk(t, await a.round())
  // A process starting while Redis is down works too.
  allOk(t, await child(t, emu, { store, calls: 3 }).round())
  await redis.start()
  a.next()
  allOk(t, await a.round())
  const fetchesBefore = emu.stats().tokenFetches
  allOk(t, await child(t, emu, { store, calls: 3 }).round())
  const reuse = await child(t, emu, { store, calls: 3 }).round()
  allOk(t, reuse)
  t.is(reuse.fetches, 0, 'the token is shared again')
  t.is(emu.stats().tokenFetches, fetchesBefore + 1)
})

test('tokenStore options are checked', (t) => {
  const base = { appid: 'wx1', secret: 's' }
  const err = (o) => t.throws(() => new wx.WxClient({ ...base, ...o }))
  t.regex(err({ tokenStore: {} }).message, /redis/)
  t.regex(err({ tokenStore: { redis: 'http://x' } }).message, /redis:\/\//)
  t.regex(err({ tokenStore: { redis: { url: 'redis://127.0.0.1:1', lockMS: 5 } } }).message, /lockMs/)
  t.regex(t.throws(() => new wx.WxClient({ accessToken: 't', tokenStore: { redis: 'redis://127.0.0.1:1' } })).message, /appid, secret/)
  t.notThrows(() => new wx.WxClient({ ...base, tokenStore: { redis: 'redis://:pw@127.0.0.1:1' } }))
})
