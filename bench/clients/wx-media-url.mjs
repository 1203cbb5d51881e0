// Seed 000 with wx-media: the image's URL is the source; Rust fetches it and streams it
// through to media/upload with its exact length, in one call.
import { createRequire } from 'node:module'
import { NotAvailable, MEDIA_TYPE } from '../lib/common.mjs'

export async function setup ({ url, appid, secret, contentType, sourceUrl }) {
  const require = createRequire(import.meta.url)
  const wx = require('../..')
  if (typeof wx.WxClient !== 'function') throw new NotAvailable('wx-media has no WxClient export yet')
  const client = new wx.WxClient({ appid, secret, baseUrl: url, tokenMode: 'legacy', maxConcurrency: 64, timeout: 60000 })
  const media = { contentType, value: { url: sourceUrl } }
  return {
    upload: () => client.uploadTempMedia({ type: MEDIA_TYPE, media }),
    close: async () => { await client.close?.() }
  }
}
