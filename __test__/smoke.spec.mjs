import test from 'ava'
import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const wx = require('..')

test('addon loads and reports its version', (t) => {
  t.regex(wx.version(), /^\d+\.\d+\.\d+$/)
})
