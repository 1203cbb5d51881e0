// Seed 000 as written: request fetches the image into a Buffer (`encoding: null`), then
// request `formData` uploads it.
import { createRequire } from 'node:module'
import { tokenUrl, uploadUrl, checkToken } from '../lib/common.mjs'

export async function setup (ctx) {
  const require = createRequire(import.meta.url)
  const request = require('request')
  const token = await new Promise((resolve, reject) => {
    request({ url: tokenUrl(ctx), json: true }, (err, res, data) => err ? reject(err) : resolve(data))
  })
  const url = uploadUrl(ctx, checkToken(token))
  const { filename, contentType, sourceUrl } = ctx
  const fetchImage = () => new Promise((resolve, reject) => {
    request({ url: sourceUrl, encoding: null }, (err, res, body) => {
      if (err) reject(err)
      else if (res.statusCode !== 200) reject(new Error(`source STATUS CODE ${res.statusCode}`))
      else resolve(body)
    })
  })
  return {
    upload: async () => {
      const buffer = await fetchImage()
      return new Promise((resolve, reject) => {
        const form = { media: { value: buffer, options: { filename, contentType } } }
        request({ url, method: 'POST', formData: form, json: true }, (err, res, data) => {
          if (err) reject(err)
          else if (res.statusCode === 200) resolve(data)
          else reject(new Error(`STATUS CODE ${res.statusCode}`))
        })
      })
    }
  }
}
