// wx-media: the Rust addon. One WxClient; it fetches and caches the access_token itself.
import { createRequire } from 'node:module'
import { NotAvailable, MEDIA_TYPE } from '../lib/common.mjs'

export async function setup ({ url, appid, secret, payload, contentType }) {
  const require = createRequire(import.meta.url)
  const wx = require('../..')
  if (typeof wx.WxClient !== 'function') throw new NotAvailable('wx-media has no WxClient export yet')
  const client = new wx.WxClient({ appid, secret, baseUrl: url, tokenMode: 'legacy', maxConcurrency: 64, timeout: 60000 })
  const media = { contentType, value: payload }
  return {
    upload: () => client.uploadTempMedia({ type: MEDIA_TYPE, media }),
    close: async () => { await client.close?.() }
  }
}
