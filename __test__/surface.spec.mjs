// A new user's view of wx-media: options that are refused with a hint, the
// package as ESM and TypeScript sees it, the emulator's UX, close(), the
// debug log. Everything runs against the emulator on 127.0.0.1.
import test from 'ava'
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
