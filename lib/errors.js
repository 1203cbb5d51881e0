'use strict'
// The error contract of every call: an Error with a stable string `code`, a
// numeric `errCode` and a string `errMsg` (README "Errors"; `WxMediaError`
// in index.d.ts). Add a new code here, in WxMediaErrorCode (dts-header.d.ts)
// and in the README table together; a test checks they agree.

/** Every `code` a wx-media failure can carry. */
const ERROR_CODES = Object.freeze([
  'INVALID_PARAM',
  'WX_API_ERROR',
  'TOKEN_ERROR',
  'COS_ERROR',
  'TIMEOUT',
  'NETWORK',
  'ABORTED',
  'HTTP_STATUS',
  'SOURCE_ERROR',
  'TOO_LARGE',
  'CLIENT_CLOSED',
])

const KNOWN = new Set(ERROR_CODES)

/** `true` when `e` is a failure reported by wx-media (a `WxMediaError`). */
function isWxMediaError(e) {
  return (
    e instanceof Error &&
    typeof e.code === 'string' &&
    KNOWN.has(e.code) &&
    typeof e.errCode === 'number' &&
    typeof e.errMsg === 'string'
  )
}

module.exports = { ERROR_CODES, isWxMediaError }
