'use strict'
// Upload sources that only JavaScript can read: a Node Readable (other than
// an fs.ReadStream with a path, which Rust reads itself) or any async
// iterable of Buffer/Uint8Array, and WHATWG URL objects. They are shaped
// here into what the native addon takes; Rust does the buffering, the
// size limit and the upload (see src/bindings/source.rs).

const PULL_KEY = '__wxMediaPull'
const INVALID = 'INVALID_PARAM: '
const noop = () => {}

const isBytes = (v) => v instanceof Uint8Array

/** An fs.ReadStream that Rust can open by path. */
function isPathStream(v) {
  return (
    typeof v.bytesRead === 'number' &&
    typeof v.pipe === 'function' &&
    (typeof v.path === 'string' || Buffer.isBuffer(v.path))
  )
}

/** A Buffer with its own ArrayBuffer (not the shared pool) holding `bytes`. */
function privateCopy(bytes) {
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength)
  copy.set(bytes)
  return copy
}

/** `pull(stop)` over an async iterator: the next chunk as a Buffer, or null at the end. */
function puller(value, what) {
  const iterator = value[Symbol.asyncIterator]()
  let done = false
  const stop = () => {
    if (done) return
    done = true
    if (typeof value.destroy === 'function') value.destroy()
    if (typeof iterator.return === 'function') Promise.resolve(iterator.return()).catch(noop)
  }
  return {
    [PULL_KEY]: async (halt) => {
      if (halt) {
        stop()
        return null
      }
      if (done) return null
      const step = await iterator.next()
      if (step.done) {
        done = true
        return null
      }
      const chunk = step.value
      // A private copy, never the caller's chunk: the addon reads it on another
      // thread after this returns, and the caller could transfer or resize its
      // own buffer meanwhile. No one else can reach the copy.
      if (isBytes(chunk)) return privateCopy(chunk)
      stop()
      const kind = chunk === null ? 'null' : typeof chunk === 'string' ? 'a string' : typeof chunk
      throw new Error(`${INVALID}${what} yielded ${kind}: a stream source must yield Buffers or Uint8Arrays`)
    },
  }
}

/** `value` as the native addon takes it (unchanged for Buffers, files by path, { url } …). */
function source(value, what) {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value
  if (value instanceof URL) return { url: value.href }
  if (isPathStream(value)) {
    // Rust stats and reads the file and destroys this stream; a missing
    // file must not surface as an unhandled 'error' event on it.
    if (typeof value.on === 'function') value.on('error', noop)
    return value
  }
  if (typeof value[Symbol.asyncIterator] === 'function') {
    if (typeof value.on === 'function') value.on('error', noop)
    return puller(value, what)
  }
  return value
}

/** `args` of uploadTempMedia with `media.value` shaped (a copy when changed). */
function mediaArgs(args) {
  const media = args !== null && typeof args === 'object' ? args.media : undefined
  if (media === null || typeof media !== 'object') return args
  const value = source(media.value, 'media.value')
  return value === media.value ? args : { ...args, media: { ...media, value } }
}

/** `args` of uploadFile with `fileContent` shaped (a copy when changed). */
function fileArgs(args) {
  if (args === null || typeof args !== 'object') return args
  const value = source(args.fileContent, 'fileContent')
  return value === args.fileContent ? args : { ...args, fileContent: value }
}

module.exports = { source, mediaArgs, fileArgs }
