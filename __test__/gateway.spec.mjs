// Cloud-function mode: the TCB gateway transport and the emulator's gateway.
//
// Every cloud function runs as a child process with the emulator's
// cloudFunctionEnv(), inside a network namespace that has loopback only
// (`unshare -n`), together with the emulator (fixtures/cloud/driver.mjs):
// a transport that ignored TCB_CONTEXT_CNFG could reach nothing.
import test from 'ava'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

import { PNG, sha256, startEmulator, wx } from './helpers.mjs'

const DRIVER = fileURLToPath(new URL('./fixtures/cloud/driver.mjs', import.meta.url))
const BIN = fileURLToPath(new URL('../bin/wx-media-emulator.js', import.meta.url))

/** Runs `runs` (see driver.mjs) in a fresh loopback-only network namespace. */
function inNetns(runs) {
  return new Promise((resolve, reject) => {
    execFile(
      'unshare',
      ['-n', 'sh', '-c', `ip link set lo up; exec "${process.execPath}" "${DRIVER}" "$0"`, JSON.stringify({ runs })],
      { maxBuffer: 16 << 20, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`))
        resolve(JSON.parse(stdout.trim().split('\n').pop()))
      },
    )
  })
}

const byName = (results) => Object.fromEntries(results.map((r) => [r.name, r]))

function assertNoSecret(t, run, text) {
  for (const secret of run.secrets) t.false(text.includes(secret), 'a secret leaked into an error')
}

test('the sandbox has loopback only', async (t) => {
  const out = await new Promise((resolve, reject) =>
    execFile('unshare', ['-n', 'sh', '-c', 'ip link set lo up; ip -o link'], (e, so) => (e ? reject(e) : resolve(so))),
  )
  t.deepEqual(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(':')[1].trim()),
    ['lo'],
  )
})

test('differential storage: wx-server-sdk 4.0.2 and wx-media, same function, same results', async (t) => {
  const { runs, cos } = await inNetns([
    { sdk: 'wx-server-sdk', scenario: 'storage' },
    { sdk: 'wx-media', scenario: 'storage' },
  ])
  const [sdk, ours] = runs.map((r) => {
    t.is(r.code, 0, r.stderr)
    return byName(r.results)
  })
  for (const step of ['uploadFile', 'getTempFileURL', 'downloadFile', 'deleteFile', 'getTempFileURL after delete']) {
    t.falsy(sdk[step].error, `wx-server-sdk ${step}: ${JSON.stringify(sdk[step].error)}`)
    t.falsy(ours[step].error, `wx-media ${step}: ${JSON.stringify(ours[step].error)}`)
  }
  const fileID = sdk.uploadFile.value.fileID
  t.regex(fileID, /^cloud:\/\/wx-media-emu\.[^/]+\/dir\/测试 a\.png$/)
  t.is(ours.uploadFile.value.fileID, fileID)
  // Documented improvement: the real COS status instead of a constant -1.
  t.is(sdk.uploadFile.value.statusCode, -1)
  t.is(ours.uploadFile.value.statusCode, 200)
  t.is(ours.uploadFile.value.errMsg, sdk.uploadFile.value.errMsg)
  // The COS PUT: chunked from wx-server-sdk, an exact Content-Length from wx-media.
  t.is(cos[0].headers.transferEncoding, 'chunked')
  t.is(cos[1].headers.contentLength, PNG.length)
  t.is(cos[1].headers.transferEncoding, null)
  const [sdkLink] = sdk.getTempFileURL.value.fileList
  const [ourLink] = ours.getTempFileURL.value.fileList
  for (const key of ['fileID', 'status', 'errMsg', 'maxAge']) t.is(ourLink[key], sdkLink[key], key)
  t.regex(ourLink.tempFileURL, /^http:\/\/127\.0\.0\.1:\d+\/tcb-dl\/.*\/dir\/测试 a\.png\?sign=/)
  t.deepEqual(ours.downloadFile.value, sdk.downloadFile.value)
  t.is(ours.downloadFile.value.fileContent.sha256, sha256(PNG))
  t.deepEqual(ours.deleteFile.value, sdk.deleteFile.value)
  const [sdkGone] = sdk['getTempFileURL after delete'].value.fileList
  const [ourGone] = ours['getTempFileURL after delete'].value.fileList
  for (const key of ['fileID', 'status', 'errMsg', 'tempFileURL']) t.is(ourGone[key], sdkGone[key], key)
  t.is(ourGone.status, -503003)
})

test('differential cloud calls: uploadTempMedia → getTempMedia → send through wx.openApi', async (t) => {
  const { runs, sent } = await inNetns([
    { sdk: 'wx-server-sdk', scenario: 'media' },
    { sdk: 'wx-media', scenario: 'media' },
  ])
  const [sdk, ours] = runs.map((r) => {
    t.is(r.code, 0, r.stderr)
    return byName(r.results)
  })
  for (const step of ['uploadTempMedia', 'getTempMedia', 'send']) {
    t.falsy(sdk[step].error, `wx-server-sdk ${step}: ${JSON.stringify(sdk[step].error)}`)
    t.falsy(ours[step].error, `wx-media ${step}: ${JSON.stringify(ours[step].error)}`)
  }
  const sortedKeys = (o) => Object.keys(o).sort()
  t.deepEqual(sortedKeys(ours.uploadTempMedia.value), sortedKeys(sdk.uploadTempMedia.value))
  t.is(ours.uploadTempMedia.value.type, 'image')
  t.regex(ours.uploadTempMedia.value.mediaId, /^\S{20,}$/)
  t.is(typeof ours.uploadTempMedia.value.createdAt, 'number')
  t.is(ours.uploadTempMedia.value.errMsg, sdk.uploadTempMedia.value.errMsg)
  t.deepEqual(ours.getTempMedia.value, sdk.getTempMedia.value)
  t.is(ours.getTempMedia.value.buffer.sha256, sha256(PNG))
  t.is(ours.getTempMedia.value.contentType, 'image/png')
  t.deepEqual(ours.send.value, sdk.send.value)
  // Both messages reached the emulated user, each with its own uploaded image.
  t.deepEqual(
    sent.map((m) => [m.msgtype, m.touser, m.message.image.media_id]),
    [
      ['image', 'oEMUopenid000000000000000000', sdk.uploadTempMedia.value.mediaId],
      ['image', 'oEMUopenid000000000000000000', ours.uploadTempMedia.value.mediaId],
    ],
  )
})

test('batches over 50: wx-media splits them and matches items by fileID; the gateway refuses 60 at once', async (t) => {
  const { runs } = await inNetns([
    { sdk: 'wx-media', scenario: 'many' },
    { sdk: 'wx-server-sdk', scenario: 'many' },
  ])
  const ours = byName(runs[0].results)
  const sdk = byName(runs[1].results)
  const links = ours['getTempFileURL 60'].value.fileList
  t.is(links.length, 60)
  links.forEach((item, i) => {
    t.is(item.fileID.includes('/many/'), i % 2 === 1, `item ${i} in input order`)
    t.is(item.status, i % 2 ? 0 : -503003)
    t.is(item.tempFileURL === '', i % 2 === 0)
  })
  const deleted = ours['deleteFile 60'].value.fileList
  t.is(deleted.length, 60)
  // Each of the 3 files appears 10 times: deleted once, then missing.
  t.is(deleted.filter((d) => d.status === 0).length, 3)
  t.true(deleted.every((d, i) => d.fileID.includes('/many/') === (i % 2 === 1)))
  // wx-server-sdk sends all 60 in one call, which the gateway refuses.
  t.regex(sdk['getTempFileURL 60'].error.message, /1 to 50 items/)
})

test('the emulator refuses a wrong key, a missing session token, a tampered body and a stale clock; wx-media says so without secrets', async (t) => {
  const cases = [
    { run: { env: { TENCENTCLOUD_SECRETKEY: 'not-the-issued-secret-key' } }, message: 'signature is invalid' },
    { run: { unset: ['TENCENTCLOUD_SESSIONTOKEN'] }, message: 'the session token is missing' },
    { run: { tamper: true }, message: 'signature is invalid' },
    // Last: the emulator's clock stays 700 s ahead (beyond the 600 s of X-Signature-Expires).
    { run: { advanceClockMs: 700_000 }, message: 'signature is expired' },
  ]
  const { runs } = await inNetns(cases.map((c) => ({ sdk: 'wx-media', scenario: 'one', ...c.run })))
  runs.forEach((run, i) => {
    t.is(run.code, 0, run.stderr)
    for (const step of run.results) {
      const { error } = step
      t.truthy(error, `${step.name} must fail (${cases[i].message})`)
      t.is(error.code, 'TOKEN_ERROR')
      t.true(error.message.includes(`:fail ${cases[i].message} [SIGN_PARAM_INVALID]`), error.message)
      assertNoSecret(t, run, JSON.stringify(step))
    }
  })
})

test('credentials rotated between two calls are picked up by the second (wx-media and wx-server-sdk)', async (t) => {
  const { runs } = await inNetns([
    { sdk: 'wx-media', scenario: 'rotation' },
    { sdk: 'wx-server-sdk', scenario: 'rotation' },
  ])
  for (const run of runs) {
    const r = byName(run.results)
    t.falsy(r.before.error)
    t.true(r.rotated.value)
    t.falsy(r.after.error, JSON.stringify(r.after.error))
    t.falsy(r['media after'].error, JSON.stringify(r['media after'].error))
    t.regex(r.after.value.fileID, /\/rot\/b\.png$/)
  }
})

test('cloudFunctionEnv() describes a cloud function pointed at this emulator', async (t) => {
  const emu = await startEmulator(t)
  const env = emu.cloudFunctionEnv()
  t.is(env.TENCENTCLOUD_RUNENV, 'SCF')
  t.is(env.SCF_NAMESPACE, emu.env)
  t.deepEqual(JSON.parse(env.TCB_CONTEXT_CNFG), { URL: `${emu.url}/admin` })
  t.true(env.WX_CONTEXT_KEYS.split(',').includes('WX_API_TOKEN'))
  t.true(env.TCB_CONTEXT_KEYS.split(',').includes('TCB_ENV'))
  for (const name of ['TENCENTCLOUD_SECRETID', 'TENCENTCLOUD_SECRETKEY', 'TENCENTCLOUD_SESSIONTOKEN', 'WX_API_TOKEN']) {
    t.true(env[name].length >= 16, name)
  }
  const rotated = emu.rotateCloudCredentials()
  t.not(rotated.TENCENTCLOUD_SECRETKEY, env.TENCENTCLOUD_SECRETKEY)
  t.deepEqual(emu.cloudFunctionEnv(), rotated)
})

test('mediaCache in a cloud function: the same bytes go through wx.openApi once; bypassCache and another type upload', async (t) => {
  const { runs, admin } = await inNetns([{ sdk: 'wx-media', scenario: 'mediaCache' }])
  const [run] = runs
  t.is(run.code, 0, run.stderr)
  const r = byName(run.results)
  for (const name of ['first', 'second', 'third', 'bypass', 'thumb']) t.falsy(r[name].error, `${name}: ${JSON.stringify(r[name].error)}`)
  t.false('cached' in r.first.value)
  t.regex(r.first.value.mediaId, /^\S{20,}$/)
  for (const name of ['second', 'third']) {
    t.deepEqual(r[name].value, { ...r.first.value, cached: true })
  }
  t.not(r.bypass.value.mediaId, r.first.value.mediaId)
  t.false('cached' in r.bypass.value)
  t.is(r.thumb.value.type, 'thumb')
  t.is(admin, 3, 'three uploads reached the gateway: first, bypass, thumb')
})

test('explicit secretId/secretKey/sessionToken/serviceUrl select the gateway outside a cloud function', async (t) => {
  const emu = await startEmulator(t)
  const env = emu.cloudFunctionEnv()
  const client = new wx.WxClient({
    secretId: env.TENCENTCLOUD_SECRETID,
    secretKey: env.TENCENTCLOUD_SECRETKEY,
    sessionToken: env.TENCENTCLOUD_SESSIONTOKEN,
    serviceUrl: `${emu.url}/admin`,
    env: emu.env,
  })
  const up = await client.uploadFile({ cloudPath: 'explicit/a.png', fileContent: PNG })
  t.is(up.statusCode, 200)
  const down = await client.downloadFile({ fileID: up.fileID })
  t.is(sha256(down.fileContent), sha256(PNG))
  t.is(emu.requests({ path: '/admin' }).length, 2)
  t.is(emu.requests({ path: '/tcb/' }).length, 0)
  // Cloud calls need WX_API_TOKEN, which only a cloud function has.
  const err = await t.throwsAsync(client.openapi.customerServiceMessage.getTempMedia({ mediaId: 'x' }))
  t.regex(err.errMsg, /wxCloudApiToken is missing or invalid/)
  // A cloud call over the gateway honours an AbortSignal.
  const aborted = await t.throwsAsync(
    client.openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'text', text: { content: 'hi' }, signal: AbortSignal.abort() }),
  )
  t.is(aborted.code, 'ABORTED')
  t.throws(() => new wx.WxClient({ secretId: 'AKIDx' }), { message: /secretId was given without secretKey/ })
  t.throws(() => new wx.WxClient({ secretId: 'a', secretKey: 'b', appid: 'c', secret: 'd' }), {
    message: /cannot be combined/,
  })
})

test('wx-media-emulator --cloud-function prints the environment as export lines', async (t) => {
  const child = spawn(process.execPath, [BIN, '--port', '0', '--cloud-function'], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => child.kill('SIGKILL'))
  const lines = createInterface({ input: child.stdout })
  const seen = []
  lines.on('line', (l) => seen.push(l))
  // The export lines come in no fixed order: wait for all of them (one per cloudFunctionEnv key).
  const complete = () =>
    seen.length > 0 && seen.length > Object.keys(JSON.parse(seen[0]).cloudFunctionEnv ?? {}).length
  while (!complete()) await once(lines, 'line')
  const info = JSON.parse(seen[0])
  t.is(info.cloudFunctionEnv.TENCENTCLOUD_RUNENV, 'SCF')
  t.true(seen.includes(`export TENCENTCLOUD_SECRETKEY='${info.cloudFunctionEnv.TENCENTCLOUD_SECRETKEY}'`))
  t.true(seen.includes(`export TCB_CONTEXT_CNFG='{"URL":"${info.url}/admin"}'`))
  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.is(code, 0)
})
