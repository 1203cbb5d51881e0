// undici.request with undici's own FormData (a Blob part; undici computes Content-Length).
import { request, FormData } from 'undici'
import { tokenUrl, uploadUrl, checkToken } from '../lib/common.mjs'

async function readJson (statusCode, body) {
  if (statusCode !== 200) { await body.dump(); throw new Error(`HTTP ${statusCode}`) }
  return body.json()
}

export async function setup (ctx) {
  const t = await request(tokenUrl(ctx))
  const url = uploadUrl(ctx, checkToken(await readJson(t.statusCode, t.body)))
  const { payload, filename, contentType } = ctx
  return {
    upload: async () => {
      const fd = new FormData()
      fd.append('media', new Blob([payload], { type: contentType }), filename)
      const { statusCode, body } = await request(url, { method: 'POST', body: fd })
      return readJson(statusCode, body)
    }
  }
}
