// Cloud Base storage against the emulator: the COS form on the wire,
// downloads, batches, errors.
import test from 'ava'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { wx, PNG, sha256, startEmulator, clientFor, requestsTo, totalRequests } from './helpers.mjs'

/** `cloud://env.bucket` of a fileID, to name files that do not exist. */
const bucketOf = (fileID) => fileID.slice(0, fileID.indexOf('/', 'cloud://'.length))

const FORM_ORDER = ['key', 'Signature', 'x-cos-security-token', 'x-cos-meta-fileid', 'file']

async function checkUpload(t, emu, client, cloudPath, fileContent, expected) {
  const r = await client.uploadFile({ cloudPath, fileContent })
  t.deepEqual(Object.keys(r).sort(), ['errMsg', 'fileID', 'statusCode'])
  t.is(r.errMsg, 'uploadFile:ok')
  t.is(r.statusCode, 204)
  t.true(r.fileID.startsWith(`cloud://${emu.env}.`))
  t.true(r.fileID.endsWith(`/${cloudPath}`))

  const [ticket] = requestsTo(emu, '/tcb/uploadfile').slice(-1)
  t.deepEqual(ticket.json, { env: emu.env, path: cloudPath })
  const [form] = requestsTo(emu, '/cos/').slice(-1)
  t.is(form.status, 204)
  t.deepEqual(form.parts.map((p) => p.name), FORM_ORDER)
  t.is(form.parts[0].value, cloudPath)
  for (const part of form.parts.slice(1, 4)) t.true(part.value.length > 0, part.name)
  const file = form.parts[4]
  t.truthy(file.filename)
  t.is(file.size, expected.length)
  t.is(file.sha256, sha256(expected))
  t.is(form.headers.transferEncoding, null)
  t.is(form.headers.contentLength, form.bodySize)
  t.regex(form.headers.contentType, /^multipart\/form-data; boundary=[^"]+$/)

  const back = await client.downloadFile({ fileID: r.fileID })
  t.is(back.errMsg, 'downloadFile:ok')
  t.is(back.statusCode, 200)
  t.true(back.fileContent.equals(expected))
  return { r, file }
}

test('uploadFile with a Buffer: form fields in order, file last, bytes stored intact', async (t) => {
  const emu = await startEmulator(t)
  const { file } = await checkUpload(t, emu, clientFor(emu), 'images/a.png', PNG, PNG)
  t.is(file.contentType, 'image/png')
  t.is(file.filename, 'a.png')
})

test('uploadFile with a Uint8Array', async (t) => {
  const emu = await startEmulator(t)
  const bytes = new Uint8Array(randomBytes(4096))
  const { file } = await checkUpload(t, emu, clientFor(emu), 'bin/data.bin', bytes, Buffer.from(bytes))
  t.is(file.contentType, 'application/octet-stream')
})

test('uploadFile with an fs.ReadStream of several MB streams the file', async (t) => {
  const emu = await startEmulator(t)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-media-test-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'big.png')
  const data = Buffer.concat([PNG, randomBytes(6 * 1024 * 1024)])
  fs.writeFileSync(file, data)
  const stream = fs.createReadStream(file)
  await checkUpload(t, emu, clientFor(emu), 'big/big.png', stream, data)
  t.true(stream.destroyed)

  const ranged = fs.createReadStream(file, { start: 100, end: 1099 })
  await checkUpload(t, emu, clientFor(emu), 'big/slice.bin', ranged, data.subarray(100, 1100))
})

test('config.env per call, init env and TCB_ENV choose the environment', async (t) => {
  const emu = await startEmulator(t, { envs: ['env-one', 'env-two'] })
  const client = new wx.WxClient({ appid: emu.appid, secret: emu.secret, baseUrl: emu.url, env: 'env-one' })
  const a = await client.uploadFile({ cloudPath: 'a.png', fileContent: PNG })
  t.true(a.fileID.startsWith('cloud://env-one.'))
  const b = await client.uploadFile({ cloudPath: 'b.png', fileContent: PNG, config: { env: 'env-two' } })
  t.true(b.fileID.startsWith('cloud://env-two.'))
  const err = await t.throwsAsync(client.uploadFile({ cloudPath: 'c.png', fileContent: PNG, config: { env: 'env-nope' } }))
  t.is(err.errCode, -501005)
})

test('downloadFile of a missing file rejects with the cloud code', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const { fileID } = await client.uploadFile({ cloudPath: 'gone.png', fileContent: PNG })
  await client.deleteFile({ fileList: [fileID] })
  const err = await t.throwsAsync(client.downloadFile({ fileID }))
  t.is(err.errCode, -503003)
  t.is(err.code, 'WX_API_ERROR')
  t.regex(err.message, /^errCode: -503003 storage file not exists \| errMsg: downloadFile:fail /)
})

test('downloadFile refuses a body over maxDownloadBytes', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { maxDownloadBytes: 1000 })
  const { fileID } = await client.uploadFile({ cloudPath: 'big.bin', fileContent: randomBytes(5000) })
  const err = await t.throwsAsync(client.downloadFile({ fileID }))
  t.is(err.code, 'TOO_LARGE')
  t.regex(err.message, /larger than the 1000-byte limit/)
})

test('getTempFileURL with 120 ids: 3 calls of at most 50, input order, missing ones per item', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const uploaded = []
  for (let i = 0; i < 5; i++) uploaded.push((await client.uploadFile({ cloudPath: `t/${i}.png`, fileContent: PNG })).fileID)
  const missing = (i) => `${bucketOf(uploaded[0])}/nothing-${i}.png`
  const fileList = Array.from({ length: 120 }, (_, i) => {
    const id = i % 24 === 0 ? uploaded[i / 24] : missing(i)
    return i % 2 === 0 ? id : { fileID: id, maxAge: 60 + i }
  })
  emu.clearRequests()
  const r = await client.getTempFileURL({ fileList })
  t.is(r.errMsg, 'getTempFileURL:ok')
  t.is(r.fileList.length, 120)
  const calls = requestsTo(emu, '/tcb/batchdownloadfile')
  t.deepEqual(calls.map((c) => c.json.file_list.length).sort((a, b) => b - a), [50, 50, 20])
  const sent = calls.flatMap((c) => c.json.file_list)
  t.is(sent.find((f) => f.fileid === missing(1)).max_age, 61)
  t.is(sent.find((f) => f.fileid === missing(2)).max_age, 86400)
  r.fileList.forEach((item, i) => {
    const id = typeof fileList[i] === 'string' ? fileList[i] : fileList[i].fileID
    t.is(item.fileID, id)
    t.is(item.maxAge, i % 2 === 0 ? 86400 : 60 + i)
    if (i % 24 === 0) {
      t.is(item.status, 0)
      t.is(item.errMsg, 'ok')
      t.true(item.tempFileURL.startsWith(emu.url))
    } else {
      t.is(item.status, -503003)
      t.is(item.tempFileURL, '')
    }
  })
  const link = r.fileList[0].tempFileURL
  t.true(Buffer.from(await (await fetch(link)).arrayBuffer()).equals(PNG))
})

test('temp links expire after maxAge of emulator time', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const { fileID } = await client.uploadFile({ cloudPath: 'expiring.png', fileContent: PNG })
  const { fileList } = await client.getTempFileURL({ fileList: [{ fileID, maxAge: 10 }] })
  const fresh = await fetch(fileList[0].tempFileURL)
  t.is(fresh.status, 200)
  t.true(Buffer.from(await fresh.arrayBuffer()).equals(PNG))
  emu.advanceClock(11_000)
  const res = await fetch(fileList[0].tempFileURL)
  t.is(res.status, 403)
  t.regex(await res.text(), /AccessDenied/)
})

test('deleteFile: shape, splitting, per-item status for missing files', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const ids = []
  for (let i = 0; i < 3; i++) ids.push((await client.uploadFile({ cloudPath: `d/${i}.png`, fileContent: PNG })).fileID)
  const fileList = [...ids, ...Array.from({ length: 57 }, (_, i) => `${bucketOf(ids[0])}/x${i}`)]
  emu.clearRequests()
  const r = await client.deleteFile({ fileList })
  t.is(r.errMsg, 'deleteFile:ok')
  t.deepEqual(r.fileList.map((f) => f.fileID), fileList)
  t.deepEqual(Object.keys(r.fileList[0]).sort(), ['errMsg', 'fileID', 'status'])
  t.deepEqual(r.fileList.slice(0, 3).map((f) => [f.status, f.errMsg]), [[0, 'ok'], [0, 'ok'], [0, 'ok']])
  t.true(r.fileList.slice(3).every((f) => f.status === -503003))
  t.deepEqual(requestsTo(emu, '/tcb/batchdeletefile').map((c) => c.json.fileid_list.length).sort((a, b) => b - a), [50, 10])
  const again = await client.deleteFile({ fileList: [ids[0]] })
  t.is(again.fileList[0].status, -503003)
})

test('a COS 403 XML error becomes COS_ERROR with the COS code and RequestId', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  await client.uploadFile({ cloudPath: 'warm.png', fileContent: PNG })
  // Hold the COS POST while the emulator's clock passes the ticket's lifetime:
  // once the second ticket has been issued (not after a fixed sleep, which a
  // loaded machine can outrun), move the clock past it. The hold is what the
  // test has to react within, so it is generous: 1.5 s was outrun once by a
  // poll loop starved on a machine at load 20.
  emu.injectFault({ path: '/cos/', delayMs: 8000 })
  const pending = client.uploadFile({ cloudPath: 'late.png', fileContent: PNG })
  pending.catch(() => {})
  const deadline = Date.now() + 30_000
  while (requestsTo(emu, '/tcb/uploadfile').length < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  t.is(requestsTo(emu, '/tcb/uploadfile').length, 2, 'the second ticket was never issued')
  emu.advanceClock(2 * 3600 * 1000)
  const err = await t.throwsAsync(pending)
  t.is(err.code, 'COS_ERROR')
  t.is(err.statusCode, 403)
  t.regex(err.message, /uploadFile:fail \[AccessDenied\]: /)
  t.true(typeof err.requestId === 'string' && err.requestId.length > 0)
  t.true(err.message.includes(err.requestId))
})

test('an injected COS error document is reported as such', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { retries: 0 })
  emu.injectFault({
    path: '/cos/',
    status: 403,
    contentType: 'application/xml',
    body: "<?xml version='1.0' encoding='utf-8' ?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The Signature you specified is invalid.</Message><RequestId>REQ-123</RequestId></Error>",
  })
  const err = await t.throwsAsync(client.uploadFile({ cloudPath: 'x.png', fileContent: PNG }))
  t.is(err.code, 'COS_ERROR')
  t.is(err.requestId, 'REQ-123')
  t.regex(err.errMsg, /^uploadFile:fail \[SignatureDoesNotMatch\]: The Signature you specified is invalid\./)
})

test('COS 5xx is retried per `retries`', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { retries: 2 })
  emu.injectFault({ path: '/cos/', status: 503, times: 2 })
  const r = await client.uploadFile({ cloudPath: 'retry.png', fileContent: PNG })
  t.is(r.statusCode, 204)
  const forms = requestsTo(emu, '/cos/')
  t.deepEqual(forms.map((f) => f.status), [503, 503, 204])
  t.is(forms[2].bodySha256, forms[0].bodySha256)
})

test('40001 on /tcb/uploadfile: one refresh and one replay', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  await client.uploadFile({ cloudPath: 'warm.png', fileContent: PNG })
  emu.clearRequests()
  emu.injectFault({ path: '/tcb/uploadfile', errcode: 40001, times: 1 })
  const r = await client.uploadFile({ cloudPath: 'after.png', fileContent: PNG })
  t.is(r.statusCode, 204)
  const tickets = requestsTo(emu, '/tcb/uploadfile')
  t.is(tickets.length, 2)
  t.is(tickets[1].bodySha256, tickets[0].bodySha256)
  t.is(requestsTo(emu, '/cgi-bin/stable_token').length, 1)
})

const badStorageCalls = [
  ['an empty cloudPath', (c) => c.uploadFile({ cloudPath: '', fileContent: PNG }), /cloudPath is empty/],
  ['a cloudPath with a leading slash', (c) => c.uploadFile({ cloudPath: '/a.png', fileContent: PNG }), /must not start with '\/'/],
  ['a cloudPath over 850 bytes', (c) => c.uploadFile({ cloudPath: 'é'.repeat(426), fileContent: PNG }), /852 bytes long; the limit is 850/],
  ['a cloudPath with control characters', (c) => c.uploadFile({ cloudPath: 'a\u0000b', fileContent: PNG }), /control characters/],
  ['a string fileContent', (c) => c.uploadFile({ cloudPath: 'a.txt', fileContent: 'hello' }), /fileContent must be a Buffer or Uint8Array, an fs\.ReadStream, .*got a string/],
  ['a Readable of strings', (c) => c.uploadFile({ cloudPath: 'a.txt', fileContent: Readable.from(['x']) }), /fileContent yielded a string: a stream source must yield Buffers or Uint8Arrays/],
  ['a missing fileContent', (c) => c.uploadFile({ cloudPath: 'a.txt' }), /fileContent is missing/],
  ['a fileID without cloud://', (c) => c.downloadFile({ fileID: 'https://x/y' }), /must be a fileID starting with 'cloud:\/\/'/],
  ['a bad fileID in getTempFileURL', (c) => c.getTempFileURL({ fileList: ['cloud://ok.b/a', 'nope'] }), /fileList\[1\]/],
  ['a zero maxAge', (c) => c.getTempFileURL({ fileList: [{ fileID: 'cloud://e.b/a', maxAge: 0 }] }), /maxAge must be at least 1/],
  ['an empty fileList', (c) => c.deleteFile({ fileList: [] }), /fileList is empty/],
  ['a non-string in deleteFile', (c) => c.deleteFile({ fileList: [42] }), /fileList\[0\] must be a fileID string, got a number/],
]

for (const [what, call, pattern] of badStorageCalls) {
  test(`storage refuses ${what} before any request`, async (t) => {
    const emu = await startEmulator(t)
    const err = await t.throwsAsync(call(clientFor(emu)))
    t.is(err.code, 'INVALID_PARAM')
    t.regex(err.message, pattern)
    t.is(totalRequests(emu), 0)
  })
}

test('a missing env says how to set it, before any request', async (t) => {
  const emu = await startEmulator(t)
  const saved = process.env.TCB_ENV
  delete process.env.TCB_ENV
  t.teardown(() => { if (saved !== undefined) process.env.TCB_ENV = saved })
  const client = new wx.WxClient({ appid: emu.appid, secret: emu.secret, baseUrl: emu.url })
  for (const call of [
    () => client.uploadFile({ cloudPath: 'a.png', fileContent: PNG }),
    () => client.downloadFile({ fileID: 'cloud://e.b/a.png' }),
    () => client.getTempFileURL({ fileList: ['cloud://e.b/a.png'] }),
    () => client.deleteFile({ fileList: ['cloud://e.b/a.png'] }),
  ]) {
    const err = await t.throwsAsync(call())
    t.is(err.code, 'INVALID_PARAM')
    t.regex(err.message, /no Cloud Base env: pass config: \{ env \}/)
  }
  t.is(totalRequests(emu), 0)
})
