// Hardening against hostile servers on 127.0.0.1 (issue 11, "wire"): no
// redirects, secrets never reported in any encoding, credentials in URLs,
// no duplicate sends, honest batch and media results, tokens under failure.
import test from 'ava'
import http from 'node:http'
import { wx, PNG } from './helpers.mjs'

/** A server on 127.0.0.1 whose handler gets (req, res, body); records every request. */
async function hostile(t, handler) {
  const seen = []
  const server = http.createServer(async (req, res) => {
    const chunks = []
    try {
      for await (const c of req) chunks.push(c)
    } catch {
      return
    }
    const body = Buffer.concat(chunks)
    seen.push({ method: req.method, url: req.url, headers: req.headers, body })
    try {
      await handler(req, res, body)
    } catch (err) {
      res.destroy(err)
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections?.()
    server.close()
  })
  const url = `http://127.0.0.1:${server.address().port}`
  return { url, seen, server, to: (path) => seen.filter((r) => r.url.startsWith(path)) }
}

const json = (res, value, status = 200) => {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(typeof value === 'string' ? value : JSON.stringify(value))
}

// A token and secret with characters that every encoding changes.
const TOKEN = 'HOSTILE_tok/en+with=odd&chars_0123456789abcdefXYZ'
const SECRET = 'hostile-secret-5f4dcc3b5aa765d61d8327deb882cf99'
const tokenReply = (res) => json(res, { access_token: TOKEN, expires_in: 7200 })
const upload = (client) => client.uploadTempMedia({ type: 'image', media: { value: PNG } })

/** Every string the error exposes: message, stack, JSON, each own property. */
function everyText(err) {
  const texts = [err.message, err.stack, JSON.stringify(err), String(err)]
  for (const name of Object.getOwnPropertyNames(err)) texts.push(String(err[name]))
  return texts
}

/** The ways a server could echo `s`. */
function encodings(s) {
  const pct = encodeURIComponent(s)
  return [
    s,
    pct,
    pct.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    new URLSearchParams({ s }).toString().slice(2),
    encodeURIComponent(pct),
    JSON.stringify(s).slice(1, -1),
    JSON.stringify(JSON.stringify(s)).slice(1, -1),
    Buffer.from(s).toString('base64'),
    Buffer.from(`x:${s}`).toString('base64'),
  ]
}

function assertNothingLeaks(t, err, secrets) {
  for (const text of everyText(err)) {
    for (const secret of secrets) {
      // The distinctive middle of each encoding must be gone.
      for (const enc of encodings(secret)) {
        const core = enc.slice(4, -4)
        t.false(text.includes(core), `${JSON.stringify(enc)} leaked in: ${text}`)
      }
      // Nor a secret cut short (a quoted snippet has a length limit).
      t.false(text.includes(secret.slice(0, 12)), `the start of ${JSON.stringify(secret)} leaked in: ${text}`)
    }
  }
}

// ---- Security: redirects -------------------------------------------------

test('a 307 from stable_token is HTTP_STATUS and the other origin sees nothing', async (t) => {
  const elsewhere = await hostile(t, (req, res) => tokenReply(res))
  const wechat = await hostile(t, (req, res) => {
    res.writeHead(307, { location: `${elsewhere.url}/steal${req.url}` })
    res.end()
  })
  const client = new wx.WxClient({ appid: 'wxredirect', secret: SECRET, baseUrl: wechat.url })
  const err = await t.throwsAsync(upload(client))
  t.is(err.code, 'HTTP_STATUS')
  t.is(err.statusCode, 307)
  t.regex(err.message, /redirect/)
  t.is(elsewhere.seen.length, 0)
  t.is(wechat.to('/cgi-bin/stable_token').length, 1)
  assertNothingLeaks(t, err, [SECRET])
})

test('a 302 on media/upload is HTTP_STATUS: no GET, no Referer with the token', async (t) => {
  const elsewhere = await hostile(t, (req, res) => json(res, { type: 'image', media_id: 'NOT_UPLOADED', created_at: 1 }))
  const wechat = await hostile(t, (req, res) => {
    if (req.url.startsWith('/cgi-bin/stable_token')) return tokenReply(res)
    res.writeHead(302, { location: `${elsewhere.url}/landing` })
    res.end()
  })
  const client = new wx.WxClient({ appid: 'wxredirect', secret: SECRET, baseUrl: wechat.url })
  const err = await t.throwsAsync(upload(client))
  t.is(err.code, 'HTTP_STATUS')
  t.is(err.statusCode, 302)
  t.is(elsewhere.seen.length, 0)
  for (const r of wechat.seen) t.is(r.headers.referer, undefined)
  t.is(wechat.to('/cgi-bin/media/upload').length, 1, 'a redirect is not retried either')
  assertNothingLeaks(t, err, [TOKEN, SECRET])
})

test('getTempMedia does not follow a 302', async (t) => {
  const elsewhere = await hostile(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-disposition': 'attachment; filename="x.png"' })
    res.end(PNG)
  })
  const wechat = await hostile(t, (req, res) => {
    res.writeHead(302, { location: `${elsewhere.url}/x.png` })
    res.end()
  })
  const client = new wx.WxClient({ accessToken: TOKEN, baseUrl: wechat.url })
  const err = await t.throwsAsync(client.getTempMedia({ mediaId: 'm1' }))
  t.is(err.code, 'HTTP_STATUS')
  t.is(err.statusCode, 302)
  t.is(elsewhere.seen.length, 0)
})

// ---- Security: secrets echoed by servers --------------------------------

const echoes = [
  ['percent-encoded (upper hex)', () => `bad request for access%5Ftoken ${encodeURIComponent(TOKEN)}`],
  ['percent-encoded (lower hex)', () => `bad: ${encodeURIComponent(TOKEN).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`],
  ['form-encoded and double-encoded', () => `q=${new URLSearchParams({ t: TOKEN })} next=${encodeURIComponent(encodeURIComponent(TOKEN))}`],
  ['JSON-escaped', () => JSON.stringify({ echo: `token was ${TOKEN}`, nested: JSON.stringify({ t: TOKEN }) })],
  ['inside "access_token":"…"', () => JSON.stringify({ access_token: TOKEN, secret: SECRET })],
  ['raw, with the appsecret', () => `token ${TOKEN} secret ${SECRET} ${SECRET.toUpperCase()}`],
  ['base64', () => `auth ${Buffer.from(`u:${TOKEN}`).toString('base64')} ${Buffer.from(SECRET).toString('base64')}`],
  ['cut short at the snippet limit', () => `${'x'.repeat(180)}${TOKEN}`],
]

for (const [what, body] of echoes) {
  test(`a token echoed ${what} is masked everywhere in the error`, async (t) => {
    const wechat = await hostile(t, (req, res) => {
      if (req.url.startsWith('/cgi-bin/stable_token')) return tokenReply(res)
      res.writeHead(400, { 'content-type': 'text/plain' })
      res.end(body())
    })
    const client = new wx.WxClient({ appid: 'wxecho', secret: SECRET, baseUrl: wechat.url, retries: 0 })
    const err = await t.throwsAsync(upload(client))
    t.is(err.code, 'HTTP_STATUS')
    t.regex(err.message, /answered HTTP 400/)
    assertNothingLeaks(t, err, [TOKEN, SECRET])
  })
}

test('a token echoed in an errmsg, or a token error, is masked', async (t) => {
  const wechat = await hostile(t, (req, res, body) => {
    if (req.url.startsWith('/cgi-bin/stable_token')) {
      // The token endpoint quotes the request (with the secret) in its error.
      return json(res, { errcode: 40125, errmsg: `invalid appsecret: ${body} ${encodeURIComponent(SECRET)}` })
    }
    json(res, { errcode: 40007, errmsg: `invalid media_id ${encodeURIComponent(TOKEN)}` })
  })
  const err = await t.throwsAsync(upload(new wx.WxClient({ appid: 'wxecho', secret: SECRET, baseUrl: wechat.url })))
  t.is(err.errCode, 40125)
  assertNothingLeaks(t, err, [SECRET])
  const err2 = await t.throwsAsync(new wx.WxClient({ accessToken: TOKEN, baseUrl: wechat.url }).getTempMedia({ mediaId: 'x' }))
  t.is(err2.errCode, 40007)
  assertNothingLeaks(t, err2, [TOKEN])
})

test('COS credentials of the upload ticket are masked in a COS error', async (t) => {
  const COS_TOKEN = 'cos-security-token/0123456789+abcdefghijklmnopq=='
  const COS_AUTH = 'q-sign-algorithm=sha1&q-ak=AKIDxyz&q-sign-time=1;2&q-key-time=1;2&q-header-list=&q-url-param-list=&q-signature=0a1b2c3d4e5f60718293a4b5c6d7e8f901234567'
  const cos = await hostile(t, (req, res, body) => {
    res.writeHead(403, { 'content-type': 'application/xml' })
    res.end(`<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>bad ${COS_AUTH.replace(/&/g, '&amp;')} ${COS_TOKEN}</Message><RequestId>${encodeURIComponent(COS_TOKEN)}</RequestId></Error>`)
  })
  const wechat = await hostile(t, (req, res) => {
    if (req.url.startsWith('/cgi-bin/stable_token')) return tokenReply(res)
    json(res, { errcode: 0, url: `${cos.url}/bucket`, token: COS_TOKEN, authorization: COS_AUTH, file_id: 'cloud://env.b/a.png', cos_file_id: 'c' })
  })
  const client = new wx.WxClient({ appid: 'wxcos', secret: SECRET, baseUrl: wechat.url, env: 'env', retries: 0 })
  const err = await t.throwsAsync(client.uploadFile({ cloudPath: 'a.png', fileContent: PNG }))
  t.is(err.code, 'COS_ERROR')
  t.regex(err.message, /AccessDenied/)
  assertNothingLeaks(t, err, [COS_TOKEN, COS_AUTH, '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567'])
})

// ---- Security: credentials in URLs --------------------------------------

test('baseUrl with a user and password is refused without showing them', (t) => {
  for (const baseUrl of ['http://alice:s3cretPass@127.0.0.1:9', 'http://alice:s3cretPass@[broken', 'https://alice@127.0.0.1']) {
    const err = t.throws(() => new wx.WxClient({ accessToken: TOKEN, baseUrl }))
    t.is(err.code, 'INVALID_PARAM')
    for (const text of everyText(err)) {
      t.false(text.includes('s3cretPass'), text)
      t.false(text.includes('alice'), text)
    }
  }
})

test('a proxy with credentials is used, and its password never appears', async (t) => {
  // The proxy answers every request with 400 and echoes the request back,
  // Proxy-Authorization (base64 user:password) and absolute URL included.
  const proxy = await hostile(t, (req, res) => {
    res.writeHead(400, { 'content-type': 'text/plain' })
    res.end(`${req.headers['proxy-authorization']} ${req.method} ${req.url} ${JSON.stringify(req.headers)}`)
  })
  const proxyUrl = proxy.url.replace('http://', 'http://alice:pr0xyPassw0rd@')
  const client = new wx.WxClient({ accessToken: TOKEN, baseUrl: 'http://127.0.0.1:9', proxy: proxyUrl, retries: 0 })
  const err = await t.throwsAsync(client.getTempMedia({ mediaId: 'x' }))
  t.is(err.code, 'HTTP_STATUS')
  t.is(proxy.seen.length, 1)
  t.is(proxy.seen[0].headers['proxy-authorization'], `Basic ${Buffer.from('alice:pr0xyPassw0rd').toString('base64')}`)
  assertNothingLeaks(t, err, ['pr0xyPassw0rd', 'alice:pr0xyPassw0rd', TOKEN])
  // A bad proxy URL is refused without quoting it.
  const bad = t.throws(() => new wx.WxClient({ accessToken: TOKEN, proxy: 'http://alice:pr0xyPassw0rd@[bad' }))
  t.is(bad.code, 'INVALID_PARAM')
  for (const text of everyText(bad)) t.false(text.includes('pr0xyPassw0rd'), text)
})
