// Upload sources (issue 9 item 1): every kind into uploadTempMedia and
// uploadFile, byte-identical on the wire with an exact Content-Length, and
// the failures of a source each a clear error with nothing sent.
import test from 'ava'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { pngOfSize, sha256, startEmulator, clientFor, requestsTo } from './helpers.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))

/** Stores `body` on the emulator's CDN; its URL. */
async function cdnPut(emu, name, body) {
  const res = await fetch(`${emu.url}/__cdn/${name}`, { method: 'PUT', body })
  const json = await res.json()
  if (json.size !== body.length) throw new Error(`CDN stored ${json.size} bytes`)
  return `${emu.url}/__cdn/${name}`
}

function tmpFile(t, data) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxm-src-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'source.png')
  fs.writeFileSync(file, data)
  return file
}

async function* generate(data, size) {
  for (let at = 0; at < data.length; at += size) yield new Uint8Array(data.subarray(at, at + size))
}

/** Each source kind, as a function of (t, emu, data) → the value to pass. */
const kinds = [
  ['a Buffer', async (t, emu, data) => data],
  ['a Uint8Array', async (t, emu, data) => new Uint8Array(data)],
  ['an fs.ReadStream', async (t, emu, data) => fs.createReadStream(tmpFile(t, data))],
  ['an fs.ReadStream opened from an fd', async (t, emu, data) => fs.createReadStream(null, { fd: fs.openSync(tmpFile(t, data), 'r') })],
  ['a Readable', async (t, emu, data) => Readable.from([data.subarray(0, 1000), data.subarray(1000)])],
  ['an async iterable of Uint8Array', async (t, emu, data) => generate(data, 7000)],
  ['a { url } with a Content-Length', async (t, emu, data) => ({ url: await cdnPut(emu, 'a.png', data) })],
  ['a chunked { url }', async (t, emu, data) => ({ url: `${await cdnPut(emu, 'c.png', data)}?mode=chunked&chunk=5000` })],
  ['a slow { url } with headers', async (t, emu, data) => ({ url: `${await cdnPut(emu, 's.png', data)}?chunk=20000&chunkDelayMs=5`, headers: { 'x-test': '1' } })],
  ['a WHATWG URL', async (t, emu, data) => new URL(await cdnPut(emu, 'u.png', data))],
]

/** The single file part of the only request to `route`, checked for an exact length. */
function wirePart(t, emu, route) {
  const [record] = requestsTo(emu, route)
  t.truthy(record, `a request to ${route}`)
  t.is(record.headers.transferEncoding, null, 'never chunked')
  t.is(record.headers.contentLength, record.bodySize, 'exact Content-Length')
  return record.parts.find((p) => p.filename)
}

for (const [kind, make] of kinds) {
  test(`${kind} into uploadTempMedia: identical bytes, exact length`, async (t) => {
    const emu = await startEmulator(t)
    const data = pngOfSize(150_000)
    const r = await clientFor(emu).uploadTempMedia({ type: 'image', media: { value: await make(t, emu, data) } })
    t.truthy(r.mediaId)
    const part = wirePart(t, emu, '/cgi-bin/media/upload')
    t.is(part.contentType, 'image/png')
    t.is(part.size, data.length)
    t.is(part.sha256, sha256(data))
  })

  test(`${kind} into uploadFile: identical bytes, exact length`, async (t) => {
    const emu = await startEmulator(t)
    const data = pngOfSize(150_000)
    const client = clientFor(emu)
    const r = await client.uploadFile({ cloudPath: 'src/a.png', fileContent: await make(t, emu, data) })
    const part = wirePart(t, emu, '/cos/')
    t.is(part.sha256, sha256(data))
    t.is(part.contentType, 'image/png')
    const back = await client.downloadFile({ fileID: r.fileID })
    t.is(sha256(back.fileContent), sha256(data))
  })
}

test('{ mediaId } → uploadFile keeps the media past its 3 days', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const data = pngOfSize(40_000)
  const { mediaId } = await client.uploadTempMedia({ type: 'image', media: { value: data } })
  const { fileID } = await client.uploadFile({ cloudPath: 'kept/a.png', fileContent: { mediaId } })
  t.is(wirePart(t, emu, '/cos/').sha256, sha256(data))
  t.is(sha256((await client.downloadFile({ fileID })).fileContent), sha256(data))
})

test('{ fileID } → uploadTempMedia sends a stored image as media', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const data = pngOfSize(40_000)
  const { fileID } = await client.uploadFile({ cloudPath: 'img/b.png', fileContent: data })
  emu.clearRequests()
  const { mediaId } = await client.uploadTempMedia({ type: 'image', media: { value: { fileID } } })
  t.is(wirePart(t, emu, '/cgi-bin/media/upload').sha256, sha256(data))
  const back = await client.getTempMedia({ mediaId })
  t.is(sha256(back.buffer), sha256(data))
})

test('a bad { mediaId } source is a SOURCE_ERROR with WeChat\'s errcode, nothing uploaded', async (t) => {
  const emu = await startEmulator(t)
  const err = await t.throwsAsync(clientFor(emu).uploadFile({ cloudPath: 'x.png', fileContent: { mediaId: 'nope' } }))
  t.is(err.code, 'SOURCE_ERROR')
  t.is(err.errCode, 40007)
  t.is(requestsTo(emu, '/tcb/').length + requestsTo(emu, '/cos/').length, 0)
})

/** Requests that reached WeChat's or COS's upload routes. */
const uploads = (emu) =>
  ['/cgi-bin/media/upload', '/tcb/uploadfile', '/cos/'].reduce((n, p) => n + requestsTo(emu, p).length, 0)

test('a source answering 404 is SOURCE_ERROR with its status; its query string never shows', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const url = `${emu.url}/__cdn/missing.png?sign=s3cr3t-signature`
  for (const call of [
    () => client.uploadTempMedia({ type: 'image', media: { value: { url } } }),
    () => client.uploadFile({ cloudPath: 'a.png', fileContent: { url } }),
  ]) {
    const err = await t.throwsAsync(call())
    t.is(err.code, 'SOURCE_ERROR')
    t.is(err.statusCode, 404)
    t.regex(err.message, /\/__cdn\/missing\.png answered HTTP 404/)
    t.false(JSON.stringify({ ...err, message: err.message, stack: err.stack }).includes('s3cr3t'))
  }
  t.is(uploads(emu), 0)
  t.is(requestsTo(emu, '/cgi-bin/stable_token').length, 0, 'not even a token was fetched')
})

test('a source that sends fewer bytes than its Content-Length fails the upload, not retried', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const url = `${await cdnPut(emu, 'lie.png', pngOfSize(300_000))}?mode=short`
  for (const call of [
    () => client.uploadTempMedia({ type: 'image', media: { value: { url } } }),
    () => client.uploadFile({ cloudPath: 'a.png', fileContent: { url } }),
  ]) {
    const err = await t.throwsAsync(call())
    t.is(err.code, 'SOURCE_ERROR')
    t.regex(err.message, /of 300000 bytes|of the 300000 bytes/)
  }
  t.is(requestsTo(emu, '/cgi-bin/media/upload').length, 0, 'no upload was completed')
  t.is(requestsTo(emu, '/cos/').length, 0)
  t.is(emu.stats().requests['/__cdn'], 3, 'one GET each, no retry')
})

test('over the limit: by Content-Length, chunked, or a JS stream → INVALID_PARAM with nothing sent', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { mediaSizeLimits: { image: 50_000 }, maxUploadBytes: 50_000 })
  const url = await cdnPut(emu, 'big.png', pngOfSize(60_000))
  let destroyed = false
  const stream = Readable.from([pngOfSize(30_000), pngOfSize(30_000), pngOfSize(30_000)])
  stream.on('close', () => { destroyed = true })
  const calls = [
    () => client.uploadTempMedia({ type: 'image', media: { value: { url } } }),
    () => client.uploadTempMedia({ type: 'image', media: { value: { url: `${url}?mode=chunked` } } }),
    () => client.uploadFile({ cloudPath: 'a.png', fileContent: { url } }),
    () => client.uploadFile({ cloudPath: 'a.png', fileContent: { url: `${url}?mode=chunked` } }),
    () => client.uploadFile({ cloudPath: 'a.png', fileContent: stream }),
  ]
  for (const call of calls) {
    const err = await t.throwsAsync(call())
    t.is(err.code, 'INVALID_PARAM')
    t.regex(err.message, /over (the image limit|maxUploadBytes) of 50000 bytes/)
  }
  t.is(uploads(emu), 0)
  await new Promise((resolve) => setImmediate(resolve))
  t.true(destroyed, 'the JS stream was destroyed')
})

test('a 40001 replay re-opens a URL source and sends identical bytes', async (t) => {
  const emu = await startEmulator(t)
  const data = pngOfSize(200_000)
  const url = await cdnPut(emu, 'replay.png', data)
  emu.injectFault({ path: '/cgi-bin/media/upload', errcode: 40001, times: 1 })
  const r = await clientFor(emu).uploadTempMedia({ type: 'image', media: { value: { url } } })
  t.truthy(r.mediaId)
  const sent = requestsTo(emu, '/cgi-bin/media/upload')
  t.is(sent.length, 2)
  t.is(sent[0].bodySha256, sent[1].bodySha256, 'the same body, boundary and all')
  t.is(sent[1].parts[0].sha256, sha256(data))
  t.is(emu.stats().requests['/__cdn'], 3, 'PUT, then a GET per send')
})

test('a one-shot JS stream is buffered, so a replay sends identical bytes', async (t) => {
  const emu = await startEmulator(t)
  const data = pngOfSize(100_000)
  emu.injectFault({ path: '/cgi-bin/media/upload', errcode: 40001, times: 1 })
  await clientFor(emu).uploadTempMedia({ type: 'image', media: { value: Readable.from([data]) } })
  const sent = requestsTo(emu, '/cgi-bin/media/upload')
  t.is(sent.length, 2)
  t.is(sent[0].bodySha256, sent[1].bodySha256)
})

test('a missing file rejects cleanly, with no unhandled error event', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const missing = path.join(os.tmpdir(), `wxm-missing-${process.pid}.png`)
  const e1 = await t.throwsAsync(client.uploadTempMedia({ type: 'image', media: { value: fs.createReadStream(missing) } }))
  t.is(e1.code, 'INVALID_PARAM')
  t.regex(e1.message, /cannot read media\.value's file/)
  const e2 = await t.throwsAsync(client.uploadFile({ cloudPath: 'a.png', fileContent: fs.createReadStream(missing) }))
  t.is(e2.code, 'INVALID_PARAM')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.is(uploads(emu), 0)
})

test('a JS stream that fails is a SOURCE_ERROR with its message', async (t) => {
  const emu = await startEmulator(t)
  async function* failing() {
    yield pngOfSize(1000)
    throw new Error('disk on fire')
  }
  const err = await t.throwsAsync(clientFor(emu).uploadFile({ cloudPath: 'a.png', fileContent: failing() }))
  t.is(err.code, 'SOURCE_ERROR')
  t.regex(err.message, /disk on fire/)
  t.is(uploads(emu), 0)
})

test('a streamed 10 MiB URL upload keeps peak RSS far below payload × concurrency', async (t) => {
  // Lean: the emulator (in this process) skips hashing, to spare the CPU.
  const emu = await startEmulator(t, { maxBodyBytes: 64 * 1024 * 1024, lean: true })
  const url = await cdnPut(emu, 'ten.png', pngOfSize(10 * 1024 * 1024))
  const child = spawn(process.execPath, [path.join(here, 'fixtures', 'url-rss-child.cjs')], {
    env: { ...process.env, EMU_URL: emu.url, EMU_APPID: emu.appid, EMU_SECRET: emu.secret, SOURCE_URL: url, CONCURRENCY: '4', ROUNDS: '2' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  const code = await new Promise((resolve) => child.on('close', resolve))
  t.is(code, 0, out)
  const { uploads: done, baseline, peak } = JSON.parse(out)
  t.is(done, 8)
  const payloadTimesConcurrency = 10 * 1024 * 1024 * 4
  t.log(`RSS baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, peak ${(peak / 2 ** 20).toFixed(1)} MiB`)
  // Holding the bodies would take at least payload × concurrency (40 MiB) on
  // top of the baseline; streamed, the growth is noise that does not scale
  // with the payload (about 4–16 MiB here for 1 MiB and 10 MiB sources alike).
  t.true(peak - baseline < payloadTimesConcurrency * 0.75, `grew ${(peak - baseline) / 2 ** 20} MiB`)
})

test('openapi media params take sources too (not renamed or flattened)', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const data = pngOfSize(30_000)
  const { fileID } = await client.uploadFile({ cloudPath: 'o/a.png', fileContent: data })
  const { openapi } = client
  for (const value of [Readable.from([data]), { fileID }, { url: await cdnPut(emu, 'o.png', data) }]) {
    emu.clearRequests()
    const r = await openapi.customerServiceMessage.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value } })
    t.truthy(r.mediaId)
    t.is(wirePart(t, emu, '/cgi-bin/media/upload').sha256, sha256(data))
  }
  emu.clearRequests()
  const check = await openapi.security.imgSecCheck({ media: { value: Readable.from([data]) } })
  t.is(check.errCode, 0)
  t.is(wirePart(t, emu, '/wxa/img_sec_check').sha256, sha256(data))
})
