// A real redis-server on a loopback port, with no persistence, for the fleet
// tests (__test__/redis-helper.mjs) and the fleet bench (bench/lib/redis-server.mjs).
import { spawn, execFileSync } from 'node:child_process'
import { createServer, connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** A free TCP port on 127.0.0.1. */
export function freePort() {
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
function ping(port) {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1')
    let reply = ''
    const done = (ok) => {
      clearTimeout(timer)
      sock.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), 1000)
    sock.on('connect', () => sock.write('PING\r\n'))
    sock.on('data', (d) => {
      reply += d
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
    sock.on('error', () => done(false))
  })
}

/** `redis-cli --raw …` against the server on `port`; its stdout. */
export const redisCli = (port, ...args) =>
  execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--raw', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })

/**
 * Starts `redis-server --save '' --appendonly no --bind 127.0.0.1 --port <port>`
 * (through `taskset -c cpu` when given) and resolves its child process once it
 * answers PING. A server that exits (the port was taken meanwhile) fails at once.
 */
export async function launchRedis(port, { cpu = null, timeoutMs = 30000 } = {}) {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
  } catch {
    throw new Error(
      'redis-server is not installed (the fleet tests and bench start a real one): ' +
        'apt-get install redis-server (Debian/Ubuntu) or brew install redis; .ci/run installs it itself',
    )
  }
  const argv = ['redis-server', '--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1']
  const [cmd, args] = cpu != null ? ['taskset', ['-c', String(cpu), ...argv]] : [argv[0], argv.slice(1)]
  const child = spawn(cmd, args, { stdio: 'ignore' })
  const end = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}) on port ${port}`)
    if (await ping(port)) return child
    if (Date.now() > end) {
      child.kill('SIGKILL')
      throw new Error(`redis-server did not answer PING within ${timeoutMs / 1000} s`)
    }
    await sleep(20)
  }
}

/** Stops a launched server by its pid and waits for it to exit. */
export async function stopRedis(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  process.kill(child.pid, 'SIGKILL')
  await exited
}
