// Seed 000/001 streamed in JS: axios fetches the image as a stream and pipes it into
// form-data, with the source's Content-Length as knownLength so the upload has an exact
// Content-Length (WeChat answers 412 to chunked bodies).
import { createRequire } from 'node:module'
import { tokenUrl, uploadUrl, checkToken } from '../lib/common.mjs'

export async function setup (ctx) {
  const require = createRequire(import.meta.url)
  const axios = require('axios')
  const FormData = require('form-data')
  const { data } = await axios.get(tokenUrl(ctx))
  const url = uploadUrl(ctx, checkToken(data))
  const { filename, contentType, sourceUrl } = ctx
  return {
    upload: async () => {
      const source = await axios.get(sourceUrl, { responseType: 'stream' })
      const knownLength = Number(source.headers['content-length'])
      const form = new FormData()
      form.append('media', source.data, { filename, contentType, knownLength })
      const res = await axios.post(url, form, {
        headers: { ...form.getHeaders(), 'Content-Length': form.getLengthSync() },
        maxBodyLength: Infinity,
        maxContentLength: Infinity
      })
      return res.data
    }
  }
}
