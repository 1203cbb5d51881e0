// The error a user sees when no native addon fits: loaded in a child process
// whose NAPI_RS_NATIVE_LIBRARY_PATH points at a file that is not a binary.
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Requires the package in a fresh Node with `env` added; returns the thrown error's fields. */
function loadWith(env) {
  const script = `
    try { require(${JSON.stringify(root)}); console.log(JSON.stringify({ loaded: true })) }
    catch (e) { console.log(JSON.stringify({ message: e.message, code: e.code, errCode: e.errCode, errMsg: e.errMsg, cause: !!e.cause })) }`
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop())
}

test('a binary that fails to load: the message has the platform, the dlopen error, the supported list and the way out', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-media-loader-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const bad = join(dir, 'wx-media.linux-x64-gnu.node')
  writeFileSync(bad, 'this is not a shared object\n')

  const e = loadWith({ NAPI_RS_NATIVE_LIBRARY_PATH: bad })
  t.is(e.code, 'NATIVE_LOAD_FAILED')
  t.is(e.errCode, -1)
  t.true(e.cause)
  // The platform, with libc and its version on Linux.
  const glibc = process.report.getReport().header.glibcVersionRuntime
  const libc = glibc ? `glibc ${glibc}` : 'musl'
  t.true(e.message.includes(`Detected: ${process.platform} ${process.arch} ${libc}`), e.message)
  t.true(e.message.includes(`Node ${process.version}`))
  // dlopen's own words, in the message itself (and in errMsg).
  t.regex(e.message, /invalid ELF header|file too short/)
  t.regex(e.errMsg, /invalid ELF header|file too short/)
  t.true(e.message.includes(bad))
  // Every platform package this repository defines is in the list.
  for (const platform of readdirSync(join(root, 'npm'))) {
    t.true(e.message.includes(`  - ${platform}: `), `${platform} missing from\n${e.message}`)
  }
  // The Node floor is the one package.json states.
  const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  t.true(e.message.includes(`Node ${engines.node}`), e.message)
  // How to get out of it.
  t.true(e.message.includes('build from source'))
  t.true(e.message.includes('NAPI_RS_NATIVE_LIBRARY_PATH'))
})

test('a binary that loads: requiring the package succeeds', (t) => {
  t.deepEqual(loadWith({}), { loaded: true })
})
