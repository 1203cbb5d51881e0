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

/** The rejection of a call whose `signal` aborted (same shape as the addon's). */
function abortedError(api, signal) {
  const detail = "aborted by the caller's signal"
  const error = new Error(`errCode: -1 aborted | errMsg: ${api}:fail ${detail}`)
  error.errCode = -1
  error.errMsg = `${api}:fail ${detail}`
  error.code = 'ABORTED'
  if (signal !== undefined && signal.reason !== undefined) error.cause = signal.reason
  return error
}

const isAbortSignal = (s) =>
  s !== null && typeof s === 'object' && typeof s.aborted === 'boolean' && typeof s.addEventListener === 'function'

let warnedProgress = false
/** `onProgress` wrapped so that a throwing callback cannot break the transfer. */
function safeProgress(onProgress) {
  return function progress(event) {
    try {
      onProgress(event)
    } catch (err) {
      if (!warnedProgress) {
        warnedProgress = true
        process.emitWarning(`wx-media: an onProgress callback threw (ignored): ${err && err.message}`)
      }
    }
  }
}

/**
 * Like `invoke`, for calls that take `signal` and `onProgress` in their
 * arguments: an already-aborted signal rejects before any request; otherwise
 * a native cancel handle is triggered by the signal's 'abort' event, and the
 * progress callback is handed to the addon beside the arguments. Calls with
 * neither pay nothing for them.
 */
function invokeControlled(api, fn, thisArg, args) {
  let signal
  let onProgress
  try {
    if (args !== null && typeof args === 'object') {
      signal = args.signal ?? undefined
      onProgress = args.onProgress ?? undefined
    }
  } catch (err) {
    return Promise.reject(asCallError(api, err))
  }
  if (signal === undefined && onProgress === undefined) return invoke(api, fn, thisArg, [args])
  if (signal !== undefined && !isAbortSignal(signal)) {
    return Promise.reject(invalidParam(api, 'signal must be an AbortSignal (new AbortController().signal)'))
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    return Promise.reject(invalidParam(api, `onProgress must be a function, got ${typeof onProgress}`))
  }
  if (signal !== undefined && signal.aborted) return Promise.reject(abortedError(api, signal))
  const progress = onProgress === undefined ? undefined : safeProgress(onProgress)
  if (signal === undefined) return invoke(api, fn, thisArg, [args, undefined, progress])
  // Loaded here, not at the top: ./native loads the addon, and call.js is
  // also used before it (argument errors).
  const native = require('./native')
  const cancel = native.cancelHandle()
  return new Promise((resolve, reject) => {
    let late
    const onAbort = () => {
      // The addon drops the call at once (closing its connection, removing
      // any temporary file) and rejects; should a busy machine delay that,
      // the call still rejects within ABORT_GRACE_MS.
      native.cancelCall(cancel)
      late = setTimeout(() => reject(abortedError(api, signal)), ABORT_GRACE_MS)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    invoke(api, fn, thisArg, [args, cancel, progress])
      .then(resolve, (err) => {
        if (err && err.code === 'ABORTED' && signal.reason !== undefined && err.cause === undefined) {
          err.cause = signal.reason
        }
        reject(err)
      })
      .finally(() => {
        clearTimeout(late)
        signal.removeEventListener('abort', onAbort)
      })
  })
}

/** Longest wait, after an abort, for the addon's own ABORTED rejection. */
const ABORT_GRACE_MS = 15

module.exports = { invoke, invokeControlled, invalidParam, asCallError, abortedError }
