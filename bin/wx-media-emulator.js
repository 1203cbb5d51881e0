#!/usr/bin/env node
'use strict'
// Runs the wx-media emulator (WeChat + COS endpoints) as its own process.
// Prints one JSON line {url, appid, secret, env} on stdout once listening;
// stops cleanly on SIGINT / SIGTERM.

const { startEmulator } = require('..')

const USAGE =
  'usage: wx-media-emulator [--port N] [--host ADDR] [--lean] [--open-api-service] [--cloud-function]'

// --cloud-function: also print the environment of a cloud function whose
// TCB gateway is this emulator, as shell `export` lines after the JSON line.
let cloudFunction = false

function parseArgs(argv) {
  const options = { port: 0 }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const [flag, inline] = arg.split(/=(.*)/s, 2)
    const value = () => (inline !== undefined ? inline : argv[++i])
    switch (flag) {
      case '--port': {
        const raw = value()
        if (raw === undefined) throw new Error('--port needs a value: a port number 0–65535 (0 picks a free one)')
        const port = /^\d+$/.test(raw) ? Number(raw) : NaN
        if (!Number.isInteger(port) || port > 65535) {
          throw new Error(`bad --port value '${raw}': expected a port number 0–65535 (0 picks a free one)`)
        }
        options.port = port
        break
      }
      case '--host': {
        const host = value()
        if (!host) throw new Error('--host needs a value, e.g. 127.0.0.1')
        options.host = host
        break
      }
      case '--lean':
        options.lean = true
        break
      case '--open-api-service':
        options.openApiService = true
        break
      case '--cloud-function':
        cloudFunction = true
        break
      case '-h':
      case '--help':
        process.stdout.write(USAGE + '\n')
        process.exit(0)
        break
      default:
        throw new Error(`unknown argument: ${arg}`)
    }
  }
  return options
}

async function main() {
  let options
  try {
    options = parseArgs(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`${err.message}\n${USAGE}\n`)
    process.exit(2)
  }
  // An open emulator keeps the process alive until close().
  const emulator = await startEmulator(options)
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await emulator.close()
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  const { url, appid, secret, env } = emulator
  if (!cloudFunction) {
    process.stdout.write(JSON.stringify({ url, appid, secret, env }) + '\n')
    return
  }
  const vars = emulator.cloudFunctionEnv()
  process.stdout.write(JSON.stringify({ url, appid, secret, env, cloudFunctionEnv: vars }) + '\n')
  const quote = (v) => `'${String(v).replace(/'/g, `'\\''`)}'`
  for (const [name, value] of Object.entries(vars)) process.stdout.write(`export ${name}=${quote(value)}\n`)
}

main().catch((err) => {
  process.stderr.write(`wx-media-emulator: ${err.message}\n`)
  process.exit(1)
})
