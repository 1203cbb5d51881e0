// Compiled by `npm run test:types` (tsc --noEmit): what must type-check
// does, and every `@ts-expect-error` line must be an error, or tsc fails.
import * as wx from 'wx-media'
import {
  Emulator,
  WxClient,
  isWxMediaError,
  startEmulator,
  type StoredToken,
  type TokenStoreHooks,
  type UploadTempMediaResult,
  type WxMediaError,
  type WxMediaErrorCode,
} from 'wx-media'

export async function typeChecks(): Promise<void> {
  const emu: Emulator = await startEmulator({ port: 0 })
  // @ts-expect-error emulators come from startEmulator(), the constructor is private
  new Emulator()
  // @ts-expect-error the same through the namespace
  new wx.Emulator()

  const client = new WxClient({ appid: emu.appid, secret: emu.secret, baseUrl: emu.url, env: emu.env })
  // @ts-expect-error misspelt options do not type-check (and throw INVALID_PARAM at run time)
  new WxClient({ timout: 5000 })

  // media.value takes a Uint8Array as well as a Buffer
  const fromBytes = await client.uploadTempMedia({ type: 'image', media: { value: new Uint8Array(8) } })
  const fromBuffer = await wx.uploadTempMedia({ type: 'thumb', media: { contentType: 'image/jpeg', value: Buffer.alloc(8) } })
  // @ts-expect-error a string is not media
  await client.uploadTempMedia({ type: 'image', media: { value: 'data' } })

  // every upload source kind (issue 9): files, streams, URLs, mediaId, fileID
  const { createReadStream } = await import('node:fs')
  const { Readable } = await import('node:stream')
  async function* chunks(): AsyncGenerator<Uint8Array> { yield new Uint8Array(8) }
  await client.uploadTempMedia({ type: 'image', media: { value: createReadStream('a.png') } })
  await client.uploadTempMedia({ type: 'image', media: { value: Readable.from([Buffer.alloc(8)]) } })
  await client.uploadTempMedia({ type: 'image', media: { value: chunks() } })
  await client.uploadTempMedia({ type: 'image', media: { value: { url: 'https://cdn.example/a.png', headers: { referer: 'x' } } } })
  await client.uploadTempMedia({ type: 'image', media: { value: new URL('https://cdn.example/a.png') } })
  await client.uploadTempMedia({ type: 'image', media: { value: { fileID: 'cloud://env.b/a.png' } } })
  await client.uploadFile({ cloudPath: 'a.png', fileContent: { mediaId: 'M' } })
  await wx.openapi.security.imgSecCheck({ media: { value: { url: 'https://cdn.example/a.png' } } })
  // @ts-expect-error a source object needs url, mediaId or fileID
  await client.uploadFile({ cloudPath: 'a.png', fileContent: { path: 'a.png' } })
  // @ts-expect-error headers are strings
  await client.uploadFile({ cloudPath: 'a.png', fileContent: { url: 'https://x/a', headers: { n: 1 } } })
  const sourceCode: WxMediaErrorCode = 'SOURCE_ERROR'
  void sourceCode

  // type is the literal union, errMsg the literal template
  const kind: 'image' | 'voice' | 'video' | 'thumb' = fromBytes.type
  const msg: 'uploadTempMedia:ok' | 'openapi.customerServiceMessage.uploadTempMedia:ok' = fromBuffer.errMsg
  // @ts-expect-error not a media type
  const notAType: UploadTempMediaResult['type'] = 'audio'
  // @ts-expect-error not this call's errMsg
  const notItsMsg: UploadTempMediaResult['errMsg'] = 'uploadFile:ok'
  void [kind, msg, notAType, notItsMsg]

  // mediaCache: true or { redis, … }; a hit says cached: true, bypassCache skips it
  const cachedClient = new WxClient({ appid: 'a', secret: 's', mediaCache: { redis: 'redis://127.0.0.1:6379', ttlMs: 3_600_000 } })
  const maybeCached = await cachedClient.uploadTempMedia({ type: 'image', media: { value: Buffer.alloc(8) }, bypassCache: true })
  const cached: true | undefined = maybeCached.cached
  new WxClient({ mediaCache: true })
  // @ts-expect-error ttlMs is milliseconds, a number
  new WxClient({ mediaCache: { ttlMs: '1h' } })
  void cached

  try {
    await client.getTempFileURL({ fileList: ['cloud://x.y/a.png'] })
  } catch (e: unknown) {
    // @ts-expect-error unknown until narrowed
    e.code
    if (isWxMediaError(e)) {
      const err: WxMediaError = e
      const code: WxMediaErrorCode = err.code
      const errCode: number = err.errCode
      const errMsg: string = err.errMsg
      const status: number | undefined = err.statusCode
      const requestId: string | undefined = err.requestId
      // @ts-expect-error not one of the codes
      const wrong: WxMediaErrorCode = 'SOMETHING_ELSE'
      void [code, errCode, errMsg, status, requestId, wrong]
    }
  }

  // Transfers: signal, onProgress with seed 004's names, filePath sinks, http.*
  const ac = new AbortController()
  await client.uploadFile({
    cloudPath: 'a.png',
    fileContent: Buffer.alloc(8),
    signal: ac.signal,
    config: { timeout: 5000 },
    onProgress: (p) => void [p.progress, p.totalBytesSent, p.totalBytesExpectedToSend, p.retry],
  })
  // @ts-expect-error upload events have no totalBytesWritten
  await client.uploadFile({ cloudPath: 'a.png', fileContent: Buffer.alloc(8), onProgress: (p) => p.totalBytesWritten })
  await client.downloadFile({ fileID: 'cloud://e.b/a.png', filePath: '/tmp/a.png', onProgress: (p) => void p.totalBytesWritten })
  const up = await client.http.uploadFile({ url: emu.url, name: 'fileData', value: { mediaId: 'm' }, formData: { user: 'x' } })
  const text: string = up.data
  const saved = await wx.http.downloadFile({ url: emu.url, filePath: '/tmp/x' })
  const where: string = saved.filePath
  // @ts-expect-error name is required
  await wx.http.uploadFile({ url: emu.url, value: Buffer.alloc(1) })
  void [text, where]
  const closing: Promise<void> = client.close()
  await closing
  const closedCode: WxMediaErrorCode = 'CLIENT_CLOSED'
  void closedCode

  // tokenStore (issue 10): Redis, or your own get/set hooks
  const tokens = new Map<string, StoredToken>()
  const hooks: TokenStoreHooks = { get: (key) => tokens.get(key), set: async (key, value) => void tokens.set(key, value) }
  new WxClient({ appid: emu.appid, secret: emu.secret, tokenStore: hooks })
  new WxClient({ appid: emu.appid, secret: emu.secret, tokenStore: { get: async () => null, set: () => {} } })
  new WxClient({ appid: emu.appid, secret: emu.secret, tokenStore: { redis: { url: 'redis://127.0.0.1:6379', lockMs: 5000 } } })
  // @ts-expect-error get resolves to { token, expiresAt }, not a bare token
  new WxClient({ appid: emu.appid, secret: emu.secret, tokenStore: { get: async () => 'token', set: () => {} } })
  // @ts-expect-error expiresAt is a number of ms
  tokens.set('k', { token: 't', expiresAt: new Date() })
  await emu.close()
}
