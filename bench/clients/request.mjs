// request (deprecated, still everywhere) with `formData`, exactly as in seed 000.
import { createRequire } from 'node:module'
import { tokenUrl, uploadUrl, checkToken } from '../lib/common.mjs'

export async function setup (ctx) {
  const require = createRequire(import.meta.url)
  const request = require('request')
  const token = await new Promise((resolve, reject) => {
    request({ url: tokenUrl(ctx), json: true }, (err, res, data) => err ? reject(err) : resolve(data))
  })
  const url = uploadUrl(ctx, checkToken(token))
  const { payload: buffer, filename, contentType } = ctx
  return {
    upload: () => new Promise((resolve, reject) => {
      const form = { // 构造表单
        media: {
          value: buffer,
          options: {
            filename,
            contentType
          }
        }
      }
      request({
        url,
        method: 'POST',
        formData: form,
        json: true
      }, (err, res, data) => {
        if (err) reject(err)
        else if (res.statusCode === 200) resolve(data)
        else reject(new Error(`STATUS CODE ${res.statusCode}`))
      })
    })
  }
}
