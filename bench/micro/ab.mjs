// A/B runs of profile-send.mjs: the SDK of another tree (A, e.g. the commit
// before the optimisations) against this one (B), alternating A, B, A, B...
// so that both see the same machine noise, each run in a fresh process.
// Prints every run and the medians.
//
//   node bench/micro/ab.mjs <treeA> [variants=acks1,idem] [rounds=5]
//
// Make tree A with, for example:
//   mkdir /tmp/base && git archive <commit> src | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/
// Environment is passed through (MOCK_NODELAY, RECORDS, ...).
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const [treeA, variantsArg = 'acks1,idem', roundsArg = '5'] = process.argv.slice(2)
if (!treeA) {
  console.error('usage: ab.mjs <treeA> [variants] [rounds]')
  process.exit(2)
}
const driver = path.join(path.dirname(fileURLToPath(import.meta.url)), 'profile-send.mjs')
const trees = { A: path.resolve(treeA), B: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..') }
const keys = ['msgsPerSec', 'cpuSecondsPer1M', 'peakRssMB', 'p50Ms', 'p99Ms', 'p999Ms', 'cpuPercent']

for (const variant of variantsArg.split(',')) {
  const runs = { A: [], B: [] }
  for (let i = 0; i < Number(roundsArg); i++) {
    for (const side of ['A', 'B']) {
      const r = spawnSync(process.execPath, [driver, variant], {
        env: { ...process.env, SDK_ROOT: trees[side], JSON: '1' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      if (r.status !== 0) {
        console.error(`${variant} ${side}: exit ${r.status}`)
        continue
      }
      const res = JSON.parse(r.stdout.trim().split('\n').pop())
      runs[side].push(res)
      console.log(`${variant} ${side} #${i + 1}: ` + keys.filter((k) => k in res).map((k) => `${k} ${res[k]}`).join('  '))
    }
  }
  for (const side of ['A', 'B']) {
    const med = {}
    for (const k of keys) {
      const vals = runs[side].map((x) => x[k]).filter((v) => typeof v === 'number').sort((a, b) => a - b)
      if (vals.length > 0) med[k] = vals[vals.length >> 1]
    }
    console.log(`${variant} ${side} median of ${runs[side].length}: ` + Object.entries(med).map(([k, v]) => `${k} ${v}`).join('  '))
  }
}
