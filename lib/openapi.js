'use strict'
// wx-server-sdk's `openapi`: any `openapi.<namespace>.<api>(params)`.
// Params go out in WeChat's snake_case and JSON results come back
// camelCased, with the same conversion wx-server-sdk applies (its
// utils.convertCase). Which names work is decided natively: over the WeChat
// HTTP API a table (unknown names reject INVALID_PARAM and list it), in a
// cloud function every name. Nothing is built at require() time but two
// Proxies; namespaces and methods are made on first use and cached.

const { invoke, invokeControlled, asCallError } = require('./call')
const { source } = require('./sources')

const typeOf = (x) => Object.prototype.toString.call(x).slice(8, -1).toLowerCase()
const isObject = (x) => typeOf(x) === 'object'

const toSnake = (key) => key.replace(/[A-Z]/g, (m, i) => `${i ? '_' : ''}${m.toLowerCase()}`)
const toCamel = (key) => key.replace(/_[a-z]/g, (m) => m[1].toUpperCase())

/** wx-server-sdk's convertCase(input, { recursive: true }) with `rename` for keys. */
function convertCase(input, rename) {
  if (isObject(input)) return convertObject(input, rename)
  if (Array.isArray(input)) {
    return input.map((item) => (isObject(item) || Array.isArray(item) ? convertCase(item, rename) : item))
  }
  return input
}

function convertObject(input, rename) {
  const data = Object.assign({}, input)
  for (const key in data) {
    const value = isObject(data[key]) || Array.isArray(data[key]) ? convertCase(data[key], rename) : data[key]
    const renamed = rename(key)
    data[renamed] = value
    if (renamed !== key) delete data[key]
  }
  return data
}

/** A JSON reply as wx-server-sdk resolves it: camelCase, errMsg/errCode last. */
function shapeResult(api, reply) {
  let result = reply
  if (isObject(reply) && !Buffer.isBuffer(reply.buffer)) {
    const { errcode, errmsg, ...rest } = reply
    result = convertCase(rest, toCamel)
  }
  return { ...result, errMsg: `${api}:ok`, errCode: 0 }
}

// Calls with their own native method (Buffer in, Buffer out).
const DEDICATED = {
  'customerServiceMessage.uploadTempMedia': 'uploadTempMedia',
  'customerServiceMessage.getTempMedia': 'getTempMedia',
}

/**
 * `convert(params)` with `media.value` left as it is: an upload source
 * ({ mediaId }, { fileID }, a stream) must not be renamed or flattened.
 */
function withMediaSource(params, convert) {
  const media = isObject(params) ? params.media : undefined
  if (!isObject(media) || media.value === undefined) return convert(params)
  const converted = convert({ ...params, media: { ...media, value: null } })
  converted.media.value = source(media.value, 'media.value')
  return converted
}

function method(target, name) {
  const api = `openapi.${name}`
  const dedicated = DEDICATED[name]
  // A plain closure: it works when destructured or passed around.
  const call = (params) => {
    let args
    try {
      args = params === undefined ? undefined : withMediaSource(params, (p) => convertCase(p, toSnake))
      // Transfer controls keep their names (and the callback its identity).
      if (dedicated && args !== undefined && params.onProgress !== undefined) {
        delete args.on_progress
        args.onProgress = params.onProgress
      }
    } catch (err) {
      return Promise.reject(asCallError(api, err))
    }
    if (dedicated) return invokeControlled(api, target[dedicated], target, args)
    // `signal` is not a WeChat parameter: it aborts the call (see ./call.js).
    const callOpenApi = (withControls, cancel) => {
      const { signal, ...wechatParams } = withControls
      return target.callOpenApi(name, wechatParams, cancel)
    }
    if (isObject(args) && args.signal !== undefined) {
      return invokeControlled(api, callOpenApi, target, args).then((reply) => shapeResult(api, reply))
    }
    return invoke(api, target.callOpenApi, target, [name, args]).then((reply) => shapeResult(api, reply))
  }
  Object.defineProperty(call, 'name', { value: name.slice(name.indexOf('.') + 1) })
  return call
}

// Property names that must not look like API names (promise checks,
// JSON.stringify, util.inspect, console.log).
const NOT_NAMES = new Set(['then', 'toJSON', 'constructor', 'inspect', 'asymmetricMatch', '$$typeof'])

function lazyNamespace(make) {
  const cache = new Map()
  return new Proxy(Object.create(null), {
    get(_, prop) {
      if (typeof prop !== 'string' || NOT_NAMES.has(prop)) return undefined
      let value = cache.get(prop)
      if (value === undefined) {
        value = make(prop)
        cache.set(prop, value)
      }
      return value
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  })
}

/** `openapi` for calls made through `target` (a native client or the module). */
function openapiFor(target) {
  return lazyNamespace((namespace) => lazyNamespace((api) => method(target, `${namespace}.${api}`)))
}

module.exports = { openapiFor, convertCase, toSnake, toCamel }
