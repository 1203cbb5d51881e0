// wx-server-sdk's generic `openapi` over the WeChat HTTP API (against the
// emulator), its case conversion, and the wx-server-sdk surface
// (DYNAMIC_CURRENT_ENV, getWXContext, init options) in child processes.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { wx, PNG, JPEG, MP4, sha256, startEmulator, clientFor, requestsTo, totalRequests } from './helpers.mjs'

const require = createRequire(import.meta.url)
const SUPPORTED = [
  'customerServiceMessage.uploadTempMedia',
  'customerServiceMessage.getTempMedia',
  'customerServiceMessage.send',
  'security.imgSecCheck',
]

test('an unknown name rejects INVALID_PARAM naming the supported ones, and sends nothing', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const call = client.openapi.wxacode.getUnlimited({ scene: 'a=1' })
  t.true(call instanceof Promise)
  const err = await t.throwsAsync(call)
  t.is(err.code, 'INVALID_PARAM')
  t.is(err.errCode, -1)
  t.regex(err.errMsg, /^openapi:fail openapi\.wxacode\.getUnlimited is not supported over the WeChat HTTP API/)
  for (const name of SUPPORTED) t.true(err.errMsg.includes(name), name)
  t.is(totalRequests(emu), 0)
})

test('namespaces and methods are made on demand, cached, and harmless to inspect', (t) => {
  const { openapi } = clientFor({ appid: 'wx0', secret: 's', url: 'http://127.0.0.1:9', env: 'e' })
  t.is(openapi.customerServiceMessage, openapi.customerServiceMessage)
  t.is(openapi.customerServiceMessage.send, openapi.customerServiceMessage.send)
  t.is(openapi.customerServiceMessage.send.name, 'send')
  t.is(typeof openapi.anyNamespace.anyApi, 'function')
  // Promise resolution and JSON must not mistake these for API names.
  t.is(openapi.then, undefined)
  t.is(openapi.customerServiceMessage.then, undefined)
  t.is(JSON.stringify({ openapi }), '{"openapi":{}}')
  t.is(openapi[Symbol.iterator], undefined)
})

test('destructured methods work, on a client and on the module', async (t) => {
  const emu = await startEmulator(t)
  const { uploadTempMedia, getTempMedia, send } = clientFor(emu).openapi.customerServiceMessage
  const up = await uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: PNG } })
  t.is(up.errMsg, 'openapi.customerServiceMessage.uploadTempMedia:ok')
  const got = await getTempMedia({ mediaId: up.mediaId })
  t.is(sha256(got.buffer), sha256(PNG))
  t.is((await send({ touser: 'oUSER', msgtype: 'image', image: { mediaId: up.mediaId } })).errCode, 0)

  wx.init({ appid: emu.appid, secret: emu.secret, baseUrl: emu.url })
  const { imgSecCheck } = wx.openapi.security
  const r = await imgSecCheck({ media: { contentType: 'image/png', value: PNG } })
  t.deepEqual(r, { errMsg: 'openapi.security.imgSecCheck:ok', errCode: 0 })
})

test('send after upload: snake_case JSON on the wire, the message reaches the emulator', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const { mediaId } = await client.openapi.customerServiceMessage.uploadTempMedia({
    type: 'image',
    media: { contentType: 'image/jpeg', value: JPEG },
  })
  const r = await client.openapi.customerServiceMessage.send({
    touser: 'oFAKEopenid',
    msgtype: 'image',
    image: { mediaId },
  })
  t.deepEqual(r, { errMsg: 'openapi.customerServiceMessage.send:ok', errCode: 0 })

  const [req] = requestsTo(emu, '/cgi-bin/message/custom/send')
  t.is(req.method, 'POST')
  t.regex(req.headers.contentType, /^application\/json/)
  t.is(req.headers.contentLength, req.bodySize)
  t.deepEqual(req.json, { touser: 'oFAKEopenid', msgtype: 'image', image: { media_id: mediaId } })
  t.is(req.status, 200)

  const sent = emu.sentMessages()
  t.is(sent.length, 1)
  t.like(sent[0], { appid: emu.appid, touser: 'oFAKEopenid', msgtype: 'image' })
  t.deepEqual(sent[0].message, req.json)
})

test('nested params are snake_cased as wx-server-sdk does (arrays, nested objects)', async (t) => {
  const emu = await startEmulator(t)
  await clientFor(emu).openapi.customerServiceMessage.send({
    touser: 'o1',
    msgtype: 'msgmenu',
    msgmenu: { headContent: 'Pick', list: [{ id: '101', content: 'Yes' }, [{ innerKey: 1 }]], tailContent: 'Bye' },
  })
  const [req] = requestsTo(emu, '/cgi-bin/message/custom/send')
  t.deepEqual(req.json.msgmenu, {
    head_content: 'Pick',
    list: [{ id: '101', content: 'Yes' }, [{ inner_key: 1 }]],
    tail_content: 'Bye',
  })
})

test('JSON results are camelCased, nested keys included; errcode/errmsg give way to errCode/errMsg', async (t) => {
  const emu = await startEmulator(t)
  emu.injectFault({
    path: '/cgi-bin/message/custom/send',
    body: { errcode: 0, errmsg: 'ok', msg_id: 7, the_result: { inner_list: [{ deep_key: 'x' }], keep: true } },
  })
  const r = await clientFor(emu).openapi.customerServiceMessage.send({ touser: 'o1', msgtype: 'text', text: { content: 'hi' } })
  t.deepEqual(r, {
    msgId: 7,
    theResult: { innerList: [{ deepKey: 'x' }], keep: true },
    errMsg: 'openapi.customerServiceMessage.send:ok',
    errCode: 0,
  })
})

test('send: WeChat refusals reject with its errcode; bad params are refused before sending', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const { send, uploadTempMedia } = client.openapi.customerServiceMessage
  let err = await t.throwsAsync(send({ touser: 'o1', msgtype: 'image', image: { mediaId: 'no-such-media' } }))
  t.is(err.code, 'WX_API_ERROR')
  t.is(err.errCode, 40007)
  t.regex(err.errMsg, /^openapi\.customerServiceMessage\.send:fail invalid media_id/)

  const video = await uploadTempMedia({ type: 'video', media: { contentType: 'video/mp4', value: MP4 } })
  err = await t.throwsAsync(send({ touser: 'o1', msgtype: 'image', image: { mediaId: video.mediaId } }))
  t.is(err.errCode, 40007, 'a video media_id is not an image')
  err = await t.throwsAsync(send({ touser: 'o1', msgtype: 'telepathy' }))
  t.is(err.errCode, 40008)
  t.is(emu.sentMessages().length, 0)

  const before = requestsTo(emu, '/cgi-bin/message/custom/send').length
  for (const params of [undefined, { msgtype: 'text' }, { touser: '', msgtype: 'text' }, { touser: 'o', msgtype: 3 }]) {
    err = await t.throwsAsync(send(params))
    t.is(err.code, 'INVALID_PARAM')
    t.regex(err.errMsg, /^openapi\.customerServiceMessage\.send:fail /)
  }
  t.is(requestsTo(emu, '/cgi-bin/message/custom/send').length, before)
})

test('send is not repeated after a 5xx or a dropped connection (it may have been delivered)', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const params = { touser: 'o1', msgtype: 'text', text: { content: 'once' } }
  emu.injectFault({ path: '/cgi-bin/message/custom/send', status: 502, times: 0 })
  const err = await t.throwsAsync(client.openapi.customerServiceMessage.send(params))
  t.is(err.code, 'HTTP_STATUS')
  t.is(requestsTo(emu, '/cgi-bin/message/custom/send').length, 1)
  emu.clearFaults()
  emu.injectFault({ path: '/cgi-bin/message/custom/send', reset: true, times: 0 })
  await t.throwsAsync(client.openapi.customerServiceMessage.send(params))
  t.is(requestsTo(emu, '/cgi-bin/message/custom/send').length, 2)
  emu.clearFaults()
  emu.injectFault({ path: '/cgi-bin/message/custom/send', errcode: -1, errmsg: 'system busy', times: 0 })
  t.is((await t.throwsAsync(client.openapi.customerServiceMessage.send(params))).errCode, -1)
  t.is(requestsTo(emu, '/cgi-bin/message/custom/send').length, 3)
})

test('imgSecCheck sends one multipart `media` part with the sniffed name and type', async (t) => {
  const emu = await startEmulator(t)
  const r = await clientFor(emu).openapi.security.imgSecCheck({ media: { contentType: 'image/jpeg', value: JPEG } })
  t.deepEqual(r, { errMsg: 'openapi.security.imgSecCheck:ok', errCode: 0 })
  const [req] = requestsTo(emu, '/wxa/img_sec_check')
  t.is(req.method, 'POST')
  t.regex(req.headers.contentType, /^multipart\/form-data; boundary=/)
  t.is(req.headers.contentLength, req.bodySize)
  t.is(req.parts.length, 1)
  t.like(req.parts[0], { name: 'media', filename: 'media.jpg', contentType: 'image/jpeg', size: JPEG.length })
  t.is(req.parts[0].sha256, sha256(JPEG))
})

test('imgSecCheck: the uploadTempMedia rules apply before sending; a risky image is a WeChat refusal', async (t) => {
  const emu = await startEmulator(t)
  const { imgSecCheck } = clientFor(emu).openapi.security
  for (const media of [{ value: MP4 }, { contentType: 'image/png', value: JPEG }, { contentType: 'image/png' }]) {
    const err = await t.throwsAsync(imgSecCheck({ media }))
    t.is(err.code, 'INVALID_PARAM')
    t.regex(err.errMsg, /^openapi\.security\.imgSecCheck:fail /)
  }
  t.is(totalRequests(emu), 0)
  const risky = Buffer.concat([PNG, Buffer.from('wx-media-emulator:risky')])
  const err = await t.throwsAsync(imgSecCheck({ media: { contentType: 'image/png', value: risky } }))
  t.is(err.code, 'WX_API_ERROR')
  t.is(err.errCode, 87014)
})

/** Runs `code` (CommonJS) in a child node with exactly `env`; returns its JSON output. */
function runChild(t, code, env) {
  const r = spawnSync(process.execPath, ['-e', code], {
    cwd: new URL('..', import.meta.url),
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  })
  t.is(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

const CONTEXT_ENV = {
  WX_CONTEXT_KEYS: 'WX_OPENID,WX_APPID,WX_UNIONID,WX_API_TOKEN,WX_CLIENTIP,WX_SCENE,,OTHER',
  WX_OPENID: 'oFAKEopenid',
  WX_APPID: 'wxfakeappid0000001',
  WX_UNIONID: 'uFAKEunion',
  WX_API_TOKEN: 'wxapitoken-FAKE',
  WX_CLIENTIP: '10.0.0.8',
  WX_SCENE: '1001',
  OTHER: '',
  TCB_ENV: 'test-env',
  SCF_NAMESPACE: 'ns-env',
  TCB_SOURCE: 'wx_client',
}

test('getWXContext() equals wx-server-sdk\'s in the same environment, and hides the API token', (t) => {
  const code = `
    const ours = require('.'), sdk = require('wx-server-sdk')
    const out = {}
    out.first = [ours.getWXContext(), sdk.getWXContext()]
    delete process.env.TCB_ENV
    process.env.WX_OPENID = 'oSECOND'
    out.second = [ours.getWXContext(), sdk.getWXContext()]
    delete process.env.WX_CONTEXT_KEYS
    out.none = [ours.getWXContext(), sdk.getWXContext()]
    console.log(JSON.stringify(out))`
  const out = runChild(t, code, CONTEXT_ENV)
  t.deepEqual(out.first[0], out.first[1])
  t.deepEqual(out.first[0], {
    OPENID: 'oFAKEopenid',
    APPID: 'wxfakeappid0000001',
    UNIONID: 'uFAKEunion',
    CLIENTIP: '10.0.0.8',
    SCENE: 1001,
    OTHER: '',
    ENV: 'test-env',
    SOURCE: 'wx_client',
  })
  t.deepEqual(out.second[0], out.second[1])
  t.is(out.second[0].OPENID, 'oSECOND')
  t.is(out.second[0].ENV, 'ns-env')
  t.deepEqual(out.none, [{}, {}])
  t.false(JSON.stringify(out).includes('wxapitoken-FAKE'))
})

test('DYNAMIC_CURRENT_ENV is wx-server-sdk\'s symbol, and the env is read at each call', async (t) => {
  const emu = await startEmulator(t, { envs: ['env-a', 'env-b'] })
  const sdk = require('wx-server-sdk')
  t.is(wx.DYNAMIC_CURRENT_ENV, sdk.DYNAMIC_CURRENT_ENV)
  t.is(typeof wx.DYNAMIC_CURRENT_ENV, 'symbol')
  const code = `
    const wx = require('.')
    const out = []
    ;(async () => {
      wx.init({ appid: process.env.APPID, secret: process.env.SECRET, baseUrl: process.env.EMU, env: require('wx-server-sdk').DYNAMIC_CURRENT_ENV })
      const client = new wx.WxClient({ appid: process.env.APPID, secret: process.env.SECRET, baseUrl: process.env.EMU, env: { default: wx.DYNAMIC_CURRENT_ENV, database: 'x' } })
      const value = Buffer.from('hello')
      for (const env of ['env-a', 'env-b']) {
        process.env.TCB_ENV = env
        out.push([client.env, (await wx.uploadFile({ cloudPath: 'm/' + env + '.txt', fileContent: value })).fileID])
      }
      delete process.env.TCB_ENV
      process.env.SCF_NAMESPACE = 'env-a'
      out.push([client.env, (await client.uploadFile({ cloudPath: 'c/ns.txt', fileContent: value, config: { env: wx.DYNAMIC_CURRENT_ENV } })).fileID])
      console.log(JSON.stringify(out))
    })().catch((e) => { console.error(e); process.exit(1) })`
  const out = runChild(t, code, { APPID: emu.appid, SECRET: emu.secret, EMU: emu.url })
  t.is(out.length, 3)
  t.deepEqual(out.map(([env]) => env), ['env-a', 'env-b', 'env-a'])
  t.regex(out[0][1], /^cloud:\/\/env-a\./)
  t.regex(out[1][1], /^cloud:\/\/env-b\./)
  t.regex(out[2][1], /^cloud:\/\/env-a\./)
  t.deepEqual(
    requestsTo(emu, '/tcb/uploadfile').map((r) => r.json.env),
    ['env-a', 'env-b', 'env-a'],
  )
})

test('init() and new WxClient() accept wx-server-sdk\'s options, and still check their types', (t) => {
  const base = { appid: 'wx0', secret: 's', baseUrl: 'http://127.0.0.1:9' }
  t.notThrows(() => wx.init({ ...base, env: 'e', traceUser: true, throwOnNotFound: false, timeout: 5000 }))
  const client = new wx.WxClient({ ...base, env: { database: 'db', functions: 'fn', storage: 'st', default: 'df' } })
  t.is(client.env, 'st')
  t.is(new wx.WxClient({ ...base, env: { default: 'df', database: 'db' } }).env, 'df')
  t.is(new wx.WxClient({ ...base, env: { database: 'db' } }).env, null)
  for (const [options, pattern] of [
    [{ traceUser: 'yes' }, /traceUser must be true or false/],
    [{ throwOnNotFound: 1 }, /throwOnNotFound must be true or false/],
    [{ env: Symbol('other') }, /env must be a Cloud Base environment id string or DYNAMIC_CURRENT_ENV/],
    [{ env: { storage: 42 } }, /env\.storage must be/],
    [{ env: { database: Symbol.for('x') } }, /env\.database must be/],
    [{ traceUsr: true }, /unknown option 'traceUsr': did you mean 'traceUser'\?/],
    [{ env: { storag: 'x' } }, /unknown option 'env\.storag': did you mean 'env\.storage'\?/],
  ]) {
    const err = t.throws(() => new wx.WxClient({ ...base, ...options }))
    t.is(err.code, 'INVALID_PARAM')
    t.regex(err.errMsg, pattern)
  }
  wx.init(base)
})
