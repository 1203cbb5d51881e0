'use strict'
// Run by .ci/dist.sh inside a user's app folder with wx-media installed from
// tarballs: loads the package, says which binary and glibc it runs on, and
// checks that this Node satisfies the engines of both installed packages.
const path = require('path')
const wx = require('wx-media')

const report = process.report.getReport()
const loaded = report.sharedObjects.filter((f) => /wx-media[^/]*\.node$/.test(f))
const fail = (what) => {
  console.error(`dist-where: ${what}`)
  process.exit(1)
}

if (loaded.length !== 1) fail(`expected one wx-media binary loaded, got ${JSON.stringify(loaded)}`)
const expected = path.join('node_modules', 'wx-media-linux-x64-gnu', 'wx-media.linux-x64-gnu.node')
if (!loaded[0].endsWith(expected)) fail(`loaded ${loaded[0]}, not the platform package's ${expected}`)

const version = (v) => v.split('.').map(Number)
const atLeast = (a, b) => {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i]
  return true
}
for (const pkg of ['wx-media', 'wx-media-linux-x64-gnu']) {
  const range = require(`${pkg}/package.json`).engines.node
  const floor = /^>= ?(\d+\.\d+\.\d+)$/.exec(range)
  if (!floor) fail(`${pkg}: engines.node ${range} is not of the form ">= x.y.z"`)
  if (!atLeast(version(process.versions.node), version(floor[1]))) fail(`Node ${process.version} is below ${pkg}'s engines ${range}`)
}

console.log(
  `Node ${process.version}, glibc ${report.header.glibcVersionRuntime}, wx-media ${wx.version()} from ${path.relative(process.cwd(), loaded[0])}`,
)
