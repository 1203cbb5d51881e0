// A new user's view of wx-media: options that are refused with a hint, the
// package as ESM and TypeScript sees it, the emulator's UX, close(), the
// debug log. Everything runs against the emulator on 127.0.0.1.
import test from 'ava'
import { createServer as createHttpServer } from 'node:http'
import { PNG, wx, startEmulator, clientFor, totalRequests } from './helpers.mjs'

const refused = (t, make, pattern) => {
  const err = t.throws(make)
  t.is(err.code, 'INVALID_PARAM')
  t.is(err.errCode, -1)
  t.regex(err.message, pattern)
  return err
}

test('unknown or misspelt options are refused with a did-you-mean, by WxClient and init', (t) => {
  for (const [options, pattern] of [
    [{ timout: 5000 }, /unknown option 'timout': did you mean 'timeout'\?/],
    [{ maxConcurency: 4 }, /unknown option 'maxConcurency': did you mean 'maxConcurrency'\?/],
    [{ base_url: 'http://127.0.0.1:9' }, /unknown option 'base_url': did you mean 'baseUrl'\?/],
    [{ BASEURL: 'http://127.0.0.1:9' }, /did you mean 'baseUrl'\?/],
    [{ max_download_bytes: 1 }, /did you mean 'maxDownloadBytes'\?/],
    [{ timeout: { jsno: 100 } }, /unknown option 'timeout\.jsno': did you mean 'timeout\.json'\?/],
    [{ env: { storag: 'e' } }, /unknown option 'env\.storag': did you mean 'env\.storage'\?/],
    [{ mediaSizeLimits: { images: 1 } }, /did you mean 'mediaSizeLimits\.image'\?/],
    [{ appSecret: 's' }, /unknown option 'appSecret': did you mean 'secret'\?/],
    [{ appId: 'wx1' }, /did you mean 'appid'\?/],
    [{ colour: 'blue' }, /unknown option 'colour'; the options are appid, secret, .*maxDownloadBytes/],
  ]) {
    refused(t, () => new wx.WxClient(options), pattern)
    refused(t, () => wx.init(options), pattern)
  }
})

test('every documented option is still accepted together', (t) => {
  const client = new wx.WxClient({
    appid: 'wx1',
    secret: 's',
    tokenMode: 'legacy',
    env: { default: 'e1', storage: 'e2' },
    baseUrl: 'http://127.0.0.1:9',
    timeout: { json: 1000, transfer: 2000 },
    retries: 1,
    maxConcurrency: 2,
    proxy: 'http://127.0.0.1:3128',
    mediaSizeLimits: { image: 1, voice: 2, video: 3, thumb: 4 },
    maxDownloadBytes: 10,
    openApiService: false,
  })
  t.is(client.env, 'e2')
  t.truthy(new wx.WxClient({ accessToken: 'tok', baseUrl: 'http://127.0.0.1:9' }))
  t.truthy(new wx.WxClient({ cloudbaseAccessToken: () => 'tok', baseUrl: 'http://127.0.0.1:9' }))
})

test('baseUrl with a fragment and proxies other than http(s) are refused at construction', (t) => {
  refused(t, () => new wx.WxClient({ baseUrl: 'http://127.0.0.1:9/#frag' }), /baseUrl must not carry a fragment/)
  refused(t, () => new wx.WxClient({ proxy: 'ftp://127.0.0.1:21' }), /proxy scheme 'ftp' is not supported/)
  const socks = refused(
    t,
    () => new wx.WxClient({ proxy: 'socks5://user:pa55word@127.0.0.1:1080' }),
    /proxy scheme 'socks5' is not supported \(no SOCKS support\): use an HTTP\(S\) proxy URL/,
  )
  t.false(socks.message.includes('pa55word'))
  t.false(socks.stack.includes('pa55word'))
  refused(t, () => wx.init({ proxy: 'socks5h://127.0.0.1:1080' }), /scheme 'socks5h'/)
  t.truthy(new wx.WxClient({ proxy: '127.0.0.1:3128' }), 'host:port means http://, as in curl')
})

test('a maxAge above the server limit (one day) is refused, not clamped', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const { fileID } = await client.uploadFile({ cloudPath: 'age.png', fileContent: PNG })
  const before = totalRequests(emu)
  for (const maxAge of [86401, 7 * 86400, 2 ** 32 + 5]) {
    const err = await t.throwsAsync(client.getTempFileURL({ fileList: [{ fileID, maxAge }] }))
    t.is(err.code, 'INVALID_PARAM')
    t.regex(err.message, new RegExp(`fileList\\[0\\]\\.maxAge is ${maxAge} s, more than the server takes \\(86400 s, one day\\)`))
  }
  t.is(totalRequests(emu), before, 'refused before any request')
  const { fileList } = await client.getTempFileURL({ fileList: [{ fileID, maxAge: 86400 }] })
  t.is(fileList[0].status, 0)
  t.is(fileList[0].maxAge, 86400)
})

// ---------------------------------------------------------------- packaging

import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(import.meta.url)

/** A temporary directory whose node_modules/wx-media is this checkout. */
function appDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-media-app-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'wx-media'), 'dir')
  return dir
}

/** Runs `source` as an ES module in `dir`, with a generous bound on time. */
function runModule(dir, name, source, env = {}) {
  const file = path.join(dir, name)
  fs.writeFileSync(file, source)
  return spawnSync(process.execPath, [file], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  })
}

test('ESM: named imports from the package name work, and match the CommonJS exports', (t) => {
  const dir = appDir(t)
  const run = runModule(
    dir,
    'esm.mjs',
    `import { openapi, WxClient, init, uploadTempMedia, getTempMedia, uploadFile, downloadFile,
       getTempFileURL, deleteFile, startEmulator, Emulator, version, isWxMediaError } from 'wx-media'
     import * as all from 'wx-media'
     import wx from 'wx-media'
     const named = { openapi, WxClient, init, uploadTempMedia, getTempMedia, uploadFile, downloadFile,
       getTempFileURL, deleteFile, startEmulator, Emulator, version, isWxMediaError }
     console.log(JSON.stringify({
       types: Object.fromEntries(Object.entries(named).map(([k, v]) => [k, typeof v])),
       upload: typeof openapi.customerServiceMessage.uploadTempMedia,
       namespace: Object.keys(all).filter((k) => k !== 'default').sort(),
       cjs: Object.keys(wx).sort(),
     }))`,
  )
  t.is(run.status, 0, run.stderr)
  const out = JSON.parse(run.stdout)
  for (const [name, type] of Object.entries(out.types)) t.not(type, 'undefined', name)
  t.is(out.upload, 'function')
  t.deepEqual(out.namespace, out.cjs, 'every CommonJS export is a named ESM export')
  t.deepEqual(out.cjs, Object.keys(require('..')).sort())
})

test('isWxMediaError recognises wx-media failures only', async (t) => {
  const { ERROR_CODES } = require('../lib/errors.js')
  const emu = await startEmulator(t)
  const err = await t.throwsAsync(clientFor(emu).getTempMedia({ mediaId: '' }))
  t.true(wx.isWxMediaError(err))
  t.true(wx.isWxMediaError(t.throws(() => new wx.WxClient({ timout: 1 }))))
  for (const other of [new Error('x'), { code: 'INVALID_PARAM', errCode: -1, errMsg: 'x' }, null, 'INVALID_PARAM',
    Object.assign(new Error('x'), { code: 'ENOENT', errCode: -2, errMsg: 'x' })]) {
    t.false(wx.isWxMediaError(other))
  }
  // One list of codes: lib/errors.js, the WxMediaErrorCode union and the README table agree.
  const dts = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8')
  const union = dts.match(/export type WxMediaErrorCode =([^]*?)\n\n/)[1].match(/'([A-Z_]+)'/g).map((s) => s.slice(1, -1))
  t.deepEqual(union, [...ERROR_CODES])
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const row = readme.split('\n').find((l) => l.startsWith('| `code` |'))
  t.deepEqual(row.match(/`([A-Z_]{4,})`/g).map((s) => s.slice(1, -1)), [...ERROR_CODES])
})

// ------------------------------------------------------------ emulator UX

/** Spawns `source` as a module in a temp app dir; resolves on its first stdout line. */
async function spawnModule(t, source) {
  const dir = appDir(t)
  const file = path.join(dir, 'child.mjs')
  fs.writeFileSync(file, source)
  const child = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill('SIGKILL'))
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const exited = once(child, 'exit')
  const [line] = await Promise.race([once(createInterface({ input: child.stdout }), 'line'), exited.then(() => [null])])
  return { child, line, exited, stderr: () => stderr }
}

test('an open emulator keeps the process alive; close() lets it exit', async (t) => {
  const open = await spawnModule(t, `import { startEmulator } from 'wx-media'
    const emu = await startEmulator({ port: 0 })
    console.log(emu.url)`)
  t.regex(open.line ?? open.stderr(), /^http:\/\/127\.0\.0\.1:\d+$/)
  // With nothing else to do, the child would exit right after printing;
  // it is still serving a second later, until the test kills it.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.is(open.child.exitCode, null)
  t.is((await fetch(`${open.line}/__emulator/info`).then((r) => r.json())).url, open.line)
  open.child.kill('SIGTERM')
  t.deepEqual(await open.exited, [null, 'SIGTERM'])

  const closed = await spawnModule(t, `import { startEmulator } from 'wx-media'
    const emu = await startEmulator({ port: 0 })
    await emu.close()
    console.log('closed')`)
  t.is(closed.line, 'closed')
  t.deepEqual(await closed.exited, [0, null], closed.stderr())
})

const control = (emu, route, init) =>
  fetch(`${emu.url}/__emulator/${route}`, init).then(async (r) => ({ status: r.status, body: await r.json() }))
const post = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body })

test('GET /__emulator/faults lists the active faults; emu.faults() too', async (t) => {
  const emu = await startEmulator(t)
  t.deepEqual((await control(emu, 'faults')).body, [])
  emu.injectFault({ path: '/cgi-bin/media/upload', errcode: 45009, times: 2 })
  const posted = await control(emu, 'faults', post(JSON.stringify({ path: '/tcb/', delayMs: 50, times: 0 })))
  t.deepEqual(posted.body, { ok: true, injected: 1, active: 2 })
  const expected = [
    { path: '/cgi-bin/media/upload', reset: false, errcode: 45009, times: 2, remaining: 2 },
    { path: '/tcb/', reset: false, delayMs: 50, times: 0, remaining: null },
  ]
  t.deepEqual((await control(emu, 'faults')).body, expected)
  t.deepEqual(emu.faults(), expected)
  await control(emu, 'faults', { method: 'DELETE' })
  t.deepEqual(emu.faults(), [])
})

test('a bad fault body is refused with a message naming the fault and field', async (t) => {
  const emu = await startEmulator(t)
  for (const [body, message] of [
    ['{nope', /^the body is not JSON: send a fault such as \{"path"/],
    ['{"path": "/x", "delayMS": 5}', /^fault has an unknown field 'delayMS': did you mean 'delayMs'\?$/],
    ['[{"path": "/x"}, {"path": "/y", "times": "twice"}]', /^fault\[1\]\.times must be a whole number ≥ 0/],
    ['{"errcode": 1}', /^fault\.path is missing/],
    ['"x"', /^expected a fault object or an array of them/],
  ]) {
    const res = await control(emu, 'faults', post(body))
    t.is(res.status, 400)
    t.regex(res.body.error, message)
    t.notRegex(res.body.error, /line \d+ column|untagged|invalid type/)
  }
  t.deepEqual(emu.faults(), [], 'nothing was injected')
})

test('issue-token refuses an appid the emulator does not know', async (t) => {
  const emu = await startEmulator(t)
  const res = await control(emu, 'issue-token', post(JSON.stringify({ appid: 'wx-not-an-app' })))
  t.is(res.status, 400)
  t.regex(res.body.error, /unknown appid 'wx-not-an-app': this emulator knows wxemulator0000001/)
  t.throws(() => emu.issueToken('wx-not-an-app'), { message: /unknown appid 'wx-not-an-app'/ })
  const ok = await control(emu, 'issue-token', post(JSON.stringify({ appid: emu.appid })))
  t.regex(ok.body.access_token, /^EMU_/)
  t.regex(emu.issueToken(), /^EMU_/)
})

test('wx-media-emulator says what is wrong with --port', (t) => {
  const bin = path.join(ROOT, 'bin', 'wx-media-emulator.js')
  for (const [args, message] of [
    [['--port', 'abc'], "bad --port value 'abc': expected a port number 0–65535"],
    [['--port=70000'], "bad --port value '70000': expected a port number 0–65535"],
    [['--port', '-1'], "bad --port value '-1': expected a port number 0–65535"],
    [['--port'], '--port needs a value'],
  ]) {
    const run = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 })
    t.is(run.status, 2)
    t.true(run.stderr.startsWith(message), run.stderr)
    t.regex(run.stderr, /usage: wx-media-emulator/)
  }
})

// ------------------------------------------------------------------ README

const README = () => fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')

test('the README Quick start runs exactly as shown (as quickstart.mjs, against the emulator)', (t) => {
  const section = README().split('\n## Quick start\n')[1]
  const snippet = section.match(/```js\n([^]*?)```/)[1]
  t.notRegex(snippet, /require\(/, 'no require mixed with top-level await')
  const env = { ...process.env }
  for (const k of ['WX_APPID', 'WX_APPSECRET', 'TCB_ENV', 'WX_CLOUDBASE_ACCESSTOKEN']) delete env[k]
  const dir = appDir(t)
  fs.writeFileSync(path.join(dir, 'quickstart.mjs'), snippet)
  const run = spawnSync(process.execPath, ['quickstart.mjs'], { cwd: dir, encoding: 'utf8', env, timeout: 60_000 })
  t.is(run.status, 0, run.stderr)
  t.regex(run.stdout, /^uploaded, mediaId: \S+\n$/)
})

test('the README documents every /__emulator/ control route', (t) => {
  const source = fs.readFileSync(path.join(ROOT, 'src', 'emulator', 'control.rs'), 'utf8')
  const routes = [...source.matchAll(/\(&Method::([A-Z]+), "([a-z-]+)"\)/g)].map(([, m, r]) => `${m} /__emulator/${r}`)
  t.true(routes.length >= 12)
  const readme = README()
  for (const route of routes) t.true(readme.includes(`| \`${route}\` |`), `${route} is in the README's control API table`)
})

test('LICENSE and package.json agree on MIT; repository is set', (t) => {
  const pkg = require('../package.json')
  t.is(pkg.license, 'MIT')
  t.regex(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'), /^MIT License\n/)
  t.is(pkg.repository.url, 'git+https://github.com/wx-media/wx-media.git')
})

test('index.d.ts declares exactly the values lib/index.js exports', (t) => {
  const dts = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8')
  // napi's loader adds __napiBindingTarget to the native module; the package does not export it.
  const declared = [...dts.matchAll(/^export declare (?:const|function|class) (\w+)/gm)]
    .map((m) => m[1])
    .filter((name) => name !== '__napiBindingTarget')
  t.deepEqual(declared.sort(), Object.keys(require('..')).sort())
})

// ---------------------------------------------------------- WxClient.close

test('close(): calls pending at close and calls after it reject CLIENT_CLOSED; close resolves', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  await client.uploadTempMedia({ type: 'image', media: { value: PNG } })
  emu.injectFault({ path: '/cgi-bin/media/upload', delayMs: 60_000 })
  const pending = client.uploadTempMedia({ type: 'image', media: { value: PNG } })
  // A call waiting on a token provider that never answers is ended too.
  // (The promise is kept referenced: once collected, the provider's call fails on its own.)
  const never = new Promise(() => {})
  t.teardown(() => void never)
  const stuck = new wx.WxClient({ accessToken: () => never, baseUrl: emu.url })
  const waiting = stuck.getTempMedia({ mediaId: 'x' })
  await new Promise((resolve) => setTimeout(resolve, 200))
  const started = Date.now()
  await Promise.all([client.close(), stuck.close()])
  t.true(Date.now() - started < 10_000, 'close does not wait for the 60 s request')
  for (const [what, call] of [['the upload in flight', pending], ['the call waiting for a token', waiting]]) {
    const err = await t.throwsAsync(call, undefined, what)
    t.is(err.code, 'CLIENT_CLOSED', `${what}: ${err.message}`)
    t.is(err.errCode, -1)
    t.regex(err.message, /the client was closed \(WxClient\.close\(\)\)/)
    t.true(wx.isWxMediaError(err))
  }
  const before = totalRequests(emu)
  const later = await t.throwsAsync(client.getTempFileURL({ fileList: ['cloud://x.y/a.png'] }))
  t.is(later.code, 'CLIENT_CLOSED')
  t.regex(later.errMsg, /^getTempFileURL:fail the client was closed/)
  t.is(totalRequests(emu), before, 'nothing is sent after close')
  await client.close() // closing twice is fine
  // Other clients are unaffected.
  t.is((await clientFor(emu).getTempFileURL({ fileList: ['cloud://x.y/a.png'] })).errMsg, 'getTempFileURL:ok')
})

test('close() also ends calls outside a WeChat request: a { url } source being fetched, http.downloadFile, a mediaCache waiter', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu, { mediaCache: true })
  // A server that answers headers and then never sends the body.
  const hung = []
  const slow = createHttpServer((req, res) => {
    hung.push(res)
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(PNG.length) })
    res.write(PNG.subarray(0, 8))
  })
  await new Promise((resolve) => slow.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const res of hung) res.destroy()
    slow.close()
  })
  const url = `http://127.0.0.1:${slow.address().port}/a.png`
  emu.injectFault({ path: '/cgi-bin/media/upload', delayMs: 60_000 })
  const fromUrl = client.uploadTempMedia({ type: 'image', media: { value: { url } } })
  const download = client.http.downloadFile({ url })
  const uploading = client.uploadTempMedia({ type: 'image', media: { value: PNG } })
  const waiter = client.uploadTempMedia({ type: 'image', media: { value: PNG } }) // waits for the upload above
  for (const p of [fromUrl, download, uploading, waiter]) p.catch(() => {})
  const end = Date.now() + 10_000
  // (The emulator logs a request once answered, so the held upload is seen by its token fetch.)
  while ((hung.length < 2 || emu.stats().tokenFetches < 1) && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  t.is(hung.length, 2, 'both URL fetches started')
  const started = Date.now()
  await client.close()
  t.true(Date.now() - started < 10_000, 'close does not wait for the hung fetches')
  for (const [what, call] of [['the { url } source', fromUrl], ['http.downloadFile', download], ['the upload', uploading], ['the mediaCache waiter', waiter]]) {
    const err = await t.throwsAsync(call, undefined, what)
    t.is(err.code, 'CLIENT_CLOSED', `${what}: ${err.message}`)
  }
})

// --------------------------------------------------------------- debug log

const LOG_SECRET = 'Sx9-debug-log-secret-must-not-appear-4411'
/** A child that drives an emulator app with a distinctive secret; prints the tokens it saw. */
const DEBUG_CHILD = `import { startEmulator, WxClient } from 'wx-media'
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64')
  const emu = await startEmulator({ port: 0, apps: [{ appid: 'wxdebuglog0000001', secret: '${LOG_SECRET}' }] })
  const client = new WxClient({ appid: 'wxdebuglog0000001', secret: '${LOG_SECRET}', baseUrl: emu.url, env: emu.env })
  const { mediaId } = await client.uploadTempMedia({ type: 'image', media: { value: png } })
  emu.injectFault({ path: '/cgi-bin/media/get', status: 503 })
  await client.getTempMedia({ mediaId })
  const token = emu.issueToken()
  const byToken = new WxClient({ accessToken: async () => token, baseUrl: emu.url, env: emu.env })
  await byToken.getTempMedia({ mediaId })
  const seen = emu.requests().map((r) => r.query.access_token).filter(Boolean)
  console.log(JSON.stringify([...new Set([token, ...seen])]))
  await emu.close()`

function encodings(secret) {
  const b64 = Buffer.from(secret).toString('base64')
  return [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1), b64, b64.replace(/=+$/, ''),
    Buffer.from(secret).toString('hex'), secret.slice(0, 12), secret.slice(-12)]
}

test('WX_MEDIA_LOG=debug writes one redacted line per request, retry and token fetch to stderr', (t) => {
  const dir = appDir(t)
  const run = runModule(dir, 'debug.mjs', DEBUG_CHILD, { WX_MEDIA_LOG: 'debug', DEBUG: '' })
  t.is(run.status, 0, run.stderr)
  const tokens = JSON.parse(run.stdout)
  t.true(tokens.length >= 2)
  const lines = run.stderr.trim().split('\n')
  const has = (re) => t.true(lines.some((l) => re.test(l)), `a line matching ${re}\n${run.stderr}`)
  has(/^wx-media request POST \/cgi-bin\/stable_token status=200 attempt=1 ms=\d+$/)
  has(/^wx-media token fetch source=\/cgi-bin\/stable_token ok ms=\d+$/)
  has(/^wx-media request POST \/cgi-bin\/media\/upload status=200 attempt=1 ms=\d+$/)
  has(/^wx-media request GET \/cgi-bin\/media\/get status=503 attempt=1 ms=\d+$/)
  has(/^wx-media retry GET \/cgi-bin\/media\/get attempt=2 after_ms=\d+$/)
  has(/^wx-media request GET \/cgi-bin\/media\/get status=200 attempt=2 ms=\d+$/)
  has(/^wx-media token fetch source=accessToken\(\) ok ms=\d+$/)
  for (const line of lines) t.regex(line, /^wx-media (request|retry|token fetch) /)
  t.false(run.stderr.includes('?'), 'no query string')
  for (const secret of [LOG_SECRET, ...tokens]) {
    for (const form of encodings(secret)) t.false(run.stderr.includes(form), `no trace of a secret (${form.length} chars)`)
  }
})

test('DEBUG=wx-media (or a list naming it) turns the log on; nothing is logged otherwise', (t) => {
  const dir = appDir(t)
  const on = runModule(dir, 'on.mjs', DEBUG_CHILD, { WX_MEDIA_LOG: '', DEBUG: 'express:*,wx-media' })
  t.is(on.status, 0, on.stderr)
  t.regex(on.stderr, /^wx-media request POST \/cgi-bin\/stable_token status=200/m)
  const off = runModule(dir, 'off.mjs', DEBUG_CHILD, { WX_MEDIA_LOG: '', DEBUG: '*,-wx-media' })
  t.is(off.status, 0, off.stderr)
  t.is(off.stderr, '')
})

// The CI crash: a ReadStream's own (late) open failing after its file was
// removed surfaced as an uncaught exception, which ava 7's TAP reporter then
// crashed on. Removing the file right after the call must be harmless.
test('an fs.ReadStream whose file is removed right after the call raises no uncaught error', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  for (let i = 0; i < 5; i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-media-gone-'))
    const file = path.join(dir, 'gone.png')
    fs.writeFileSync(file, PNG)
    const stream = fs.createReadStream(file)
    const call = client.uploadFile({ cloudPath: `gone/${i}.png`, fileContent: stream })
    fs.rmSync(dir, { recursive: true, force: true })
    // Rust may have opened the file before it went, or not: either outcome is fine.
    const outcome = await call.then(
      (r) => r.errMsg === 'uploadFile:ok',
      (e) => wx.isWxMediaError(e),
    )
    t.true(outcome)
    // (not events.once: it would reject on the stream's own ENOENT, which is what must stay quiet)
    if (!stream.closed) await new Promise((resolve) => stream.on('close', resolve))
    t.true(stream.destroyed)
  }
})
