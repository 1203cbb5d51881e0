// A real redis-server for the fleet tests: a free loopback port, no
// persistence, stopped by its pid when the test ends.
import { spawn, execFileSync } from 'node:child_process'
import { createServer, connect } from 'node:net'

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })

export const redisCli = (port, ...args) =>
  execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--raw', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })

/** One PING over a socket: true on +PONG, false on any error (bounded by 1 s). */
const ping = (port) =>
  new Promise((resolve) => {
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

/** Polls `check` every 20 ms until it is true, at most `ms`. */
export async function until(check, ms = 10000, what = 'condition') {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

function launch(port) {
  const child = spawn('redis-server', ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1'], {
    stdio: 'ignore',
  })
  return child
}

/** Starts redis-server; `{ url, port, stop(), start() }`; stopped in teardown. */
export async function startRedis(t) {
  const port = await freePort()
  const r = { port, url: `redis://127.0.0.1:${port}`, child: null }
  r.start = async () => {
    const child = launch(port)
    r.child = child
    // Generous bound: the whole suite shares 2 cores. A server that exits
    // (e.g. the port was taken meanwhile) fails at once.
    await until(() => {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}) on port ${port}`)
      return ping(port)
    }, 60000, 'redis-server to answer PING')
  }
  r.stop = async () => {
    const child = r.child
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    process.kill(child.pid, 'SIGKILL')
    await exited
    r.child = null
  }
  await r.start()
  t.teardown(() => r.stop())
  return r
}
