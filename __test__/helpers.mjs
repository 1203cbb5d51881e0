// Shared test helpers: the addon, the emulator, sample media, hashing.
import { createRequire } from 'node:module'
import { createHash, randomBytes } from 'node:crypto'

const require = createRequire(import.meta.url)
export const wx = require('..')

// Tiny but real files of each format WeChat takes.
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
)
export const JPEG = Buffer.concat([
  Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'),
  randomBytes(300),
  Buffer.from('ffd9', 'hex'),
])
export const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64')
export const MP4 = Buffer.concat([Buffer.from('0000001866747970', 'hex'), Buffer.from('mp42\0\0\0\0mp42isom'), randomBytes(200)])

/** A PNG-looking buffer of `size` bytes (signature + random bytes). */
export function pngOfSize(size) {
  const buf = randomBytes(size)
  PNG.copy(buf, 0, 0, 16)
  return buf
}

export const sha256 = (buf) => createHash('sha256').update(buf).digest('hex')

/** Starts an emulator on 127.0.0.1 and closes it when the test ends. */
export async function startEmulator(t, options = {}) {
  const emu = await wx.startEmulator({ port: 0, ...options })
  t.teardown(() => emu.close())
  return emu
}

/** A client for the emulator's default app. */
export function clientFor(emu, options = {}) {
  return new wx.WxClient({ appid: emu.appid, secret: emu.secret, baseUrl: emu.url, env: emu.env, ...options })
}

/** Requests the emulator received on paths starting with `path`. */
export function requestsTo(emu, path) {
  return emu.requests().filter((r) => r.path.startsWith(path))
}

/** Total requests the emulator has counted, all paths. */
export function totalRequests(emu) {
  return Object.values(emu.stats().requests).reduce((a, b) => a + b, 0)
}
