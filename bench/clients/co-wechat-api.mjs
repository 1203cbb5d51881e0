// co-wechat-api uploadMedia(buffer, type, filename, mime), its prefix pointed at the server.
import { createRequire } from 'node:module'
import { MEDIA_TYPE } from '../lib/common.mjs'

export async function setup ({ url, appid, secret, payload, filename, contentType }) {
  const API = createRequire(import.meta.url)('co-wechat-api')
  const api = new API(appid, secret)
  api.prefix = `${url}/cgi-bin/`
  await api.ensureAccessToken() // fetch the token once, as a warm server would have it
  return {
    upload: () => api.uploadMedia(payload, MEDIA_TYPE, filename, contentType)
  }
}
