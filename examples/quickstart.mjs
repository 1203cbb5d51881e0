// wx-media quickstart.
//
// With WX_APPID and WX_APPSECRET set, it talks to the real WeChat API (and,
// with TCB_ENV set too, to your Cloud Base storage). Without them it starts
// the built-in emulator on 127.0.0.1 and runs everything against it.
//
//   npm run quickstart
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const wx = require('..')

const sample = readFileSync(new URL('./sample.png', import.meta.url))
const same = (a, b) => Buffer.compare(a, b) === 0

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`)
  console.log(`  ✓ ${what}`)
}

let emulator = null
if (process.env.WX_APPID && process.env.WX_APPSECRET) {
  wx.init() // appid, secret and env come from WX_APPID, WX_APPSECRET and TCB_ENV
  console.log(`Using the real WeChat API for appid ${process.env.WX_APPID}`)
} else {
  emulator = await wx.startEmulator({ port: 0 })
  wx.init({ appid: emulator.appid, secret: emulator.secret, baseUrl: emulator.url, env: emulator.env })
  console.log(`No WX_APPID/WX_APPSECRET set: using the built-in emulator at ${emulator.url}`)
}

try {
  console.log('\nTemporary media')
  const uploaded = await wx.openapi.customerServiceMessage.uploadTempMedia({
    type: 'image',
    media: { contentType: 'image/png', value: sample },
  })
  console.log('  uploadTempMedia →', uploaded)
  check(uploaded.errCode === 0 && uploaded.mediaId, 'uploaded, got a mediaId')
  const fetched = await wx.getTempMedia({ mediaId: uploaded.mediaId })
  check(fetched.contentType === 'image/png', `fetched back as ${fetched.contentType}`)
  check(same(fetched.buffer, sample), `the ${fetched.buffer.length} bytes are identical`)

  if (emulator || process.env.TCB_ENV) {
    console.log('\nCloud Base storage')
    const cloudPath = `quickstart/sample-${Date.now()}.png`
    const stored = await wx.uploadFile({ cloudPath, fileContent: sample })
    console.log('  uploadFile →', stored)
    check(stored.fileID.startsWith('cloud://'), `stored as ${stored.fileID} (COS status ${stored.statusCode})`)
    const { fileList } = await wx.getTempFileURL({ fileList: [{ fileID: stored.fileID, maxAge: 600 }] })
    check(fileList[0].status === 0, `temporary link ${fileList[0].tempFileURL}`)
    const downloaded = await wx.downloadFile({ fileID: stored.fileID })
    check(same(downloaded.fileContent, sample), 'downloaded bytes are identical')
    const deleted = await wx.deleteFile({ fileList: [stored.fileID] })
    check(deleted.fileList[0].status === 0, 'deleted')
  } else {
    console.log('\n(set TCB_ENV to also try Cloud Base storage)')
  }
  console.log('\nquickstart: all checks passed')
} catch (err) {
  console.error(`\nquickstart failed: ${err.message}`)
  if (err.code) console.error(`  code: ${err.code}, errCode: ${err.errCode}`)
  process.exitCode = 1
} finally {
  await emulator?.close()
}
