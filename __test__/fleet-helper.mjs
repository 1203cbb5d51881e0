// A fleet of child processes (fixtures/fleet-child.mjs) for the fleet tests.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { PNG } from './helpers.mjs'
import { redisCli } from './redis-helper.mjs'

const CHILD = fileURLToPath(new URL('./fixtures/fleet-child.mjs', import.meta.url))

/** A child process of the fleet; `round()` resolves its next round's results. */
export function child(t, emu, { store, calls = 20, rounds = 1, tokenMode = 'stable', client = {}, upload }) {
  const opts = {
    png: PNG.toString('base64'),
    calls,
    rounds,
    upload,
    client: { appid: emu.appid, secret: emu.secret, baseUrl: emu.url, tokenMode, ...(store ? { tokenStore: store } : {}), ...client },
  }
  const proc = spawn(process.execPath, [CHILD, JSON.stringify(opts)], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
  let buf = ''
  const done = []
  const waiting = []
  proc.stdout.on('data', (d) => {
    buf += d
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, i))
      buf = buf.slice(i + 1)
      const w = waiting.shift()
      if (w) w(line)
      else done.push(line)
    }
  })
  return {
    proc,
    round: () => (done.length ? Promise.resolve(done.shift()) : new Promise((r) => waiting.push(r))),
    next: () => proc.stdin.write('go\n'),
  }
}

export const allOk = (t, line) => {
  const bad = line.results.filter((r) => !r.ok || r.errCode !== 0)
  t.deepEqual(bad, [], 'every call succeeds')
}

export const keys = (port) => redisCli(port, '--scan').split('\n').filter(Boolean)

