// got (v14, ESM) + form-data: the form is passed as the body, got computes its length.
import { createRequire } from 'node:module'
import { tokenUrl, uploadUrl, checkToken } from '../lib/common.mjs'

export async function setup (ctx) {
  const { default: got } = await import('got')
  const FormData = createRequire(import.meta.url)('form-data')
  const url = uploadUrl(ctx, checkToken(await got(tokenUrl(ctx)).json()))
  const { payload, filename, contentType } = ctx
  return {
    upload: () => {
      const form = new FormData()
      form.append('media', payload, { filename, contentType })
      return got.post(url, { body: form, headers: form.getHeaders(), retry: { limit: 0 }, timeout: { request: 60000 } }).json()
    }
  }
}
