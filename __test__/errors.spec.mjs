// Error model: bad input refused before any request, secrets never leak,
// timeouts and network failures, the process stays healthy.
import test from 'ava'
import net from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { wx, PNG, JPEG, startEmulator, clientFor, totalRequests, pngOfSize } from './helpers.mjs'

function expectShape(t, err, code) {
  t.true(err instanceof Error)
  t.is(err.code, code)
  t.is(typeof err.errCode, 'number')
  t.is(typeof err.errMsg, 'string')
  t.true(err.message.startsWith(`errCode: ${err.errCode} `), err.message)
  t.true(err.message.includes(`| errMsg: ${err.errMsg}`), err.message)
}

const badUploads = [
  ['no argument', undefined, /expected \{ type/],
  ['an unknown type', { type: 'file', media: { value: PNG } }, /type must be one of 'image', 'voice', 'video', 'thumb', got 'file'/],
  ['a missing type', { media: { value: PNG } }, /type is missing/],
  ['a missing media', { type: 'image' }, /media is missing/],
  ['a missing value', { type: 'image', media: { contentType: 'image/png' } }, /media\.value is missing/],
  ['a string value', { type: 'image', media: { contentType: 'image/png', value: 'aGVsbG8=' } }, /media\.value must be a Buffer or Uint8Array, an fs\.ReadStream, .*got a string/],
  ['an ArrayBuffer value', { type: 'image', media: { value: new ArrayBuffer(8) } }, /got an ArrayBuffer/],
  ['an empty value', { type: 'image', media: { contentType: 'image/png', value: Buffer.alloc(0) } }, /media\.value is empty/],
  ['a contentType contradicting the bytes', { type: 'image', media: { contentType: 'image/png', value: JPEG } }, /says 'image\/png' but the bytes are image\/jpeg/],
  ['bytes of no known format', { type: 'image', media: { contentType: 'image/png', value: Buffer.from('plain text, not a picture') } }, /does not look like image\/png/],
  ['a format the type does not take', { type: 'voice', media: { value: PNG } }, /cannot be uploaded as type 'voice'/],
  ['an oversize image', { type: 'image', media: { value: pngOfSize(10 * 1024 * 1024 + 1) } }, /over the image limit of 10485760 bytes/],
  ['an oversize thumb', { type: 'thumb', media: { value: Buffer.concat([JPEG, Buffer.alloc(64 * 1024)]) } }, /over the thumb limit of 65536 bytes/],
]

for (const [what, args, pattern] of badUploads) {
  test(`uploadTempMedia refuses ${what} before any request`, async (t) => {
    const emu = await startEmulator(t)
    const client = clientFor(emu)
    const err = await t.throwsAsync(client.uploadTempMedia(args))
    expectShape(t, err, 'INVALID_PARAM')
    t.regex(err.message, pattern)
    t.is(err.errMsg.split(':fail ')[0], 'openapi.customerServiceMessage.uploadTempMedia')
    t.is(totalRequests(emu), 0)
  })
}

test('media size limits are configurable', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { mediaSizeLimits: { image: 1000 } })
  const err = await t.throwsAsync(client.uploadTempMedia({ type: 'image', media: { value: pngOfSize(1001) } }))
  t.regex(err.message, /over the image limit of 1000 bytes/)
  t.is(totalRequests(emu), 0)
})

test('invalid client options throw INVALID_PARAM synchronously', (t) => {
  for (const [options, pattern] of [
    [{ appId: 'x' }, /did you mean 'appid'/],
    [{ tokenMode: 'fast' }, /tokenMode must be 'stable' or 'legacy'/],
    [{ timeout: -1 }, /timeout must be a whole number/],
    [{ baseUrl: 'not a url' }, /baseUrl 'not a url' is not a valid URL/],
    [{ maxConcurrency: 0 }, /maxConcurrency must be at least 1/],
    [{ accessToken: 42 }, /accessToken must be a string or a function/],
    [{ appid: 'wx1' }, /appid was given without secret/],
  ]) {
    const err = t.throws(() => new wx.WxClient(options))
    t.is(err.code, 'INVALID_PARAM')
    t.is(err.errCode, -1)
    t.regex(err.message, pattern)
  }
})

test('a client with no credentials says how to configure one, before any request', async (t) => {
  const emu = await startEmulator(t)
  const saved = { ...process.env }
  for (const k of ['WX_APPID', 'WX_APPSECRET', 'WX_CLOUDBASE_ACCESSTOKEN']) delete process.env[k]
  t.teardown(() => Object.assign(process.env, saved))
  const client = new wx.WxClient({ baseUrl: emu.url })
  const err = await t.throwsAsync(client.uploadTempMedia({ type: 'image', media: { value: PNG } }))
  t.is(err.code, 'INVALID_PARAM')
  t.regex(err.message, /no credentials: pass \{ appid, secret \}/)
  t.is(totalRequests(emu), 0)
})

// A distinctive secret and token that must never show up in any failure.
const SECRET = 'S3CRET-must-never-leak-7f3a9c'
const TOKEN = 'TOKEN-must-never-leak-b81d2e'

function assertNoSecrets(t, err) {
  for (const text of [err.message, err.stack, JSON.stringify(err), err.errMsg, String(err)]) {
    t.false(text.includes(SECRET), `secret leaked in: ${text}`)
    t.false(text.includes(TOKEN), `token leaked in: ${text}`)
  }
}

async function closedPort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

test('secrets and tokens never appear in any failure', async (t) => {
  const emu = await startEmulator(t, { apps: [{ appid: 'wxleaktest00000001', secret: SECRET }] })
  const port = await closedPort()
  const media = { type: 'image', media: { value: PNG } }
  const cases = [
    // wrong secret, both token endpoints (legacy puts the secret in the URL)
    () => new wx.WxClient({ appid: 'wxleaktest00000001', secret: SECRET + 'x', baseUrl: emu.url }).uploadTempMedia(media),
    () => new wx.WxClient({ appid: 'wxleaktest00000001', secret: SECRET + 'x', baseUrl: emu.url, tokenMode: 'legacy' }).uploadTempMedia(media),
    // connection refused while fetching a legacy token: the URL holds the secret
    () => new wx.WxClient({ appid: 'wxleaktest00000001', secret: SECRET, baseUrl: `http://127.0.0.1:${port}`, tokenMode: 'legacy', retries: 0 }).uploadTempMedia(media),
    // connection refused with a token in the URL
    () => new wx.WxClient({ accessToken: TOKEN, baseUrl: `http://127.0.0.1:${port}`, retries: 0 }).uploadTempMedia(media),
    () => new wx.WxClient({ accessToken: TOKEN, baseUrl: `http://127.0.0.1:${port}`, retries: 0 }).getTempMedia({ mediaId: 'x' }),
    // the server rejects the token
    () => new wx.WxClient({ accessToken: TOKEN, baseUrl: emu.url }).uploadTempMedia(media),
    // a timeout with the token in the URL
    () => {
      emu.injectFault({ path: '/cgi-bin/media/get', delayMs: 1000 })
      return new wx.WxClient({ accessToken: TOKEN, baseUrl: emu.url, timeout: 100 }).getTempMedia({ mediaId: 'x' })
    },
    // a reset connection
    () => {
      emu.injectFault({ path: '/cgi-bin/media/upload', reset: true, times: 0 })
      return new wx.WxClient({ accessToken: TOKEN, baseUrl: emu.url, retries: 0 }).uploadTempMedia(media)
    },
  ]
  for (const run of cases) {
    const err = await t.throwsAsync(run())
    t.truthy(err.code)
    assertNoSecrets(t, err)
  }
  const thrown = t.throws(() => new wx.WxClient({ appid: 'wx', secret: SECRET, proxy: 'not a proxy url' }))
  assertNoSecrets(t, thrown)
})

test('a delay longer than the timeout rejects with TIMEOUT within about twice the timeout', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { timeout: 300 })
  // The calls around the timed one must not race the 300 ms themselves (a
  // token fetch plus an upload can take longer on a loaded machine): they
  // lift the timeout for that one call only.
  const unhurried = { config: { timeout: 30_000 } }
  await client.uploadTempMedia({ type: 'image', media: { value: PNG }, ...unhurried }) // token fetched
  emu.injectFault({ path: '/cgi-bin/media/upload', delayMs: 3000 })
  // Time in which no JS could run at all (the process not scheduled) is not
  // charged to the call's timer.
  const stalls = monitorEventLoopDelay({ resolution: 1 })
  stalls.enable()
  const started = performance.now()
  const err = await t.throwsAsync(client.uploadTempMedia({ type: 'image', media: { value: PNG } }))
  const elapsed = performance.now() - started
  stalls.disable()
  const stall = stalls.count > 0 ? Math.max(0, stalls.max / 1e6 - 1) : 0
  expectShape(t, err, 'TIMEOUT')
  t.regex(err.message, /timed out after 300 ms/)
  t.true(elapsed >= 250 && elapsed - stall < 600, `took ${elapsed.toFixed(1)} ms (${stall.toFixed(1)} ms stalled)`)
  // The process and the client are still healthy.
  const r = await client.uploadTempMedia({ type: 'image', media: { value: PNG }, ...unhurried })
  t.is(r.errCode, 0)
})

test('separate JSON and transfer timeouts', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { timeout: { json: 200, transfer: 5000 } })
  emu.injectFault({ path: '/cgi-bin/stable_token', delayMs: 1000 })
  const err = await t.throwsAsync(client.uploadTempMedia({ type: 'image', media: { value: PNG } }))
  t.is(err.code, 'TIMEOUT')
  t.regex(err.message, /stable_token timed out after 200 ms/)
  emu.injectFault({ path: '/cgi-bin/media/upload', delayMs: 400 })
  t.is((await client.uploadTempMedia({ type: 'image', media: { value: PNG } })).errCode, 0)
})

test('connection refused rejects with NETWORK after the retries, and the process stays healthy', async (t) => {
  const port = await closedPort()
  const client = new wx.WxClient({ accessToken: 'x', baseUrl: `http://127.0.0.1:${port}`, retries: 2 })
  const err = await t.throwsAsync(client.uploadTempMedia({ type: 'image', media: { value: PNG } }))
  expectShape(t, err, 'NETWORK')
  t.regex(err.message, /Connection refused/i)

  const emu = await startEmulator(t)
  const r = await clientFor(emu).uploadTempMedia({ type: 'image', media: { value: PNG } })
  t.is(r.errCode, 0)
})

test('5xx and resets are retried per `retries` where that is safe (README "Retries")', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { retries: 2 })
  const { mediaId } = await client.uploadTempMedia({ type: 'image', media: { value: PNG } })
  // A lookup is retried after any 5xx and after a reset.
  emu.injectFault({ path: '/cgi-bin/media/get', status: 502, times: 2 })
  t.is((await client.getTempMedia({ mediaId })).errCode, 0)
  emu.injectFault({ path: '/cgi-bin/media/get', reset: true, times: 1 })
  t.is((await client.getTempMedia({ mediaId })).errCode, 0)
  // An upload is retried only after "not processed" answers (503 with no body).
  emu.injectFault({ path: '/cgi-bin/media/upload', status: 503, times: 2 })
  t.is((await client.uploadTempMedia({ type: 'image', media: { value: PNG } })).errCode, 0)
  // A 502 or a reset after the body was read may have stored it: not repeated.
  const before = emu.requests().filter((r) => r.path === '/cgi-bin/media/upload').length
  emu.injectFault({ path: '/cgi-bin/media/upload', status: 502, times: 1 })
  t.is((await t.throwsAsync(client.uploadTempMedia({ type: 'image', media: { value: PNG } }))).statusCode, 502)
  emu.injectFault({ path: '/cgi-bin/media/upload', reset: true, times: 1 })
  t.is((await t.throwsAsync(client.uploadTempMedia({ type: 'image', media: { value: PNG } }))).code, 'NETWORK')
  t.is(emu.requests().filter((r) => r.path === '/cgi-bin/media/upload').length, before + 2)

  const noRetry = clientFor(emu, { retries: 0 })
  emu.injectFault({ path: '/cgi-bin/media/upload', status: 503, times: 1 })
  const err = await t.throwsAsync(noRetry.uploadTempMedia({ type: 'image', media: { value: PNG } }))
  t.is(err.code, 'HTTP_STATUS')
  t.is(err.statusCode, 503)
})
