'use strict'
// The public module. JavaScript only shapes arguments and results here; all
// HTTP, multipart and token work happens in the native addon. Every call
// returns a promise and every failure rejects it (see ./call.js).

const native = require('./native')
const { invoke, invokeControlled } = require('./call')
const { openapiFor } = require('./openapi')
const { isWxMediaError } = require('./errors')
const sources = require('./sources')

/** Argument shaping per call (upload sources; see ./sources.js). */
const shapers = {
  uploadTempMedia: sources.mediaArgs,
  uploadFile: sources.fileArgs,
  httpUploadFile: (args) => {
    if (args === null || typeof args !== 'object') return args
    const value = sources.source(args.value, 'value')
    return value === args.value ? args : { ...args, value }
  },
}
const shaped = (name, fn) => {
  const shape = shapers[name]
  // `rest`: the cancel handle and progress callback of ./call.js.
  return shape === undefined ? fn : function call(args, ...rest) { return fn.call(this, shape(args), ...rest) }
}

/** Calls `target[name](args)`: always a promise; `signal`/`onProgress` handled. */
const call = (api, target, name, args) => invokeControlled(api, shaped(name, target[name]), target, args)

/** `fn` of `target`, wrapped so that it always returns a promise. */
function promised(api, target, name) {
  return function callApi(args) {
    return call(api, target, name, args)
  }
}

/** seed 004's `wx.uploadFile` / `wx.downloadFile`, for your own servers, through `target`. */
function httpFor(target) {
  return Object.freeze({
    uploadFile: promised('http.uploadFile', target, 'httpUploadFile'),
    downloadFile: promised('http.downloadFile', target, 'httpDownloadFile'),
  })
}

/** A client for one appid (or one token source); many can live side by side. */
class WxClient {
  #native
  #openapi
  #http

  constructor(options) {
    this.#native = new native.WxClient(options)
    this.#openapi = openapiFor(this.#native)
    this.#http = httpFor(this.#native)
  }

  /** `client.http.uploadFile(…)` / `client.http.downloadFile(…)` through this client. */
  get http() {
    return this.#http
  }

  /** The appid this client fetches tokens for, if any. */
  get appid() {
    return this.#native.appid
  }

  /** The default Cloud Base environment of this client, if any. */
  get env() {
    return this.#native.env
  }

  /**
   * Ends this client: calls in flight and later calls reject with
   * `CLIENT_CLOSED`; resolves once its connection pool is dropped.
   */
  close() {
    return invoke('close', this.#native.close, this.#native, [])
  }

  /** How many times this client fetched (or asked its provider for) a token. */
  get tokenFetchCount() {
    return this.#native.tokenFetchCount
  }

  /** wx-server-sdk path: `client.openapi.customerServiceMessage.uploadTempMedia(…)`. */
  get openapi() {
    return this.#openapi
  }

  /** Uploads temporary media (`POST /cgi-bin/media/upload`). */
  uploadTempMedia(args) {
    return call('uploadTempMedia', this.#native, 'uploadTempMedia', args)
  }

  /** Fetches temporary media back (`GET /cgi-bin/media/get`). */
  getTempMedia(args) {
    return call('getTempMedia', this.#native, 'getTempMedia', args)
  }

  /** Uploads a file to Cloud Base storage. */
  uploadFile(args) {
    return call('uploadFile', this.#native, 'uploadFile', args)
  }

  /** Downloads a Cloud Base file. */
  downloadFile(args) {
    return call('downloadFile', this.#native, 'downloadFile', args)
  }

  /** Temporary download links; any number of files (split into calls of 50). */
  getTempFileURL(args) {
    return call('getTempFileURL', this.#native, 'getTempFileURL', args)
  }

  /** Deletes Cloud Base files; per-file failures are reported, not thrown. */
  deleteFile(args) {
    return call('deleteFile', this.#native, 'deleteFile', args)
  }
}
const moduleCall = (name) => promised(name, native, name)
const uploadTempMedia = moduleCall('uploadTempMedia')
const getTempMedia = moduleCall('getTempMedia')
const uploadFile = moduleCall('uploadFile')
const downloadFile = moduleCall('downloadFile')
const getTempFileURL = moduleCall('getTempFileURL')
const deleteFile = moduleCall('deleteFile')

/**
 * Starts the emulator. Like a listening server, an open emulator keeps the
 * process alive (its sockets live on Rust threads, which Node does not see):
 * a ref'd timer stands in for them until `close()`.
 */
async function startEmulator(options) {
  const emulator = await invoke('startEmulator', native.startEmulator, native, [options])
  const keepAlive = setInterval(() => {}, 0x7fffffff)
  const close = emulator.close
  Object.defineProperty(emulator, 'close', {
    configurable: true,
    writable: true,
    value: function closeEmulator() {
      clearInterval(keepAlive)
      return invoke('close', close, emulator, [])
    },
  })
  return emulator
}
const openapi = openapiFor(native)
const http = httpFor(native)
const { init, version, Emulator } = native
// wx-server-sdk's symbol (the same registered symbol, so either library's
// works with the other): as `env`, the env the function runs in, read at
// each call (TCB_ENV, else SCF_NAMESPACE).
const DYNAMIC_CURRENT_ENV = Symbol.for('SYMBOL_CURRENT_ENV')
const getWXContext = () => native.getWXContext()

// An object literal of plain names, so that Node's CommonJS export detection
// sees every one of them and `import { openapi } from 'wx-media'` works.
module.exports = {
  init,
  WxClient,
  uploadTempMedia,
  getTempMedia,
  uploadFile,
  downloadFile,
  getTempFileURL,
  deleteFile,
  openapi,
  http,
  DYNAMIC_CURRENT_ENV,
  getWXContext,
  startEmulator,
  Emulator,
  version,
  isWxMediaError,
}
