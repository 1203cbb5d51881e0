// Hardening (issue 11, "safety" slice): the bytes being sent stay alive and
// unchanged while a transfer is in flight, odd token providers, throwing
// getters and Proxy traps, absurd expires_in, typed-array kinds, Proxy arrays,
// and cloudPath rules. Loopback only: the emulator or a deliberately slow
// server on 127.0.0.1.
import test from 'ava'
import http from 'node:http'
import v8 from 'node:v8'
import vm from 'node:vm'
import { createHash, randomBytes } from 'node:crypto'
import { wx, PNG, sha256, startEmulator, clientFor, requestsTo } from './helpers.mjs'

// A real `gc()` without asking ava for --expose-gc.
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')

const MiB = 1024 * 1024

/** Fills the heap with other bytes so that freed memory gets reused. */
function churn() {
  gc()
  const junk = []
  for (let i = 0; i < 8; i++) junk.push(new Uint8Array(16 * MiB).fill(0xa5))
  gc()
  return junk.length
}

/**
 * A fake WeChat + COS on 127.0.0.1 that holds every upload body unread until
 * `release()` is called, so the client is still sending when the test
 * tampers with the buffer. It records the sha256 of each uploaded file part.
 */
async function slowServer(t) {
  const arrived = []
  let waiters = []
  let release
  const released = new Promise((resolve) => (release = resolve))
  const stored = []
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1')
    if (url.pathname === '/tcb/uploadfile') {
      req.resume()
      req.on('end', () => {
        res.setHeader('content-type', 'application/json')
        res.end(
          JSON.stringify({
            errcode: 0,
            errmsg: 'ok',
            url: `http://127.0.0.1:${server.address().port}/cos`,
            token: 't',
            authorization: 'a',
            file_id: 'cloud://e.bucket/x.bin',
            cos_file_id: 'c',
          }),
        )
      })
      return
    }
    // /cos or /cgi-bin/media/upload: hold the body, then read it all.
    req.pause()
    arrived.push(url.pathname)
    waiters.forEach((w) => w())
    waiters = []
    released.then(() => {
      const chunks = []
      req.on('data', (c) => chunks.push(c))
      req.on('end', () => {
        stored.push(filePart(Buffer.concat(chunks), req.headers['content-type']))
        if (url.pathname === '/cos') {
          res.statusCode = 204
          res.end()
        } else {
          res.setHeader('content-type', 'application/json')
          res.end(JSON.stringify({ type: 'image', media_id: 'MEDIA', created_at: 1 }))
        }
      })
      req.resume()
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    release()
    server.closeAllConnections()
    server.close()
  })
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Resolves when an upload body is being held. */
    holding: () => new Promise((resolve) => (arrived.length ? resolve() : waiters.push(resolve))),
    release,
    stored,
  }
}

/** The sha256 and size of the last part (the file) of a multipart body. */
function filePart(body, contentType) {
  const boundary = /boundary=([^;]+)/.exec(contentType ?? '')?.[1]
  const close = Buffer.from(`\r\n--${boundary}--\r\n`)
  const last = body.lastIndexOf(Buffer.from(`--${boundary}\r\n`))
  const start = body.indexOf('\r\n\r\n', last) + 4
  const end = body.lastIndexOf(close)
  const file = body.subarray(start, end)
  return { size: file.length, sha256: createHash('sha256').update(file).digest('hex') }
}

const SIZE = 16 * MiB

/** 16 MiB of random bytes starting like a PNG, in `u8` (filled in place). */
function fillPayload(u8) {
  u8.set(randomBytes(u8.length))
  u8.set(PNG.subarray(0, 16), 0)
  return sha256(u8)
}

const tamperings = {
  'transferred (structuredClone)': () => {
    const u8 = new Uint8Array(SIZE)
    return { value: u8, tamper: () => structuredClone(u8.buffer, { transfer: [u8.buffer] }) }
  },
  'Buffer whose ArrayBuffer is transferred': () => {
    const buf = Buffer.alloc(SIZE)
    return { value: buf, tamper: () => structuredClone(buf.buffer, { transfer: [buf.buffer] }) }
  },
  'resizable ArrayBuffer shrunk to 0': () => {
    const ab = new ArrayBuffer(SIZE, { maxByteLength: SIZE })
    return { value: new Uint8Array(ab), tamper: () => ab.resize(0) }
  },
  'fixed view over a resizable ArrayBuffer shrunk': () => {
    const ab = new ArrayBuffer(SIZE, { maxByteLength: SIZE })
    return { value: new Uint8Array(ab, 0, SIZE), tamper: () => ab.resize(16) }
  },
  'growable SharedArrayBuffer grown': () => {
    const sab = new SharedArrayBuffer(SIZE, { maxByteLength: 2 * SIZE })
    return { value: new Uint8Array(sab, 0, SIZE), tamper: () => sab.grow(2 * SIZE) }
  },
}

for (const [name, make] of Object.entries(tamperings)) {
  test.serial(`uploadFile: stored bytes are what was passed when the buffer is ${name} mid-upload`, async (t) => {
    const server = await slowServer(t)
    const client = new wx.WxClient({ baseUrl: server.url, accessToken: 'TOKEN', env: 'e', retries: 0 })
    const { value, tamper } = make()
    const expected = fillPayload(value)
    const call = client.uploadFile({ cloudPath: 'x.bin', fileContent: value })
    await server.holding()
    tamper()
    t.true(churn() > 0)
    server.release()
    const r = await call
    t.is(r.errMsg, 'uploadFile:ok')
    t.deepEqual(server.stored, [{ size: SIZE, sha256: expected }])
  })
}

test.serial('uploadTempMedia: stored bytes are what was passed when the buffer is transferred mid-upload', async (t) => {
  const server = await slowServer(t)
  const client = new wx.WxClient({
    baseUrl: server.url,
    accessToken: 'TOKEN',
    retries: 0,
    mediaSizeLimits: { image: 2 * SIZE },
  })
  const u8 = new Uint8Array(SIZE)
  const expected = fillPayload(u8)
  const call = client.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: u8 } })
  await server.holding()
  structuredClone(u8.buffer, { transfer: [u8.buffer] })
  t.true(churn() > 0)
  server.release()
  const r = await call
  t.is(r.mediaId, 'MEDIA')
  t.deepEqual(server.stored, [{ size: SIZE, sha256: expected }])
})

test('a detached view is refused INVALID_PARAM before any request (uploadFile and uploadTempMedia)', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const u8 = new Uint8Array(PNG)
  structuredClone(u8.buffer, { transfer: [u8.buffer] })
  const before = emu.requests().length
  const e1 = await t.throwsAsync(client.uploadFile({ cloudPath: 'd.png', fileContent: u8 }), { code: 'INVALID_PARAM' })
  t.regex(e1.errMsg, /^uploadFile:fail fileContent is detached/)
  const e2 = await t.throwsAsync(
    client.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: u8 } }),
    { code: 'INVALID_PARAM' },
  )
  t.regex(e2.errMsg, /media\.value is detached/)
  t.is(emu.requests().length, before)
})

test('typed arrays other than Buffer / Uint8Array are refused, naming what was given', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const ab = new ArrayBuffer(PNG.length * 8)
  new Uint8Array(ab).set(PNG)
  const cases = [
    [new Int16Array(ab), 'an Int16Array'],
    [new Float64Array(ab), 'a Float64Array'],
    [new Uint8ClampedArray(ab), 'a Uint8ClampedArray'],
    [new Int8Array(ab), 'an Int8Array'],
    [new BigUint64Array(ab), 'a BigUint64Array'],
    [new DataView(ab), 'a DataView'],
    [ab, 'an ArrayBuffer'],
  ]
  for (const [value, name] of cases) {
    const e = await t.throwsAsync(client.uploadFile({ cloudPath: 'k.png', fileContent: value }), {
      code: 'INVALID_PARAM',
    })
    t.true(e.errMsg.includes(`fileContent must be a Buffer or Uint8Array, got ${name}`), e.errMsg)
    const m = await t.throwsAsync(
      client.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value } }),
      { code: 'INVALID_PARAM' },
    )
    t.true(m.errMsg.includes(`media.value must be a Buffer or Uint8Array, got ${name}`), m.errMsg)
  }
  t.is(requestsTo(emu, '/cos/').length, 0)
  t.is(requestsTo(emu, '/cgi-bin/media/upload').length, 0)
  // Buffer, Uint8Array (also a subarray view) and a view over a SharedArrayBuffer are accepted.
  const sab = new SharedArrayBuffer(PNG.length + 4)
  new Uint8Array(sab).set(PNG, 4)
  const big = Buffer.concat([Buffer.from('xx'), PNG, Buffer.from('yy')])
  for (const value of [PNG, new Uint8Array(PNG), big.subarray(2, 2 + PNG.length), new Uint8Array(sab, 4)]) {
    const r = await client.uploadFile({ cloudPath: 'ok.png', fileContent: value })
    const back = await client.downloadFile({ fileID: r.fileID })
    t.is(sha256(back.fileContent), sha256(PNG))
  }
})

// Anything that reaches Node as an uncaught exception (the process would die
// without this listener, and every test below checks that none arrived).
const uncaught = []
process.on('uncaughtException', (e) => uncaught.push(e))

const badProviders = {
  'throws an Error': [() => { throw new Error('vault is down') }, /accessToken function failed: it threw: vault is down/],
  'throws a string': [() => { throw 'nope' }, /function failed: it threw: /],
  'throws a Symbol': [() => { throw Symbol('s') }, /function failed: it threw/],
  'returns 42': [() => 42, /must return a string or a promise of one, got a number/],
  'returns {}': [() => ({}), /must return a string or a promise of one, got an object/],
  'returns undefined': [() => undefined, /got undefined/],
  'returns a thenable that is not a promise': [() => ({ then: (ok) => ok('T') }), /got an object/],
  'resolves to 42': [async () => 42, /its promise must resolve to a string, got a number/],
  'resolves to {}': [async () => ({}), /its promise must resolve to a string, got an object/],
  'rejects': [async () => { throw new Error('expired') }, /its promise rejected: expired/],
  'rejects with undefined': [() => Promise.reject(undefined), /its promise rejected/],
  'resolves to an empty string': [async () => '', /gave an empty token/],
  'never settles': [() => new Promise(() => {}), /did not settle within 300 ms/],
}

for (const option of ['accessToken', 'cloudbaseAccessToken']) {
  for (const [name, [provider, message]] of Object.entries(badProviders)) {
    test(`${option} provider that ${name}: the call rejects TOKEN_ERROR, nothing is thrown at the process`, async (t) => {
      const emu = await startEmulator(t)
      // Only the provider that never settles should meet the timeout, however busy the machine.
      const json = name === 'never settles' ? 300 : 30_000
      const client = new wx.WxClient({ baseUrl: emu.url, env: emu.env, [option]: provider, timeout: { json } })
      const started = Date.now()
      const e = await t.throwsAsync(client.getTempFileURL({ fileList: ['cloud://e.b/a.png'] }), { code: 'TOKEN_ERROR' })
      t.regex(e.errMsg, new RegExp(message.source.replace('accessToken', option)))
      t.is(typeof e.errCode, 'number')
      t.true(Date.now() - started < 30_000)
      t.is(requestsTo(emu, '/tcb/').length, 0)
      await new Promise((resolve) => setTimeout(resolve, 50))
      t.deepEqual(uncaught, [])
    })
  }
}

test('a provider that fails once is asked again on the next call', async (t) => {
  const emu = await startEmulator(t)
  let calls = 0
  const accessToken = () => {
    calls++
    if (calls === 1) throw new Error('first')
    return emu.issueToken()
  }
  const client = new wx.WxClient({ baseUrl: emu.url, env: emu.env, accessToken })
  await t.throwsAsync(client.getTempFileURL({ fileList: ['cloud://e.b/a.png'] }), { code: 'TOKEN_ERROR' })
  const r = await client.getTempFileURL({ fileList: ['cloud://e.b/a.png'] })
  t.is(r.fileList.length, 1)
  t.is(calls, 2)
})

for (const expiresIn of ['9223372036854775807', '18446744073709551615', '1e300', '-5', '0', '7200.5', '"7200"', 'null', '{}']) {
  test(`expires_in ${expiresIn} from stable_token is clamped: the call works and the token is reused`, async (t) => {
    const emu = await startEmulator(t)
    const token = emu.issueToken()
    emu.injectFault({
      path: '/cgi-bin/stable_token',
      body: `{"access_token":"${token}","expires_in":${expiresIn}}`,
      contentType: 'application/json',
    })
    const client = clientFor(emu)
    const fileList = ['cloud://e.b/a.png']
    t.is((await client.getTempFileURL({ fileList })).fileList.length, 1)
    t.is((await client.getTempFileURL({ fileList })).fileList.length, 1)
    t.is(requestsTo(emu, '/cgi-bin/stable_token').length, 1)
    t.is(requestsTo(emu, '/tcb/batchdownloadfile').length, 2)
  })
}

/** `props` plus a getter `name` that throws `value`. */
const throwing = (name, value = new Error(`boom ${name}`), props = {}) =>
  Object.defineProperty({ ...props }, name, {
    enumerable: true,
    get() {
      throw value
    },
  })
const trap = (target, message) =>
  new Proxy(target, {
    get() {
      throw new Error(message)
    },
  })

test('a throwing getter or Proxy trap at any level rejects the call INVALID_PARAM; nothing escapes later', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const seen = []
  const onRejection = (e) => seen.push(e)
  process.on('unhandledRejection', onRejection)
  t.teardown(() => process.off('unhandledRejection', onRejection))
  const fileID = 'cloud://e.b/a.png'
  const media = { contentType: 'image/png', value: PNG }
  const cases = {
    'uploadFile: cloudPath getter': () => client.uploadFile(throwing('cloudPath', undefined, { fileContent: PNG })),
    'uploadFile: fileContent getter': () => client.uploadFile(throwing('fileContent', undefined, { cloudPath: 'a.png' })),
    'uploadFile: args Proxy': () => client.uploadFile(trap({}, 'args trap')),
    'uploadFile: config getter': () => client.uploadFile({ cloudPath: 'a.png', fileContent: PNG, config: throwing('env') }),
    'uploadFile: config Proxy': () => client.uploadFile({ cloudPath: 'a.png', fileContent: PNG, config: trap({}, 'config trap') }),
    'uploadFile: thrown non-Error': () => client.uploadFile(throwing('cloudPath', 42)),
    'uploadFile: thrown null': () => client.uploadFile(throwing('cloudPath', null)),
    'uploadTempMedia: type getter': () => client.uploadTempMedia(throwing('type', undefined, { media })),
    'uploadTempMedia: media getter': () => client.uploadTempMedia(throwing('media', undefined, { type: 'image' })),
    'uploadTempMedia: media.value getter': () => client.uploadTempMedia({ type: 'image', media: throwing('value', undefined, { contentType: 'image/png' }) }),
    'uploadTempMedia: media.contentType getter': () => client.uploadTempMedia({ type: 'image', media: throwing('contentType', undefined, { value: PNG }) }),
    'uploadTempMedia: media Proxy': () => client.uploadTempMedia({ type: 'image', media: trap({}, 'media trap') }),
    'getTempMedia: mediaId getter': () => client.getTempMedia(throwing('mediaId')),
    'downloadFile: fileID getter': () => client.downloadFile(throwing('fileID')),
    'downloadFile: config Proxy': () => client.downloadFile({ fileID, config: trap({}, 'config trap') }),
    'getTempFileURL: fileList getter': () => client.getTempFileURL(throwing('fileList')),
    'getTempFileURL: item fileID getter': () => client.getTempFileURL({ fileList: [throwing('fileID')] }),
    'getTempFileURL: item maxAge getter': () => client.getTempFileURL({ fileList: [throwing('maxAge', undefined, { fileID })] }),
    'getTempFileURL: item Proxy': () => client.getTempFileURL({ fileList: [trap({}, 'item trap')] }),
    'getTempFileURL: fileList Proxy element trap': () =>
      client.getTempFileURL({ fileList: new Proxy([fileID], { get: (o, k) => (k === '0' ? boom('element trap') : Reflect.get(o, k)) }) }),
    'deleteFile: fileList Proxy length trap': () =>
      client.deleteFile({ fileList: new Proxy([fileID], { get: (o, k) => (k === 'length' ? boom('length trap') : Reflect.get(o, k)) }) }),
    'deleteFile: non-string item in a Proxy array': () => client.deleteFile({ fileList: new Proxy([throwing('x')], {}) }),
    'module-level uploadFile': () => wx.uploadFile(throwing('cloudPath')),
  }
  for (const [name, call] of Object.entries(cases)) {
    let promise
    t.notThrows(() => {
      promise = call()
    }, name)
    t.true(promise instanceof Promise, name)
    const e = await t.throwsAsync(promise, undefined, name)
    t.is(e.code, 'INVALID_PARAM', `${name}: ${e.message}`)
    t.is(typeof e.errCode, 'number', name)
    t.is(typeof e.errMsg, 'string', name)
  }
  // The binding left no exception pending: the next calls work and nothing surfaces later.
  const r = await client.uploadFile({ cloudPath: 'after.png', fileContent: PNG })
  t.is(r.errMsg, 'uploadFile:ok')
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.deepEqual(seen, [])
  t.deepEqual(uncaught, [])
  t.is(requestsTo(emu, '/cos/').length, 1)
})

function boom(message) {
  throw new Error(message)
}

test('fileList may be a Proxy over an array (Vue reactive arrays): accepted like the array', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const a = await client.uploadFile({ cloudPath: 'p/a.png', fileContent: PNG })
  const b = await client.uploadFile({ cloudPath: 'p/b.png', fileContent: PNG })
  const reactive = (array) => new Proxy(array, { get: (o, k, r) => Reflect.get(o, k, r) })
  t.true(Array.isArray(reactive([])))
  const urls = await client.getTempFileURL({ fileList: reactive([a.fileID, reactive({ fileID: b.fileID, maxAge: 60 })]) })
  t.deepEqual(urls.fileList.map((f) => f.fileID), [a.fileID, b.fileID])
  t.true(urls.fileList.every((f) => f.status === 0 && f.tempFileURL.startsWith('http://127.0.0.1')))
  // Nested Proxies: a Proxy over a Proxy over an array.
  const deleted = await client.deleteFile({ fileList: reactive(reactive([a.fileID, b.fileID])) })
  t.deepEqual(deleted.fileList.map((f) => [f.fileID, f.status]), [[a.fileID, 0], [b.fileID, 0]])
  // Still refused: array-likes that Array.isArray rejects, and an empty Proxy array.
  await t.throwsAsync(client.deleteFile({ fileList: { length: 1, 0: a.fileID } }), {
    code: 'INVALID_PARAM',
    message: /fileList must be an array, got an object/,
  })
  await t.throwsAsync(client.deleteFile({ fileList: reactive([]) }), { code: 'INVALID_PARAM', message: /fileList is empty/ })
  await t.throwsAsync(client.deleteFile({ fileList: new Proxy([], { get: (o, k) => (k === 'length' ? 2 ** 32 - 1 : Reflect.get(o, k)) }) }), {
    code: 'INVALID_PARAM',
    message: /at most 100000/,
  })
})

const badCloudPaths = [
  ['../b.png', /must not contain '\.\.' segments/],
  ['a/../../b.png', /must not contain '\.\.' segments/],
  ['./a/./b.png', /must not contain '\.' segments/],
  ['a/..', /'\.\.' segments/],
  ['invoice\u202Egnp.exe', /bidirectional control character U\+202E at byte 7/],
  ['a\u2066b.png', /bidirectional control character U\+2066/],
  ['a\u200Fb.png', /bidirectional control character U\+200F/],
  ['a\u061Cb.png', /bidirectional control character U\+061C/],
  ['a\u200Bb.png', /zero-width character U\+200B/],
  ['a\u2060b.png', /zero-width character U\+2060/],
  ['\uFEFFa.png', /zero-width character U\+FEFF at byte 0/],
  ['a\u00ADb.png', /invisible format character U\+00AD/],
  ['a\u{E0041}b.png', /invisible format character U\+E0041/],
  ['a\uD800b.png', /not valid UTF-16: a lone surrogate \(U\+D800\) at index 1/],
  ['a/\uDC00.png', /lone surrogate \(U\+DC00\) at index 2/],
  ['\uD83D', /lone surrogate \(U\+D83D\) at index 0/],
]

test('cloudPath: dot segments, bidi controls, invisible characters and lone surrogates are refused before any request', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  for (const [cloudPath, message] of badCloudPaths) {
    const e = await t.throwsAsync(client.uploadFile({ cloudPath, fileContent: PNG }), { code: 'INVALID_PARAM' })
    t.regex(e.errMsg, message, JSON.stringify(cloudPath))
    t.regex(e.errMsg, /^uploadFile:fail cloudPath /)
  }
  t.is(requestsTo(emu, '/tcb/uploadfile').length, 0)
  // Well-formed text that merely looks unusual is fine.
  for (const cloudPath of ['图片/猫.jpg', 'a/😀.png', 'x/.hidden', 'a..b/c...png']) {
    const r = await client.uploadFile({ cloudPath, fileContent: PNG })
    t.true(r.fileID.endsWith(`/${cloudPath}`))
  }
})

test('the emulator treats keys literally and refuses what the client refuses: x/../victim.bin never reads victim.bin', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const victim = await client.uploadFile({ cloudPath: 'victim.bin', fileContent: PNG })
  const token = emu.issueToken()
  const tcb = (api, body) =>
    fetch(`${emu.url}/tcb/${api}?access_token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ env: emu.env, ...body }),
    }).then((r) => r.json())
  for (const [path] of badCloudPaths.filter(([p]) => p.isWellFormed())) {
    const ticket = await tcb('uploadfile', { path })
    t.not(ticket.errcode, 0, path)
    t.regex(ticket.errmsg, /cloud path is invalid/, path)
  }
  const bucketPrefix = victim.fileID.slice(0, victim.fileID.lastIndexOf('/victim.bin'))
  const sneaky = `${bucketPrefix}/x/../victim.bin`
  const links = await tcb('batchdownloadfile', { file_list: [{ fileid: sneaky, max_age: 60 }] })
  t.is(links.file_list.length, 1)
  t.not(links.file_list[0].status, 0)
  t.falsy(links.file_list[0].download_url)
  // The real link, with the key rewritten to climb out of a directory, is not served.
  const good = await tcb('batchdownloadfile', { file_list: [{ fileid: victim.fileID, max_age: 60 }] })
  const url = new URL(good.file_list[0].download_url)
  // node:http sends the path as written (fetch would resolve the dot segment itself).
  const escaped = `${url.pathname.replace('/victim.bin', '/x/%2E%2E/victim.bin')}${url.search}`
  const res = await new Promise((resolve, reject) =>
    http.get({ host: url.hostname, port: url.port, path: escaped }, (r) => {
      const chunks = []
      r.on('data', (c) => chunks.push(c))
      r.on('end', () => resolve({ status: r.statusCode, body: Buffer.concat(chunks).toString() }))
    }).on('error', reject),
  )
  t.is(res.status, 404)
  t.regex(res.body, /NoSuchKey/)
  // The client refuses the sneaky fileID's download without leaking victim.bin's bytes.
  const e = await t.throwsAsync(client.downloadFile({ fileID: sneaky }))
  t.not(e.code, undefined)
})

test.serial('a stream source whose chunks are transferred right after being yielded stores what was yielded', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const chunks = []
  for (let i = 0; i < 4; i++) {
    const u8 = new Uint8Array(2 * MiB)
    fillPayload(u8)
    chunks.push(u8)
  }
  const expected = sha256(Buffer.concat(chunks))
  async function* source() {
    for (const u8 of chunks) {
      // Take the memory away once the chunk has been handed over.
      setImmediate(() => {
        structuredClone(u8.buffer, { transfer: [u8.buffer] })
        gc()
      })
      yield u8
    }
  }
  const r = await client.uploadFile({ cloudPath: 'streamed.bin', fileContent: source() })
  t.is(r.errMsg, 'uploadFile:ok')
  t.true(chunks.every((u8) => u8.byteLength === 0), 'every chunk was detached')
  const back = await client.downloadFile({ fileID: r.fileID })
  t.is(sha256(back.fileContent), expected)
})
