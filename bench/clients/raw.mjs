// raw: the fastest a plain JS client can be. A hand-built multipart body (head + payload + tail,
// no copy of the payload), exact Content-Length, node:http with a keep-alive agent.
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import { tokenUrl, checkToken, MEDIA_TYPE } from '../lib/common.mjs'

function call (agent, opts, chunks) {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, ...opts }, (res) => {
      const parts = []
      res.on('data', (c) => parts.push(c))
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`))
        try { resolve(JSON.parse(Buffer.concat(parts).toString('utf8'))) } catch (e) { reject(e) }
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    if (chunks) {
      req.cork()
      for (const c of chunks) req.write(c)
      req.uncork()
    }
    req.end()
  })
}

export async function setup (ctx) {
  const { payload, filename, contentType, concurrency } = ctx
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, concurrency) })
  const u = new URL(ctx.url)
  const base = { host: u.hostname, port: u.port }
  const t = new URL(tokenUrl(ctx))
  const token = checkToken(await call(agent, { ...base, method: 'GET', path: t.pathname + t.search }))
  const path = `/cgi-bin/media/upload?access_token=${encodeURIComponent(token)}&type=${MEDIA_TYPE}`
  return {
    upload: () => {
      const boundary = `----wxbench${randomBytes(12).toString('hex')}`
      const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="media"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`, 'latin1')
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1')
      return call(agent, {
        ...base,
        method: 'POST',
        path,
        headers: {
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          'Content-Length': head.length + payload.length + tail.length,
          Accept: 'application/json'
        }
      }, [head, payload, tail])
    },
    close: async () => agent.destroy()
  }
}
