'use strict'
// Calls into the native addon so that every failure is a rejection of the
// returned promise: a throwing getter or Proxy trap in the arguments, or any
// synchronous throw from the binding, never escapes the call.

/** An INVALID_PARAM error in the addon's shape, for failures caught in JS. */
function invalidParam(api, detail, cause) {
  const error = new Error(`errCode: -1 invalid parameter | errMsg: ${api}:fail ${detail}`)
  error.errCode = -1
  error.errMsg = `${api}:fail ${detail}`
  error.code = 'INVALID_PARAM'
  if (cause !== undefined) error.cause = cause
  return error
}

/** A caught value as the error a call rejects with. */
function asCallError(api, err) {
  if (err instanceof Error && typeof err.code === 'string' && typeof err.errCode === 'number') return err
  const detail = err instanceof Error ? err.message : String(err)
  return invalidParam(api, `cannot read the arguments: ${detail}`, err)
}

/**
 * Runs `fn(...args)` (a native call returning a promise) and returns a
 * promise whatever happens.
 */
function invoke(api, fn, thisArg, args) {
  try {
    return Promise.resolve(fn.apply(thisArg, args))
  } catch (err) {
    return Promise.reject(asCallError(api, err))
  }
}

module.exports = { invoke, invalidParam, asCallError }
