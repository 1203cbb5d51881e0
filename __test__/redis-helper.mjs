// A real redis-server for the fleet tests: a free loopback port, no
// persistence, stopped by its pid when the test ends (scripts/redis-server.mjs).
import { freePort, launchRedis, redisCli, stopRedis } from '../scripts/redis-server.mjs'

export { redisCli }

/** Polls `check` every 20 ms until it is true, at most `ms`. */
export async function until(check, ms = 10000, what = 'condition') {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Starts redis-server; `{ url, port, stop(), start() }`; stopped in teardown. */
export async function startRedis(t) {
  const port = await freePort()
  const r = { port, url: `redis://127.0.0.1:${port}`, child: null }
  // Generous bound: the whole suite shares 2 cores.
  r.start = async () => {
    r.child = await launchRedis(port, { timeoutMs: 60000 })
  }
  r.stop = async () => {
    await stopRedis(r.child)
    r.child = null
  }
  await r.start()
  t.teardown(() => r.stop())
  return r
}
