// A real redis-server for the fleet bench: a free loopback port, no persistence, stopped by its
// pid. (The same recipe as __test__/redis-helper.mjs, without ava.)
import { spawn, execFileSync } from 'node:child_process'
import { createServer, connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export function freePort () {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** One PING over a socket: true on +PONG, false on any error (bounded by 1 s). */
function ping (port) {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1')
    let reply = ''
    const done = (ok) => { clearTimeout(timer); sock.destroy(); resolve(ok) }
    const timer = setTimeout(() => done(false), 1000)
    sock.on('connect', () => sock.write('PING\r\n'))
    sock.on('data', (d) => { reply += d; if (reply.includes('\r\n')) done(reply.startsWith('+PONG')) })
    sock.on('error', () => done(false))
  })
}

export function redisVersion () {
  try { return execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim().match(/v=(\S+)/)?.[1] ?? 'unknown' } catch { return null }
}

/**
 * Starts `redis-server --save '' --appendonly no --bind 127.0.0.1` on a free port (through
 * `taskset -c cpu` when given). Resolves `{ url, port, pid, cli(...args), stop() }`.
 */
export async function startRedisServer ({ cpu = null, track = (c) => c } = {}) {
  const port = await freePort()
  const argv = ['redis-server', '--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1']
  const [cmd, args] = cpu != null ? ['taskset', ['-c', String(cpu), ...argv]] : [argv[0], argv.slice(1)]
  const child = track(spawn(cmd, args, { stdio: 'ignore' }))
  const end = Date.now() + 30000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}) on port ${port}`)
    if (await ping(port)) break
    if (Date.now() > end) { process.kill(child.pid, 'SIGKILL'); throw new Error('redis-server did not answer PING within 30 s') }
    await sleep(20)
  }
  const r = {
    port,
    pid: child.pid,
    url: `redis://127.0.0.1:${port}`,
    cli: (...a) => execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--raw', ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      process.kill(child.pid, 'SIGKILL')
      await exited
    }
  }
  return r
}
