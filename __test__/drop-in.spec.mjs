// Drop-in: four cloud functions written for wx-server-sdk run unchanged on
// wx-media apart from their require line. Each runs twice, in a fresh child
// process with only the simulated cloud-function environment (no appid, no
// secret, no token), inside a network namespace that has loopback only.
// See __test__/fixtures/cloud-functions/drop-in.js.
import test from 'ava'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const harness = fileURLToPath(new URL('./fixtures/cloud-functions/drop-in.js', import.meta.url))

let outcome
/** Runs the harness once (lazily) and shares its output between the tests. */
function runAll() {
  outcome ??= new Promise((resolve, reject) => {
    // Root (CI, this machine) needs no user namespace; others map themselves to root in one.
    const flags = process.getuid?.() === 0 ? '-n' : '-rn'
    const child = spawn('unshare', [flags, 'sh', '-c', 'ip link set lo up && exec "$0" "$1"', process.execPath, harness], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`drop-in harness exited ${code}: ${stderr}`))
      resolve(JSON.parse(stdout.trim().split('\n').pop()))
    })
  })
  return outcome
}

/** Both runs of `name`, after checking each succeeded. */
async function runsOf(t, name) {
  const { runs } = await runAll()
  const pair = runs[name]
  for (const lib of ['wx-server-sdk', 'wx-media']) {
    const run = pair[lib]
    t.is(run.status, 0, `${name} on ${lib}: ${run.stderr}`)
    t.is(run.error, undefined, `${name} on ${lib} failed: ${JSON.stringify(run.error)}`)
    t.truthy(run.result, `${name} on ${lib} gave no result: ${run.noOutput ?? ''}${run.stderr}`)
  }
  return [pair['wx-server-sdk'].result, pair['wx-media'].result]
}

test('the functions ran as cloud functions: loopback only, the simulated env, no appid secret or token', async (t) => {
  const { env, interfaces } = await runAll()
  t.deepEqual(interfaces, ['lo'])
  t.is(env.TENCENTCLOUD_RUNENV, 'SCF')
  t.regex(JSON.parse(env.TCB_CONTEXT_CNFG).URL, /^http:\/\/127\.0\.0\.1:\d+\//)
  for (const name of ['WX_APPSECRET', 'WX_CLOUDBASE_ACCESSTOKEN', 'WX_ACCESS_TOKEN']) t.false(name in env, name)
})

test('upload a Buffer: the same fileID; statusCode is the real one (wx-server-sdk says -1)', async (t) => {
  const [sdk, ours] = await runsOf(t, 'upload-buffer')
  const { env } = await runAll()
  t.regex(sdk.fileID, new RegExp(`^cloud://${env.TCB_ENV}\\.[^/]+/notes/${env.WX_OPENID}/hello\\.txt$`))
  t.deepEqual(Object.keys(ours).sort(), Object.keys(sdk).sort())
  t.is(ours.fileID, sdk.fileID)
  t.is(ours.errMsg, sdk.errMsg)
  t.is(sdk.statusCode, -1)
  t.true(ours.statusCode >= 200 && ours.statusCode < 300, `statusCode ${ours.statusCode}`)
})

test('upload a customer-service image, then send it to the caller: equal results, both messages delivered', async (t) => {
  const [sdk, ours] = await runsOf(t, 'send-image')
  const { env, sentMessages } = await runAll()
  t.deepEqual(ours.sent, sdk.sent)
  t.deepEqual(sdk.sent, { errMsg: 'openapi.customerServiceMessage.send:ok', errCode: 0 })
  t.deepEqual(Object.keys(ours.upload).sort(), Object.keys(sdk.upload).sort())
  for (const key of ['type', 'errMsg', 'errCode']) t.is(ours.upload[key], sdk.upload[key], key)
  t.is(typeof ours.upload.createdAt, typeof sdk.upload.createdAt)
  t.not(ours.upload.mediaId, sdk.upload.mediaId)
  t.deepEqual(
    sentMessages.map((m) => [m.touser, m.msgtype, m.message.image.media_id]),
    [
      [env.WX_OPENID, 'image', sdk.upload.mediaId],
      [env.WX_OPENID, 'image', ours.upload.mediaId],
    ],
  )
})

test('temporary links, then download: equal results (links are freshly signed; maxAge always given)', async (t) => {
  const [sdk, ours] = await runsOf(t, 'temp-links')
  // wx-media always reports the maxAge asked for; wx-server-sdk echoes the
  // gateway, whose emulator (like the research fake) leaves it out of a
  // failed item. Links carry a fresh signature each time.
  t.true(ours.links.fileList.every((f) => f.maxAge === 600))
  const comparable = (r) => ({
    ...r,
    links: {
      ...r.links,
      fileList: r.links.fileList.map(({ maxAge, ...f }) => ({
        ...f,
        ...(f.status === 0 ? { maxAge } : {}),
        tempFileURL: f.tempFileURL ? new URL(f.tempFileURL).pathname : '',
      })),
    },
  })
  t.deepEqual(comparable(ours), comparable(sdk))
  const [found, missing] = sdk.links.fileList
  t.is(found.status, 0)
  t.truthy(found.tempFileURL)
  t.is(missing.status, -503003)
  t.is(missing.tempFileURL, '')
  t.is(sdk.download.statusCode, 200)
  t.is(sdk.download.fileContent.buffer.length, Buffer.byteLength('hello from a cloud function'))
})

test('delete: equal results for a file just uploaded and a missing one', async (t) => {
  const [sdk, ours] = await runsOf(t, 'delete')
  const { runs } = await runAll()
  const named = (r, lib) => JSON.parse(JSON.stringify(r).replaceAll(runs.delete[lib].uploaded, 'the uploaded file'))
  t.deepEqual(named(ours, 'wx-media'), named(sdk, 'wx-server-sdk'))
  const [deleted, missing] = sdk.fileList
  t.is(deleted.status, 0)
  t.is(missing.status, -503003)
})
