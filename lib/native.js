'use strict'
// Loads the native addon through napi's generated loader (../index.js).
// Kept apart so that the loader's failure can be reported in words a user can
// act on (see loadError), and so that nothing else requires ../index.js.

function load() {
  try {
    return require('../index.js')
  } catch (err) {
    throw loadError(err)
  }
}

/** The loader's failure, with the real cause in the message itself. */
function loadError(err) {
  const causes = []
  for (let e = err; e; e = e.cause) {
    if (e.message && !causes.includes(e.message)) causes.push(e.message)
  }
  const error = new Error(
    `wx-media: cannot load the native addon for ${process.platform}-${process.arch}.\n` +
      causes.map((m) => `  - ${m}`).join('\n'),
  )
  error.code = 'NATIVE_LOAD_FAILED'
  error.cause = err
  return error
}

module.exports = load()
