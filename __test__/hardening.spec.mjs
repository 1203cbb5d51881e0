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

// ---- Honest results: no duplicate sends ---------------------------------

/** A PNG-looking upload carrying a unique marker the server can count. */
function markedPng(n, size = 200) {
  const buf = Buffer.alloc(size, 0x41)
  PNG.copy(buf, 0, 0, 16)
  buf.write(`UPLOAD-${String(n).padStart(6, '0')}-`, 16, 'latin1')
  return buf
}
const markerOf = (body) => /UPLOAD-(\d{6})-/.exec(body.toString('latin1'))?.[1]

/** A fake WeChat whose media/upload handler is `onUpload(req, res, marker, store)`. */
async function uploadServer(t, onUpload) {
  const stored = new Map() // marker → times stored
  const store = (marker) => {
    stored.set(marker, (stored.get(marker) ?? 0) + 1)
    return `media-${marker}-${stored.get(marker)}`
  }
  const server = await hostile(t, async (req, res, body) => {
    if (req.url.startsWith('/cgi-bin/stable_token')) return tokenReply(res)
    await onUpload(req, res, markerOf(body), store)
  })
  return { ...server, stored }
}
const okReply = (res, mediaId) => json(res, { type: 'image', media_id: mediaId, created_at: 1 })

test('an upload the server stored before dropping the connection is not sent again', async (t) => {
  const server = await uploadServer(t, (req, res, marker, store) => {
    store(marker)
    req.socket.destroy()
  })
  const client = new wx.WxClient({ appid: 'wxdup', secret: SECRET, baseUrl: server.url, retries: 3 })
  const err = await t.throwsAsync(client.uploadTempMedia({ type: 'image', media: { value: markedPng(1) } }))
  t.is(err.code, 'NETWORK')
  t.is(server.stored.get('000001'), 1)
  t.is(server.to('/cgi-bin/media/upload').length, 1)
})

test('an upload answered with a truncated reply is not sent again', async (t) => {
  const server = await uploadServer(t, (req, res, marker, store) => {
    store(marker)
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' })
    res.write('{"type":"image","media_id":"')
    setTimeout(() => req.socket.destroy(), 20)
  })
  const client = new wx.WxClient({ appid: 'wxdup', secret: SECRET, baseUrl: server.url, retries: 3 })
  const err = await t.throwsAsync(client.uploadTempMedia({ type: 'image', media: { value: markedPng(2) } }))
  t.is(err.code, 'NETWORK')
  t.is(server.stored.get('000002'), 1)
})

test('an upload answered "not processed" (429, 503 with no body) is sent again', async (t) => {
  let n = 0
  const server = await uploadServer(t, (req, res, marker, store) => {
    n += 1
    if (n === 1) return json(res, '', 429)
    if (n === 2) {
      res.writeHead(503)
      return res.end()
    }
    okReply(res, store(marker))
  })
  const client = new wx.WxClient({ appid: 'wxdup', secret: SECRET, baseUrl: server.url, retries: 2 })
  const r = await client.uploadTempMedia({ type: 'image', media: { value: markedPng(3) } })
  t.is(r.mediaId, 'media-000003-1')
  t.is(server.to('/cgi-bin/media/upload').length, 3)
})

test('under random faults no upload is stored twice, and every result names its own upload', async (t) => {
  const server = await uploadServer(t, (req, res, marker, store) => {
    const roll = Math.random()
    if (roll < 0.4) return okReply(res, store(marker))
    if (roll < 0.55) {
      store(marker)
      return req.socket.destroy()
    }
    if (roll < 0.7) {
      const id = store(marker)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' })
      res.write(`{"type":"image","media_id":"${id}"`)
      return setTimeout(() => req.socket.destroy(), 5)
    }
    if (roll < 0.8) {
      res.writeHead(503)
      return res.end()
    }
    if (roll < 0.9) return json(res, { errcode: 45011, errmsg: 'slow down' }, 429)
    res.writeHead(500, { 'content-type': 'text/plain' })
    res.end('stored nothing, but a 500 does not say so')
  })
  const client = new wx.WxClient({ appid: 'wxdup', secret: SECRET, baseUrl: server.url, retries: 3, maxConcurrency: 16 })
  const N = 400
  const results = await Promise.allSettled(
    Array.from({ length: N }, (_, i) => client.uploadTempMedia({ type: 'image', media: { value: markedPng(i) } })),
  )
  for (const [marker, times] of server.stored) t.is(times, 1, `upload ${marker} stored ${times} times`)
  let resolved = 0
  results.forEach((r, i) => {
    const marker = String(i).padStart(6, '0')
    if (r.status === 'fulfilled') {
      resolved += 1
      t.is(r.value.mediaId, `media-${marker}-1`)
    } else {
      t.true(['NETWORK', 'HTTP_STATUS', 'WX_API_ERROR'].includes(r.reason.code), r.reason.message)
    }
  })
  t.true(resolved > N / 4, `${resolved} of ${N} resolved`)
})

// A connection that closes while a request is being written is the
// unavoidable keep-alive race: that request may have arrived, so it is not
// repeated. One the pool finds closed before sending is simply replaced.
test('a pooled connection the server closed after its reply is replaced, each upload stored once', async (t) => {
  const server = await uploadServer(t, (req, res, marker, store) => {
    res.setHeader('connection', 'keep-alive')
    okReply(res, store(marker))
    // Close the kept-alive connection right after answering (FIN follows the reply).
    res.on('finish', () => req.socket.end())
  })
  const client = new wx.WxClient({ appid: 'wxpool', secret: SECRET, baseUrl: server.url })
  let resolved = 0
  for (let i = 0; i < 30; i++) {
    try {
      const r = await client.uploadTempMedia({ type: 'image', media: { value: markedPng(i) } })
      t.is(r.mediaId, `media-${String(i).padStart(6, '0')}-1`)
      resolved += 1
    } catch (err) {
      // On a starved CPU the pool may reuse the connection before it has
      // seen the FIN: that request may have arrived, so it fails, once.
      t.is(err.code, 'NETWORK')
    }
    await new Promise((resolve) => setTimeout(resolve, 20 + (i % 4)))
  }
  t.true(resolved >= 24, `${resolved} of 30 resolved`)
  for (const times of server.stored.values()) t.is(times, 1)
})

test('an upload whose connection failed before its body was written is sent again, once', async (t) => {
  let first = true
  const stored = new Map()
  const server = http.createServer((req, res) => {
    if (req.url.startsWith('/cgi-bin/stable_token')) {
      req.resume()
      return tokenReply(res)
    }
    if (first) {
      // Reset as soon as the headers arrive: the 9 MB body cannot all be written.
      first = false
      return req.socket.resetAndDestroy()
    }
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const marker = markerOf(Buffer.concat(chunks))
      stored.set(marker, (stored.get(marker) ?? 0) + 1)
      okReply(res, `media-${marker}`)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const client = new wx.WxClient({ appid: 'wxunsent', secret: SECRET, baseUrl: `http://127.0.0.1:${server.address().port}` })
  const r = await client.uploadTempMedia({ type: 'image', media: { value: markedPng(7, 9 * 1024 * 1024) } })
  t.is(r.mediaId, 'media-000007')
  t.is(stored.get('000007'), 1)
})

// ---- Honest results: COS, batches, media --------------------------------

/** A fake WeChat + COS for storage calls; `tcb(path, body, res)` answers the tcb/* calls. */
async function storageServer(t, { tcb, cos }) {
  const cosServer = await hostile(t, cos ?? ((req, res) => {
    res.writeHead(204)
    res.end()
  }))
  const wechat = await hostile(t, (req, res, body) => {
    if (req.url.startsWith('/cgi-bin/stable_token')) return tokenReply(res)
    const path = req.url.split('?')[0]
    if (path === '/tcb/uploadfile') {
      return json(res, { errcode: 0, url: `${cosServer.url}/bucket`, token: 'cos-tok-123456', authorization: 'q-sign-algorithm=sha1&q-signature=abcdef123456', file_id: 'cloud://env.b/a.png', cos_file_id: 'cid' })
    }
    return tcb(path, JSON.parse(body.toString()), res, cosServer.url)
  })
  const client = new wx.WxClient({ appid: 'wxstore', secret: SECRET, baseUrl: wechat.url, env: 'env', retries: 0 })
  return { client, wechat, cosServer }
}

test('COS answering 200 with an <Error> document is COS_ERROR, not uploadFile:ok', async (t) => {
  const { client } = await storageServer(t, {
    tcb: () => {},
    cos: (req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' })
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error</Message><RequestId>RID200</RequestId></Error>')
    },
  })
  const err = await t.throwsAsync(client.uploadFile({ cloudPath: 'a.png', fileContent: PNG }))
  t.is(err.code, 'COS_ERROR')
  t.is(err.statusCode, 200)
  t.is(err.requestId, 'RID200')
  t.regex(err.message, /\[InternalError\]/)
})

const ids = (n, prefix = 'f') => Array.from({ length: n }, (_, i) => `cloud://env.b/${prefix}${i}.txt`)

test('getTempFileURL matches links by fileID: reordered, missing and unexpected items', async (t) => {
  const { client } = await storageServer(t, {
    tcb: (path, body, res) => {
      const items = body.file_list
        .filter((i) => !i.fileid.endsWith('/f2.txt')) // f2 is not answered
        .map((i) => ({ fileid: i.fileid, download_url: `https://dl/${i.fileid.split('/').pop()}`, status: 0, errmsg: 'ok' }))
      items.push({ fileid: 'cloud://env.b/stranger.txt', download_url: 'https://dl/stranger.txt', status: 0 })
      json(res, { errcode: 0, file_list: items.reverse() })
    },
  })
  const fileList = ids(4)
  const r = await client.getTempFileURL({ fileList })
  t.deepEqual(r.fileList.map((i) => i.fileID), fileList)
  for (const [i, item] of r.fileList.entries()) {
    if (i === 2) {
      t.not(item.status, 0)
      t.is(item.tempFileURL, '')
      t.regex(item.errMsg, /no answer for this fileID/)
    } else {
      t.is(item.status, 0)
      t.is(item.tempFileURL, `https://dl/f${i}.txt`)
    }
  }
})

test('deleteFile matches statuses by fileID', async (t) => {
  const { client } = await storageServer(t, {
    tcb: (path, body, res) => {
      const items = body.fileid_list.map((id) => (id.endsWith('/f1.txt') ? { fileid: id, status: -503003, errmsg: 'storage file not exists' } : { fileid: id, status: 0, errmsg: 'ok' }))
      json(res, { errcode: 0, delete_list: items.reverse() })
    },
  })
  const r = await client.deleteFile({ fileList: ids(4) })
  t.deepEqual(r.fileList.map((i) => [i.fileID, i.status]), [
    ['cloud://env.b/f0.txt', 0],
    ['cloud://env.b/f1.txt', -503003],
    ['cloud://env.b/f2.txt', 0],
    ['cloud://env.b/f3.txt', 0],
  ])
})

test("downloadFile(A) never resolves with B's bytes", async (t) => {
  let answerOnlyB = false
  const { client } = await storageServer(t, {
    tcb: (path, body, res, cosUrl) => {
      const b = { fileid: 'cloud://env.b/B.txt', download_url: `${cosUrl}/B.txt`, status: 0 }
      const a = { fileid: body.file_list[0].fileid, download_url: `${cosUrl}/A.txt`, status: 0 }
      json(res, { errcode: 0, file_list: answerOnlyB ? [b] : [b, a] })
    },
    cos: (req, res) => res.end(req.url.endsWith('/A.txt') ? 'bytes of A' : 'bytes of B'),
  })
  const r = await client.downloadFile({ fileID: 'cloud://env.b/A.txt' })
  t.is(r.fileContent.toString(), 'bytes of A')
  answerOnlyB = true
  const err = await t.throwsAsync(client.downloadFile({ fileID: 'cloud://env.b/A.txt' }))
  t.regex(err.message, /no answer for this fileID/)
})

test('deleteFile of 250 files where one batch fails rejects with every item outcome in input order', async (t) => {
  const deleted = new Set()
  const attempted = new Set()
  const { client } = await storageServer(t, {
    tcb: (path, body, res) => {
      for (const id of body.fileid_list) attempted.add(id)
      if (body.fileid_list[0].endsWith('/f50.txt')) {
        res.writeHead(500, { 'content-type': 'text/plain' })
        return res.end('batch failed')
      }
      for (const id of body.fileid_list) deleted.add(id)
      json(res, { errcode: 0, delete_list: body.fileid_list.map((fileid) => ({ fileid, status: 0, errmsg: 'ok' })) })
    },
  })
  const fileList = ids(250)
  const err = await t.throwsAsync(client.deleteFile({ fileList }))
  t.is(err.code, 'HTTP_STATUS')
  t.regex(err.message, /of 250 items completed; err\.fileList/)
  t.is(err.fileList.length, 250)
  err.fileList.forEach((item, i) => {
    t.is(item.fileID, fileList[i])
    if (i >= 50 && i < 100) {
      t.is(item.state, 'failed')
      t.not(item.status, 0)
    } else if (item.state === 'done') {
      t.is(item.status, 0)
      t.true(deleted.has(item.fileID))
    } else {
      t.is(item.state, 'notAttempted')
      t.false(attempted.has(item.fileID))
    }
  })
  t.true(err.fileList.slice(0, 50).every((i) => i.state === 'done'))
})

const notMedia = [
  ['a 200 HTML error page', { 'content-type': 'text/html' }, '<html><body>502 Bad Gateway</body></html>'],
  ['truncated error JSON', { 'content-type': 'text/plain' }, '{"errcode":40007,"errmsg":"inva'],
  ['{"errcode":"40007"}', { 'content-type': 'application/json' }, '{"errcode":"40007","errmsg":"invalid media_id"}'],
  ['{"errcode":40007.0}', { 'content-type': 'application/json' }, '{"errcode":40007.0,"errmsg":"invalid media_id"}'],
  ['{"errcode":0} without video_url', { 'content-type': 'application/json' }, '{"errcode":0,"errmsg":"ok"}'],
  ['a non-string video_url', { 'content-type': 'application/json' }, '{"video_url":["http://v"]}'],
  ['an empty image', { 'content-type': 'image/jpeg' }, ''],
  ['unlabelled bytes', {}, 'GIF89a…'],
]

for (const [what, headers, body] of notMedia) {
  test(`getTempMedia rejects ${what}`, async (t) => {
    const wechat = await hostile(t, (req, res) => {
      res.writeHead(200, headers)
      res.end(body)
    })
    const client = new wx.WxClient({ accessToken: TOKEN, baseUrl: wechat.url })
    const err = await t.throwsAsync(client.getTempMedia({ mediaId: 'm1' }))
    t.true(['HTTP_STATUS', 'WX_API_ERROR'].includes(err.code), err.code)
    if (body.includes('40007.0') || body.includes('"40007"')) t.is(err.errCode, 40007)
  })
}

test('getTempMedia still takes real media and video links', async (t) => {
  const wechat = await hostile(t, (req, res) => {
    if (req.url.includes('media_id=v')) return json(res, { video_url: 'http://v/1.mp4' }, 200)
    res.writeHead(200, { 'content-type': 'image/png', 'content-disposition': 'attachment; filename="m.png"' })
    res.end(PNG)
  })
  const client = new wx.WxClient({ accessToken: TOKEN, baseUrl: wechat.url })
  const media = await client.getTempMedia({ mediaId: 'm1' })
  t.is(media.contentType, 'image/png')
  t.deepEqual(media.buffer, PNG)
  t.is((await client.getTempMedia({ mediaId: 'v1' })).videoUrl, 'http://v/1.mp4')
})

// ---- Tokens under failure -----------------------------------------------

test('20 concurrent cold calls share one failing token fetch (40013)', async (t) => {
  const wechat = await hostile(t, async (req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 100))
    json(res, { errcode: 40013, errmsg: 'invalid appid' })
  })
  const client = new wx.WxClient({ appid: 'wxbadappid', secret: SECRET, baseUrl: wechat.url })
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => upload(client)))
  t.is(wechat.to('/cgi-bin/stable_token').length, 1)
  t.is(client.tokenFetchCount, 1)
  for (const r of results) {
    t.is(r.status, 'rejected')
    t.true(['TOKEN_ERROR', 'WX_API_ERROR'].includes(r.reason.code))
    t.is(r.reason.errCode, 40013)
  }
})

test.serial('a hanging token endpoint: one request, and 6 callers time out together', async (t) => {
  const wechat = await hostile(t, () => {}) // never answers
  const client = new wx.WxClient({ appid: 'wxhang', secret: SECRET, baseUrl: wechat.url, timeout: 800 })
  const started = Date.now()
  const settled = await Promise.all(
    Array.from({ length: 6 }, () => upload(client).then(() => null, (err) => ({ err, at: Date.now() - started }))),
  )
  t.is(wechat.to('/cgi-bin/stable_token').length, 1)
  const times = settled.map((s) => s.at)
  for (const { err } of settled) t.is(err.code, 'TIMEOUT')
  t.true(Math.min(...times) >= 700, `${times}`)
  t.true(Math.max(...times) < 2000, `${times}`)
  t.true(Math.max(...times) - Math.min(...times) < 500, `spread ${times}`)
})

// Timing tests run serially (ava runs them before the concurrent ones).
test.serial('time waiting in the maxConcurrency queue counts toward the timeout', async (t) => {
  // Each reply takes 2 s; with a 3 s timeout the second call, queued behind
  // the first, cannot finish in time (it would at 4 s), and the third never
  // starts. Had the timer started only when a call left the queue, the second
  // would succeed. The margins are whole seconds so a loaded machine cannot
  // push the first call past its timeout (500/800 ms did, 2 runs in 5).
  const wechat = await hostile(t, async (req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 2000))
    res.writeHead(200, { 'content-type': 'image/png', 'content-disposition': 'attachment' })
    res.end(PNG)
  })
  const client = new wx.WxClient({ accessToken: TOKEN, baseUrl: wechat.url, maxConcurrency: 1, timeout: 3000 })
  const started = Date.now()
  const results = await Promise.allSettled([1, 2, 3].map(() => client.getTempMedia({ mediaId: 'm' })))
  const elapsed = Date.now() - started
  // Which of the three calls gets the one slot first is up to the runtime
  // (they start on different threads), so the test counts outcomes rather
  // than assuming the first call made is the first served.
  const fulfilled = results.filter((r) => r.status === 'fulfilled')
  const timedOut = results.filter((r) => r.reason?.code === 'TIMEOUT')
  t.is(fulfilled.length, 1, results.map((r) => r.status).join(', '))
  t.is(timedOut.length, 2)
  for (const r of timedOut) t.regex(r.reason.message, /timed out after 3000 ms/)
  // Over at the timeout, before the queue could have drained (≥ 4 s).
  t.true(elapsed < 3900, `took ${elapsed} ms`)
})

test('a { mediaId } source answered with an HTML page is not stored as the file', async (t) => {
  let cosUploads = 0
  const { client, wechat } = await storageServer(t, {
    tcb: () => {},
    cos: (req, res) => {
      cosUploads += 1
      res.writeHead(204)
      res.end()
    },
  })
  wechat.server.removeAllListeners('request')
  wechat.server.on('request', async (req, res) => {
    for await (const _ of req);
    if (req.url.startsWith('/cgi-bin/stable_token')) return tokenReply(res)
    if (req.url.startsWith('/cgi-bin/media/get')) {
      res.writeHead(200, { 'content-type': 'text/html' })
      return res.end('<html>login required</html>')
    }
    json(res, { errcode: 0, url: 'http://127.0.0.1:9/never', token: 'cos-tok-123456', authorization: 'auth-123456', file_id: 'cloud://env.b/a.png', cos_file_id: 'c' })
  })
  const err = await t.throwsAsync(client.uploadFile({ cloudPath: 'a.png', fileContent: { mediaId: 'm1' } }))
  t.regex(err.message, /not media/)
  t.is(cosUploads, 0)
})
