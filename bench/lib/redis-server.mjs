// A real redis-server for the fleet bench: a free loopback port, no persistence, stopped by its
// pid (the launcher the fleet tests use too: scripts/redis-server.mjs).
import { execFileSync } from 'node:child_process'
import { freePort, launchRedis, redisCli, stopRedis } from '../../scripts/redis-server.mjs'

export function redisVersion () {
  try { return execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim().match(/v=(\S+)/)?.[1] ?? 'unknown' } catch { return null }
}

/**
 * Starts `redis-server --save '' --appendonly no --bind 127.0.0.1` on a free port (through
 * `taskset -c cpu` when given). Resolves `{ url, port, pid, cli(...args), stop() }`.
 */
export async function startRedisServer ({ cpu = null, track = (c) => c } = {}) {
  const port = await freePort()
  const child = track(await launchRedis(port, { cpu }))
  return {
    port,
    pid: child.pid,
    url: `redis://127.0.0.1:${port}`,
    cli: (...a) => redisCli(port, ...a),
    stop: () => stopRedis(child)
  }
}
