// mediaCache (issue 10): identical bytes of one type for one appid reuse
// their mediaId, in one process and across a fleet sharing a real
// redis-server; every count is read at the emulator.
import anyTest from 'ava'
import { Readable } from 'node:stream'
import { wx, PNG, JPEG, startEmulator, clientFor, pngOfSize, sha256, requestsTo } from './helpers.mjs'
import { startRedis, redisCli } from './redis-helper.mjs'
import { child, allOk, keys } from './fleet-helper.mjs'

// Serial: the fleet tests run processes; on 2 cores they must not pile up.
const test = anyTest.serial
const uploads = (emu) => emu.stats().requests['/cgi-bin/media/upload'] ?? 0
// Uploads the emulator stored (not those it refused, e.g. with an expired token).
const stored = (emu) => requestsTo(emu, '/cgi-bin/media/upload').filter((r) => r.status === 200 && !r.errcode).length
const image = (value) => ({ type: 'image', media: { contentType: 'image/png', value } })
const DAY = 24 * 3600 * 1000

test('mediaCache: true — 100 concurrent uploads of the same bytes make 1 media/upload, all with its mediaId', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { mediaCache: true })
  const results = await Promise.all(Array.from({ length: 100 }, () => client.uploadTempMedia(image(PNG))))
  t.is(uploads(emu), 1)
  const [first] = results.filter((r) => !r.cached)
  t.truthy(first, 'one result is the upload itself')
  t.deepEqual(Object.keys(first).sort(), ['createdAt', 'errCode', 'errMsg', 'mediaId', 'type'])
  for (const r of results) {
    t.is(r.mediaId, first.mediaId)
    t.is(r.createdAt, first.createdAt)
    t.is(r.type, 'image')
    t.is(r.errCode, 0)
    t.is(r.errMsg, first.errMsg)
  }
  t.is(results.filter((r) => r.cached === true).length, 99)
  // Later calls are hits too, without any request.
  const before = emu.requests().length
  const again = await client.uploadTempMedia(image(Buffer.from(PNG)))
  t.deepEqual(again, { ...first, cached: true })
  t.is(emu.requests().length, before)
})

test('different bytes and different types are different uploads; other apps do not share', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { mediaCache: true })
  const a = await client.uploadTempMedia(image(pngOfSize(2000)))
  const b = await client.uploadTempMedia(image(pngOfSize(2001)))
  const asImage = await client.uploadTempMedia({ type: 'image', media: { contentType: 'image/jpeg', value: JPEG } })
  const asThumb = await client.uploadTempMedia({ type: 'thumb', media: { contentType: 'image/jpeg', value: JPEG } })
  t.is(uploads(emu), 4)
  t.is(new Set([a, b, asImage, asThumb].map((r) => r.mediaId)).size, 4)
  t.false([a, b, asImage, asThumb].some((r) => r.cached))
  t.is(asThumb.type, 'thumb')
  // The same thumb again is a hit, with the thumb's type.
  const thumbAgain = await client.uploadTempMedia({ type: 'thumb', media: { value: JPEG } })
  t.deepEqual(thumbAgain, { ...asThumb, cached: true })
  t.is(uploads(emu), 4)
  // A client with its own cache does not see this one's entries.
  await clientFor(emu, { mediaCache: true }).uploadTempMedia(image(pngOfSize(2000)))
  t.is(uploads(emu), 5)
})

test('after advanceClock(3 days) the same bytes are uploaded again; hits until then', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { mediaCache: true })
  const first = await client.uploadTempMedia(image(PNG))
  emu.advanceClock(2 * DAY)
  const hit = await client.uploadTempMedia(image(PNG))
  t.true(hit.cached)
  t.is(hit.mediaId, first.mediaId)
  // Within the safety hour before the media's end the entry is gone.
  emu.advanceClock(DAY - 30 * 60 * 1000)
  emu.expireTokens()
  const renewed = await client.uploadTempMedia(image(PNG))
  t.falsy(renewed.cached)
  t.not(renewed.mediaId, first.mediaId)
  t.is(stored(emu), 2)
  // The new mediaId is live at the emulator: a message can use it.
  const sent = await client.openapi.customerServiceMessage.send({ touser: 'o1', msgtype: 'image', image: { mediaId: renewed.mediaId } })
  t.is(sent.errCode, 0)
})

test('ttlMs ends entries sooner; maxEntries evicts the least recently used', async (t) => {
  const emu = await startEmulator(t)
  const short = clientFor(emu, { mediaCache: { ttlMs: 60_000 } })
  const first = await short.uploadTempMedia(image(PNG))
  emu.advanceClock(59_000)
  t.true((await short.uploadTempMedia(image(PNG))).cached)
  emu.advanceClock(2_000)
  const renewed = await short.uploadTempMedia(image(PNG))
  t.falsy(renewed.cached)
  t.not(renewed.mediaId, first.mediaId)

  const small = clientFor(emu, { mediaCache: { maxEntries: 2 } })
  const [a, b, c] = [pngOfSize(1000), pngOfSize(1001), pngOfSize(1002)]
  await small.uploadTempMedia(image(a))
  await small.uploadTempMedia(image(b))
  t.true((await small.uploadTempMedia(image(a))).cached, 'a is now the most recent')
  await small.uploadTempMedia(image(c)) // evicts b
  t.true((await small.uploadTempMedia(image(a))).cached)
  t.true((await small.uploadTempMedia(image(c))).cached)
  t.falsy((await small.uploadTempMedia(image(b))).cached, 'b was evicted')
})

test('a failed upload is not cached; the next call uploads and its mediaId is cached', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { mediaCache: true })
  emu.injectFault({ path: '/cgi-bin/media/upload', times: 1, body: { errcode: 45009, errmsg: 'reach max api daily quota limit' } })
  const err = await t.throwsAsync(client.uploadTempMedia(image(PNG)))
  t.is(err.errCode, 45009)
  const ok = await client.uploadTempMedia(image(PNG))
  t.falsy(ok.cached)
  t.true(ok.mediaId.length > 10)
  const hit = await client.uploadTempMedia(image(PNG))
  t.is(hit.mediaId, ok.mediaId)
  t.true(hit.cached)
  t.is(uploads(emu), 2)
})

test('bypassCache: true uploads anyway and leaves the cached mediaId in place', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { mediaCache: true })
  const first = await client.uploadTempMedia(image(PNG))
  const bypassed = await client.uploadTempMedia({ ...image(PNG), bypassCache: true })
  t.is(uploads(emu), 2)
  t.not(bypassed.mediaId, first.mediaId)
  t.false('cached' in bypassed)
  const hit = await client.uploadTempMedia(image(PNG))
  t.is(hit.mediaId, first.mediaId)
  t.is(uploads(emu), 2)
  const bad = await t.throwsAsync(client.uploadTempMedia({ ...image(PNG), bypassCache: 'yes' }))
  t.is(bad.code, 'INVALID_PARAM')
  t.regex(bad.message, /bypassCache must be true or false/)
  t.is(uploads(emu), 2)
})

test('without mediaCache every call uploads and results have no cached field', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const a = await client.uploadTempMedia(image(PNG))
  const b = await client.uploadTempMedia(image(PNG))
  t.is(uploads(emu), 2)
  t.false('cached' in a || 'cached' in b)
  t.not(a.mediaId, b.mediaId)
})

test('streams are uploaded each time (only bytes in memory are cached)', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { mediaCache: true })
  for (let i = 0; i < 2; i++) {
    const r = await client.uploadTempMedia(image(Readable.from([PNG])))
    t.falsy(r.cached)
  }
  t.is(uploads(emu), 2)
})

test('the key hashes the bytes as sent: a Uint8Array view of the same bytes is a hit', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { mediaCache: true })
  const first = await client.uploadTempMedia(image(PNG))
  const padded = Buffer.concat([Buffer.alloc(7), PNG, Buffer.alloc(5)])
  const view = new Uint8Array(padded.buffer, padded.byteOffset + 7, PNG.length)
  const hit = await client.uploadTempMedia(image(view))
  t.is(hit.mediaId, first.mediaId)
  t.true(hit.cached)
  t.is(uploads(emu), 1)
})

test('mediaCache options are checked at construction', (t) => {
  const base = { appid: 'wx1', secret: 's' }
  const err = (o) => t.throws(() => new wx.WxClient({ ...base, ...o }))
  t.regex(err({ mediaCache: 'yes' }).message, /mediaCache: true/)
  t.regex(err({ mediaCache: { ttlMs: 3 * DAY } }).message, /ttlMs must be between 1000 and 255600000/)
  t.regex(err({ mediaCache: { ttlMS: 1000 } }).message, /ttlMs/)
  t.regex(err({ mediaCache: { redis: 42 } }).message, /mediaCache.redis must be a URL string/)
  t.regex(err({ mediaCache: { redis: { uri: 'redis://127.0.0.1:1' } } }).message, /url/)
  t.regex(err({ mediaCache: { prefix: 'a:', redis: { url: 'redis://127.0.0.1:1', prefix: 'b:' } } }).message, /pass it once/)
  t.notThrows(() => new wx.WxClient({ ...base, mediaCache: { redis: { url: 'redis://127.0.0.1:1', prefix: 'b:', lockMs: 500 } } }))
  t.regex(err({ mediaCache: { redis: 'http://127.0.0.1:1' } }).message, /redis:\/\//)
  t.regex(err({ mediaCache: { maxEntries: 0 } }).message, /maxEntries/)
  t.regex(err({ medaCache: true }).message, /mediaCache/)
  t.regex(t.throws(() => new wx.WxClient({ accessToken: 't', mediaCache: { redis: 'redis://127.0.0.1:1' } })).message, /pass appid/)
  t.notThrows(() => new wx.WxClient({ accessToken: 't', mediaCache: true }))
  t.notThrows(() => new wx.WxClient({ ...base, mediaCache: false }))
  t.notThrows(() => new wx.WxClient({ ...base, mediaCache: { redis: 'redis://:pw@127.0.0.1:1', prefix: 'a:', ttlMs: 60000, lockMs: 500, maxEntries: 5 } }))
})

// ---- the fleet: 4 processes sharing a real redis-server ----

test('{ redis }: 100 uploads of the same bytes from 4 processes at once → 1 media/upload, one mediaId', async (t) => {
  const emu = await startEmulator(t)
  const redis = await startRedis(t)
  // A slow first upload: every process misses while it runs.
  emu.injectFault({ path: '/cgi-bin/media/upload', delayMs: 300, times: 1 })
  const client = { mediaCache: { redis: redis.url } }
  const kids = Array.from({ length: 4 }, () => child(t, emu, { calls: 25, client }))
  const lines = await Promise.all(kids.map((k) => k.round()))
  for (const line of lines) allOk(t, line)
  t.is(uploads(emu), 1)
  const results = lines.flatMap((l) => l.results)
  t.is(results.length, 100)
  t.is(new Set(results.map((r) => r.mediaId)).size, 1)
  t.is(results.filter((r) => r.cached).length, 99)

  // The entry: the app, the type and the digest in the key; no secret anywhere.
  const found = keys(redis.port).filter((k) => k.startsWith('wx-media:media:'))
  t.deepEqual(found, [`wx-media:media:${emu.appid}:image:${sha256(PNG)}`])
  const entry = JSON.parse(redisCli(redis.port, 'GET', found[0]))
  t.deepEqual(Object.keys(entry).sort(), ['createdAt', 'expiresAt', 'mediaId', 'type'])
  t.is(entry.mediaId, results[0].mediaId)
  const ttl = Number(redisCli(redis.port, 'PTTL', found[0]).trim())
  t.true(ttl > 3 * DAY - 2 * 3600 * 1000 && ttl <= 3 * DAY - 3600 * 1000, `PTTL ${ttl}`)
  // A new process gets it from Redis with no upload.
  const late = await child(t, emu, { calls: 3, client }).round()
  allOk(t, late)
  t.true(late.results.every((r) => r.cached && r.mediaId === entry.mediaId))
  t.is(uploads(emu), 1)
})

test('no secret in any Redis key or value with tokenStore and mediaCache on one Redis; only the token key holds the token', async (t) => {
  const emu = await startEmulator(t)
  const redis = await startRedis(t)
  const line = await child(t, emu, { calls: 5, store: { redis: redis.url }, client: { mediaCache: { redis: redis.url } } }).round()
  allOk(t, line)
  const found = keys(redis.port)
  t.true(found.some((k) => k.startsWith('wx-media:token:')))
  t.true(found.some((k) => k.startsWith('wx-media:media:')))
  let tokenValue
  for (const key of found) {
    t.false(key.includes(emu.secret), `no secret in ${key}`)
    const value = redisCli(redis.port, 'GET', key)
    t.false(value.includes(emu.secret), `no secret in the value of ${key}`)
    if (key.startsWith('wx-media:token:')) tokenValue = JSON.parse(value).token
  }
  t.true(typeof tokenValue === 'string' && tokenValue.length > 10)
  for (const key of found.filter((k) => !k.startsWith('wx-media:token:'))) {
    t.false(redisCli(redis.port, 'GET', key).includes(tokenValue), `no token in ${key}`)
  }
})

test('{ redis: { url, prefix } } keeps its entries under the prefix, shared by processes with the same prefix only', async (t) => {
  const emu = await startEmulator(t)
  const redis = await startRedis(t)
  const cacheA = { mediaCache: { redis: { url: redis.url, prefix: 'fleetA:' } } }
  allOk(t, await child(t, emu, { calls: 2, client: cacheA }).round())
  t.deepEqual(keys(redis.port), [`fleetA:wx-media:media:${emu.appid}:image:${sha256(PNG)}`])
  const again = await child(t, emu, { calls: 2, client: cacheA }).round()
  t.true(again.results.every((r) => r.cached))
  const other = await child(t, emu, { calls: 1, client: { mediaCache: { redis: redis.url, prefix: 'fleetB:' } } }).round()
  t.false(other.results[0].cached)
  t.is(uploads(emu), 2)
})

test('{ redis } down: uploads still succeed and the process keeps its own cache; different bytes still upload', async (t) => {
  const emu = await startEmulator(t)
  const redis = await startRedis(t)
  await redis.stop()
  const line = await child(t, emu, { calls: 10, rounds: 1, client: { mediaCache: { redis: redis.url } } }).round()
  allOk(t, line)
  t.is(new Set(line.results.map((r) => r.mediaId)).size, 1, 'the in-process layer still single-flights')
  t.is(uploads(emu), 1)
  const other = await child(t, emu, { calls: 1, upload: { type: 'image', base64: pngOfSize(3000).toString('base64') }, client: { mediaCache: { redis: redis.url } } }).round()
  allOk(t, other)
  t.is(uploads(emu), 2)
})

test('{ redis }: a process killed while it holds the upload lock does not block the fleet', async (t) => {
  const emu = await startEmulator(t)
  const redis = await startRedis(t)
  const client = { mediaCache: { redis: redis.url, lockMs: 1000 } }
  emu.injectFault({ path: '/cgi-bin/media/upload', delayMs: 5000, times: 1 }) // the holder's upload hangs
  const holder = child(t, emu, { calls: 1, client })
  const lockKey = `wx-media:media:${emu.appid}:image:${sha256(PNG)}:lock`
  const end = Date.now() + 10000
  while (!keys(redis.port).includes(lockKey) && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
  t.true(keys(redis.port).includes(lockKey), 'the holder took the lock')
  const exited = new Promise((r) => holder.proc.once('exit', r))
  holder.proc.kill('SIGKILL')
  await exited
  const other = await child(t, emu, { calls: 10, client }).round()
  allOk(t, other)
  t.is(new Set(other.results.map((r) => r.mediaId)).size, 1)
  t.is(other.results.filter((r) => r.cached).length, 9)
})
