#!/usr/bin/env node
// Development stand-in for `bin/wx-media-emulator.js --lean`: a minimal Node multipart sink that
// speaks the same protocol subset (GET /cgi-bin/token, POST /cgi-bin/media/upload) with the same
// strictness on the points the bench exercises (Content-Length required, part `media`, filename
// extension matching the PNG magic). Used only when the real emulator is missing or with
// `--server sink`. Prints one JSON line {url, appid, secret, env} and exits on SIGTERM.
import http from 'node:http'
import { randomBytes } from 'node:crypto'

const args = process.argv.slice(2)
const port = Number(args[args.indexOf('--port') + 1] || 0) || 0
const appid = 'wxbench0000000001'
const secret = randomBytes(16).toString('hex')
const token = randomBytes(24).toString('hex')
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
let seq = 0

function json (res, status, obj) {
  const body = JSON.stringify(obj)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function checkUpload (req, body, q) {
  if (q.get('access_token') !== token) return { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' }
  if (!['image', 'voice', 'video', 'thumb'].includes(q.get('type'))) return { errcode: 40004, errmsg: 'invalid media type' }
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(req.headers['content-type'] || '')
  if (!m) return { errcode: 41005, errmsg: 'media data missing' }
  const b = Buffer.from(`--${m[1] || m[2]}`)
  if (body.indexOf(b) !== 0) return { errcode: 41005, errmsg: 'media data missing (no opening boundary)' }
  const hEnd = body.indexOf('\r\n\r\n', b.length)
  if (hEnd < 0) return { errcode: 41005, errmsg: 'media data missing (no part header end)' }
  const head = body.subarray(b.length, hEnd).toString('latin1')
  const nm = /name="([^"]*)"/i.exec(head)
  const fn = /filename="([^"]*)"/i.exec(head)
  if (!nm || nm[1] !== 'media') return { errcode: 41005, errmsg: 'media data missing (no part named media)' }
  if (!fn) return { errcode: 41005, errmsg: 'media data missing (no filename)' }
  const closing = Buffer.from(`\r\n--${m[1] || m[2]}--`)
  const dEnd = body.lastIndexOf(closing)
  if (dEnd < hEnd) return { errcode: 41005, errmsg: 'media data missing (no closing boundary)' }
  const data = body.subarray(hEnd + 4, dEnd)
  const ext = fn[1].split('.').pop().toLowerCase()
  if (ext !== 'png' || data.length < 8 || !data.subarray(0, 8).equals(PNG)) return { errcode: 40005, errmsg: 'invalid file type' }
  return { type: q.get('type'), media_id: `bench_${(++seq).toString(36)}_${randomBytes(6).toString('hex')}`, created_at: Math.floor(Date.now() / 1000) }
}

const server = http.createServer({ keepAliveTimeout: 30000 }, (req, res) => {
  const u = new URL(req.url, 'http://x')
  if (req.method === 'GET' && u.pathname === '/cgi-bin/token') {
    if (u.searchParams.get('appid') !== appid || u.searchParams.get('secret') !== secret) return json(res, 200, { errcode: 40013, errmsg: 'invalid appid' })
    return json(res, 200, { access_token: token, expires_in: 7200 })
  }
  if (req.method === 'POST' && u.pathname === '/cgi-bin/media/upload') {
    const len = req.headers['content-length']
    if (len === undefined || req.headers['transfer-encoding']) {
      req.resume()
      res.writeHead(412, { 'content-length': 0 })
      return res.end()
    }
    const body = Buffer.allocUnsafe(Number(len))
    let off = 0
    req.on('data', (c) => { if (off + c.length <= body.length) c.copy(body, off); off += c.length })
    req.on('end', () => {
      if (off !== body.length) return json(res, 400, { errcode: -1, errmsg: 'length mismatch' })
      json(res, 200, checkUpload(req, body, u.searchParams))
    })
    return
  }
  req.resume()
  json(res, 404, { errcode: -1, errmsg: 'not found' })
})
server.keepAliveTimeout = 30000
server.listen(port, '127.0.0.1', () => {
  const { port: p } = server.address()
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${p}`, appid, secret, env: 'bench-env' }) + '\n')
})
process.on('SIGTERM', () => { server.close(); server.closeAllConnections?.(); process.exit(0) })
process.on('SIGINT', () => process.exit(0))
