// Token handling: single flight, modes, refresh-and-replay, token sources.
import test from 'ava'
import { wx, PNG, startEmulator, clientFor, requestsTo } from './helpers.mjs'

const upload = (client, value = PNG) => client.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value } })

test('50 concurrent calls on a cold cache make exactly one stable_token request', async (t) => {
  const emu = await startEmulator(t)
  emu.injectFault({ path: '/cgi-bin/stable_token', delayMs: 100 }) // keep the cache cold while all 50 start
  const client = clientFor(emu)
  const results = await Promise.all(Array.from({ length: 50 }, () => upload(client)))
  t.true(results.every((r) => r.errCode === 0))
  t.is(emu.stats().tokenFetches, 1)
  t.is(requestsTo(emu, '/cgi-bin/stable_token').length, 1)
  t.is(requestsTo(emu, '/cgi-bin/token').length, 0)
  t.is(requestsTo(emu, '/cgi-bin/media/upload').length, 50)
  t.is(client.tokenFetchCount, 1)
  const [tokenReq] = requestsTo(emu, '/cgi-bin/stable_token')
  t.is(tokenReq.method, 'POST')
  t.is(tokenReq.json.grant_type, 'client_credential')
  t.is(tokenReq.json.appid, emu.appid)
  t.is(tokenReq.json.force_refresh, false)
})

test("tokenMode 'legacy' uses GET /cgi-bin/token", async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { tokenMode: 'legacy' })
  await Promise.all(Array.from({ length: 10 }, () => upload(client)))
  const [tokenReq, ...more] = requestsTo(emu, '/cgi-bin/token')
  t.is(more.length, 0)
  t.is(tokenReq.method, 'GET')
  t.is(tokenReq.query.grant_type, 'client_credential')
  t.is(tokenReq.query.appid, emu.appid)
  t.is(requestsTo(emu, '/cgi-bin/stable_token').length, 0)
})

for (const code of [40001, 42001]) {
  test(`errcode ${code} once: one refresh, one replay with a byte-identical body`, async (t) => {
    const emu = await startEmulator(t)
    const client = clientFor(emu)
    await upload(client) // warm the cache
    emu.clearRequests()
    emu.injectFault({ path: '/cgi-bin/media/upload', errcode: code, times: 1 })
    const r = await upload(client)
    t.is(r.errCode, 0)
    const uploads = requestsTo(emu, '/cgi-bin/media/upload')
    t.is(uploads.length, 2)
    t.is(uploads[0].errcode, code)
    t.is(uploads[1].bodySha256, uploads[0].bodySha256)
    t.is(uploads[1].bodySize, uploads[0].bodySize)
    t.is(uploads[1].headers.contentType, uploads[0].headers.contentType)
    t.is(requestsTo(emu, '/cgi-bin/stable_token').length, 1)
    t.is(client.tokenFetchCount, 2)
  })
}

test('a token error that persists after the refresh rejects, after one replay only', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  emu.injectFault({ path: '/cgi-bin/media/upload', errcode: 40001, times: 0 })
  const err = await t.throwsAsync(upload(client))
  t.is(err.errCode, 40001)
  t.is(err.code, 'TOKEN_ERROR')
  t.is(requestsTo(emu, '/cgi-bin/media/upload').length, 2)
  t.is(requestsTo(emu, '/cgi-bin/stable_token').length, 2)
})

test('expired tokens (42001 from the server) are refreshed transparently', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  await upload(client)
  emu.expireTokens()
  const r = await upload(client)
  t.is(r.errCode, 0)
  const uploads = requestsTo(emu, '/cgi-bin/media/upload')
  t.deepEqual(uploads.map((u) => u.errcode ?? 0), [0, 42001, 0])
  t.not(uploads[2].query.access_token, uploads[1].query.access_token)
})

for (const code of [45009, 40013, 48001]) {
  test(`errcode ${code} rejects without a refresh or a retry`, async (t) => {
    const emu = await startEmulator(t)
    const client = clientFor(emu)
    await upload(client)
    emu.clearRequests()
    emu.injectFault({ path: '/cgi-bin/media/upload', errcode: code, times: 1 })
    const err = await t.throwsAsync(upload(client))
    t.is(err.errCode, code)
    t.is(err.code, 'WX_API_ERROR')
    t.is(requestsTo(emu, '/cgi-bin/media/upload').length, 1)
    t.is(requestsTo(emu, '/cgi-bin/stable_token').length, 0)
  })
}

test('errcode -1 (system busy) is retried for lookups, not for uploads (README "Retries")', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const { mediaId } = await upload(client)
  emu.injectFault({ path: '/cgi-bin/media/get', errcode: -1, times: 1 })
  t.is((await client.getTempMedia({ mediaId })).errCode, 0)
  t.is(requestsTo(emu, '/cgi-bin/media/get').length, 2)
  emu.injectFault({ path: '/cgi-bin/media/upload', errcode: -1, times: 1 })
  const err = await t.throwsAsync(upload(client))
  t.is(err.errCode, -1)
  t.is(requestsTo(emu, '/cgi-bin/media/upload').length, 2)
})

test('accessToken as a string is sent as access_token and never fetched', async (t) => {
  const emu = await startEmulator(t)
  const token = emu.issueToken()
  const client = new wx.WxClient({ accessToken: token, baseUrl: emu.url })
  const r = await upload(client)
  t.is(r.errCode, 0)
  const [req] = requestsTo(emu, '/cgi-bin/media/upload')
  t.is(req.query.access_token, token)
  t.is(emu.stats().tokenFetches, 0)
})

test('accessToken as an async provider is asked, and asked again after a token error', async (t) => {
  const emu = await startEmulator(t)
  const tokens = [emu.issueToken(), emu.issueToken()]
  let calls = 0
  const client = new wx.WxClient({
    baseUrl: emu.url,
    accessToken: async () => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return tokens[Math.min(calls++, 1)]
    },
  })
  t.is((await upload(client)).errCode, 0)
  t.is((await upload(client)).errCode, 0)
  t.is(calls, 1) // cached between calls
  emu.injectFault({ path: '/cgi-bin/media/upload', errcode: 40001, times: 1 })
  t.is((await upload(client)).errCode, 0)
  t.is(calls, 2)
  const uploads = requestsTo(emu, '/cgi-bin/media/upload')
  t.is(uploads.at(-1).query.access_token, tokens[1])
  t.is(emu.stats().tokenFetches, 0)
})

test('a failing accessToken provider rejects with TOKEN_ERROR and no request', async (t) => {
  const emu = await startEmulator(t)
  const client = new wx.WxClient({ baseUrl: emu.url, accessToken: async () => { throw new Error('token service down') } })
  const err = await t.throwsAsync(upload(client))
  t.is(err.code, 'TOKEN_ERROR')
  t.regex(err.message, /token service down/)
  t.is(requestsTo(emu, '/cgi-bin/media/upload').length, 0)
})

test('a rejected static accessToken is not replayed', async (t) => {
  const emu = await startEmulator(t)
  const client = new wx.WxClient({ accessToken: 'EMU_not_a_real_token', baseUrl: emu.url })
  const err = await t.throwsAsync(upload(client))
  t.is(err.errCode, 40001)
  t.is(err.code, 'TOKEN_ERROR')
  t.regex(err.message, /supply a valid one/)
  t.is(requestsTo(emu, '/cgi-bin/media/upload').length, 1)
})

test('cloudbaseAccessToken is sent as cloudbase_access_token', async (t) => {
  const emu = await startEmulator(t)
  const token = emu.issueCloudbaseToken()
  const client = new wx.WxClient({ cloudbaseAccessToken: token, baseUrl: emu.url })
  t.is((await upload(client)).errCode, 0)
  const [req] = requestsTo(emu, '/cgi-bin/media/upload')
  t.is(req.query.cloudbase_access_token, token)
  t.is(req.query.access_token, undefined)

  const provided = new wx.WxClient({ cloudbaseAccessToken: async () => token, baseUrl: emu.url })
  t.is((await upload(provided)).errCode, 0)
})

test('openApiService sends no token at all', async (t) => {
  const emu = await startEmulator(t, { openApiService: true })
  const client = new wx.WxClient({ openApiService: true, baseUrl: emu.url })
  t.is((await upload(client)).errCode, 0)
  const [req] = requestsTo(emu, '/cgi-bin/media/upload')
  t.deepEqual(Object.keys(req.query), ['type'])
  t.is(emu.stats().tokenFetches, 0)
})

test('a wrong secret rejects with TOKEN_ERROR and WeChat errcode 40125', async (t) => {
  const emu = await startEmulator(t)
  const client = new wx.WxClient({ appid: emu.appid, secret: 'wrong-secret', baseUrl: emu.url })
  const err = await t.throwsAsync(upload(client))
  t.is(err.code, 'TOKEN_ERROR')
  t.is(err.errCode, 40125)
  t.is(requestsTo(emu, '/cgi-bin/media/upload').length, 0)
})
