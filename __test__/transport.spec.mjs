// Transport options against small local servers: HTTPS with caCert, an
// HTTP proxy, the concurrency limit.
import test from 'ava'
import http from 'node:http'
import https from 'node:https'
import { readFileSync } from 'node:fs'
import { wx, PNG, startEmulator, clientFor, requestsTo } from './helpers.mjs'

const fixture = (name) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url))

/** A tiny fake WeChat: a token, then a media upload answer. */
function fakeWeChat(onRequest = () => {}) {
  return async (req, res) => {
    for await (const _ of req); // drain the body
    await onRequest(req)
    res.setHeader('content-type', 'application/json')
    if (req.url.startsWith('/cgi-bin/stable_token')) {
      return res.end(JSON.stringify({ access_token: 'fake-token', expires_in: 7200 }))
    }
    res.end(JSON.stringify({ errcode: 0, errmsg: 'ok', type: 'image', media_id: 'fake-media', created_at: 1 }))
  }
}

async function listen(t, server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections?.()
    server.close()
  })
  return server.address().port
}

const upload = (client) => client.uploadTempMedia({ type: 'image', media: { value: PNG } })

test('HTTPS works with an extra root from caCert, and fails without it', async (t) => {
  const server = https.createServer(
    { cert: fixture('localhost-cert.pem'), key: fixture('localhost-key.pem') },
    fakeWeChat(),
  )
  const port = await listen(t, server)
  const baseUrl = `https://127.0.0.1:${port}`

  const trusted = new wx.WxClient({ appid: 'wx1', secret: 's', baseUrl, caCert: fixture('test-ca.pem').toString() })
  t.is((await upload(trusted)).mediaId, 'fake-media')
  const asBuffer = new wx.WxClient({ appid: 'wx1', secret: 's', baseUrl, caCert: fixture('test-ca.pem') })
  t.is((await upload(asBuffer)).mediaId, 'fake-media')

  const untrusted = new wx.WxClient({ appid: 'wx1', secret: 's', baseUrl, retries: 0 })
  const err = await t.throwsAsync(upload(untrusted))
  t.is(err.code, 'NETWORK')
  t.regex(err.message, /certificate|issuer/i)
})

test('caCert that is not PEM is refused', (t) => {
  const err = t.throws(() => new wx.WxClient({ appid: 'wx1', secret: 's', caCert: 'not a certificate' }))
  t.is(err.code, 'INVALID_PARAM')
  t.regex(err.message, /caCert/)
})

test('requests go through the HTTP proxy', async (t) => {
  const emu = await startEmulator(t)
  const seen = []
  // A minimal forward proxy for plain-http targets (absolute-form request lines).
  const proxy = http.createServer((req, res) => {
    seen.push(new URL(req.url).pathname)
    const upstream = http.request(req.url, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode, up.headers)
      up.pipe(res)
    })
    // A closed keep-alive connection at teardown must not become an uncaught error.
    upstream.on('error', () => res.destroy())
    req.on('error', () => upstream.destroy())
    req.pipe(upstream)
  })
  const port = await listen(t, proxy)
  const client = clientFor(emu, { proxy: `http://127.0.0.1:${port}` })
  t.is((await upload(client)).errCode, 0)
  t.deepEqual(seen, ['/cgi-bin/stable_token', '/cgi-bin/media/upload'])
  t.is(requestsTo(emu, '/cgi-bin/media/upload').length, 1)
})

test('maxConcurrency bounds the requests in flight; the rest wait in a queue', async (t) => {
  let inFlight = 0
  let peak = 0
  const server = http.createServer(
    fakeWeChat(async (req) => {
      if (!req.url.startsWith('/cgi-bin/media/upload')) return
      inFlight++
      peak = Math.max(peak, inFlight)
      await new Promise((resolve) => setTimeout(resolve, 30))
      inFlight--
    }),
  )
  const port = await listen(t, server)
  const client = new wx.WxClient({ appid: 'wx1', secret: 's', baseUrl: `http://127.0.0.1:${port}`, maxConcurrency: 3 })
  const results = await Promise.all(Array.from({ length: 20 }, () => upload(client)))
  t.is(results.length, 20)
  t.true(results.every((r) => r.mediaId === 'fake-media'))
  t.is(peak, 3)
})
