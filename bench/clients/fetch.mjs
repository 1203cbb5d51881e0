// Node's global fetch + global FormData (Node 20 bundles undici for both).
import { tokenUrl, uploadUrl, checkToken } from '../lib/common.mjs'

async function readJson (res) {
  if (res.status !== 200) { await res.arrayBuffer(); throw new Error(`HTTP ${res.status}`) }
  return res.json()
}

export async function setup (ctx) {
  const url = uploadUrl(ctx, checkToken(await readJson(await fetch(tokenUrl(ctx)))))
  const { payload, filename, contentType } = ctx
  return {
    upload: async () => {
      const fd = new FormData()
      fd.append('media', new Blob([payload], { type: contentType }), filename)
      return readJson(await fetch(url, { method: 'POST', body: fd }))
    }
  }
}
