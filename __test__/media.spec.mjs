// Temporary media against the emulator: shapes, bytes on the wire, getTempMedia.
import test from 'ava'
import { wx, PNG, JPEG, GIF, MP4, sha256, startEmulator, clientFor, requestsTo } from './helpers.mjs'

const API = 'openapi.customerServiceMessage.uploadTempMedia'

for (const [name, bytes, contentType, ext] of [
  ['png', PNG, 'image/png', 'png'],
  ['jpeg', JPEG, 'image/jpeg', 'jpg'],
  ['gif', GIF, 'image/gif', 'gif'],
]) {
  test(`uploadTempMedia sends a ${name} intact, with its extension and an exact Content-Length`, async (t) => {
    const emu = await startEmulator(t)
    const client = clientFor(emu)
    const before = Math.floor(Date.now() / 1000)
    const r = await client.uploadTempMedia({ type: 'image', media: { contentType, value: bytes } })

    t.deepEqual(Object.keys(r).sort(), ['createdAt', 'errCode', 'errMsg', 'mediaId', 'type'])
    t.is(r.errCode, 0)
    t.is(r.errMsg, `${API}:ok`)
    t.is(r.type, 'image')
    t.true(typeof r.mediaId === 'string' && r.mediaId.length > 10)
    t.is(typeof r.createdAt, 'number')
    t.true(r.createdAt >= before - 1 && r.createdAt <= Math.floor(Date.now() / 1000) + 1)

    const [req] = requestsTo(emu, '/cgi-bin/media/upload')
    t.is(req.method, 'POST')
    t.is(req.query.type, 'image')
    t.is(req.headers.transferEncoding, null)
    t.is(req.headers.contentLength, req.bodySize)
    t.regex(req.headers.contentType, /^multipart\/form-data; boundary=[^"]+$/)
    t.is(req.parts.length, 1)
    const [part] = req.parts
    t.is(part.name, 'media')
    t.is(part.filename, `media.${ext}`)
    t.is(part.contentType, contentType)
    t.is(part.size, bytes.length)
    t.is(part.sha256, sha256(bytes))
  })
}

test('contentType may be omitted: the bytes decide', async (t) => {
  const emu = await startEmulator(t)
  const r = await clientFor(emu).uploadTempMedia({ type: 'image', media: { value: GIF } })
  t.is(r.errCode, 0)
  t.is(requestsTo(emu, '/cgi-bin/media/upload')[0].parts[0].filename, 'media.gif')
})

test('the wx-server-sdk path gives the same result, on a client and on the module', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const args = { type: 'image', media: { contentType: 'image/png', value: PNG } }
  const direct = await client.uploadTempMedia(args)
  const viaPath = await client.openapi.customerServiceMessage.uploadTempMedia(args)
  t.deepEqual(Object.keys(viaPath).sort(), Object.keys(direct).sort())
  t.is(viaPath.errMsg, direct.errMsg)
  t.is(viaPath.type, 'image')
  t.not(viaPath.mediaId, direct.mediaId)

  wx.init({ appid: emu.appid, secret: emu.secret, baseUrl: emu.url })
  const viaModule = await wx.openapi.customerServiceMessage.uploadTempMedia(args)
  t.is(viaModule.errMsg, `${API}:ok`)
  const topLevel = await wx.uploadTempMedia(args)
  t.is(topLevel.errCode, 0)
  const back = await wx.getTempMedia({ mediaId: topLevel.mediaId })
  t.true(back.buffer.equals(PNG))
  t.is(requestsTo(emu, '/cgi-bin/media/upload').length, 4)
})

test('getTempMedia round-trips the bytes', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const { mediaId } = await client.uploadTempMedia({ type: 'image', media: { contentType: 'image/jpeg', value: JPEG } })
  const r = await client.openapi.customerServiceMessage.getTempMedia({ mediaId })
  t.is(r.errCode, 0)
  t.is(r.errMsg, 'openapi.customerServiceMessage.getTempMedia:ok')
  t.is(r.contentType, 'image/jpeg')
  t.true(Buffer.isBuffer(r.buffer))
  t.is(sha256(r.buffer), sha256(JPEG))
})

test('getTempMedia of a video gives its videoUrl', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const { mediaId } = await client.uploadTempMedia({ type: 'video', media: { contentType: 'video/mp4', value: MP4 } })
  const r = await client.getTempMedia({ mediaId })
  t.is(r.errCode, 0)
  t.is(typeof r.videoUrl, 'string')
  t.true(r.videoUrl.startsWith(emu.url))
  t.is(r.buffer, undefined)
  const fetched = Buffer.from(await (await fetch(r.videoUrl)).arrayBuffer())
  t.true(fetched.equals(MP4))
})

test('a JSON error labelled text/plain rejects with WeChat errcode 40007', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const err = await t.throwsAsync(client.getTempMedia({ mediaId: 'no-such-media-id' }))
  t.true(err instanceof Error)
  t.is(err.errCode, 40007)
  t.is(err.code, 'WX_API_ERROR')
  t.regex(err.errMsg, /^openapi\.customerServiceMessage\.getTempMedia:fail invalid media_id/)
  t.regex(err.message, /^errCode: 40007 invalid media_id \| errMsg: openapi\.customerServiceMessage\.getTempMedia:fail /)
  const [req] = requestsTo(emu, '/cgi-bin/media/get')
  t.is(req.status, 200)
})

test('media expire after 3 days of emulator time', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const { mediaId } = await client.uploadTempMedia({ type: 'image', media: { value: PNG } })
  emu.advanceClock(3 * 24 * 3600 * 1000 + 1000)
  emu.expireTokens()
  const err = await t.throwsAsync(client.getTempMedia({ mediaId }))
  t.is(err.errCode, 40007)
})

test('thumb_media_id becomes mediaId and a string created_at becomes a number', async (t) => {
  const emu = await startEmulator(t)
  const client = clientFor(emu)
  const thumb = await client.uploadTempMedia({ type: 'thumb', media: { contentType: 'image/jpeg', value: JPEG } })
  t.is(thumb.type, 'thumb')
  t.true(thumb.mediaId.length > 10)

  emu.injectFault({
    path: '/cgi-bin/media/upload',
    body: { errcode: 0, errmsg: 'ok', type: 'image', media_id: 'MEDIA_FROM_FAULT', created_at: '1700000123' },
  })
  const r = await client.uploadTempMedia({ type: 'image', media: { value: PNG } })
  t.is(r.mediaId, 'MEDIA_FROM_FAULT')
  t.is(r.createdAt, 1700000123)
})

test('several clients with their own appids live side by side', async (t) => {
  const emu = await startEmulator(t, {
    apps: [
      { appid: 'wxappone000000001', secret: 'secret-one' },
      { appid: 'wxapptwo000000002', secret: 'secret-two' },
    ],
  })
  const one = new wx.WxClient({ appid: 'wxappone000000001', secret: 'secret-one', baseUrl: emu.url })
  const two = new wx.WxClient({ appid: 'wxapptwo000000002', secret: 'secret-two', baseUrl: emu.url })
  const [a, b] = await Promise.all([
    one.uploadTempMedia({ type: 'image', media: { value: PNG } }),
    two.uploadTempMedia({ type: 'image', media: { value: GIF } }),
  ])
  t.is(a.errCode, 0)
  t.is(b.errCode, 0)
  t.is(one.appid, 'wxappone000000001')
  const tokenBodies = requestsTo(emu, '/cgi-bin/stable_token').map((r) => r.json.appid).sort()
  t.deepEqual(tokenBodies, ['wxappone000000001', 'wxapptwo000000002'])
})
