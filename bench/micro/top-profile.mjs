// Self time by function from a V8 .cpuprofile (node --cpu-prof), top N.
//
//   node bench/micro/top-profile.mjs <file.cpuprofile> [N=30] [--by-file] [--lines=FUNCTION] [--callers=FUNCTION]
//
// Self time of a node = its hit count x the average sampling interval; nodes
// are merged by function name + script + line (or by script with --by-file).
// "(garbage collector)", "(program)" and "(idle)" are V8's own buckets.
import fs from 'node:fs'
import path from 'node:path'

const args = process.argv.slice(2)
const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a))
const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 30)
const byFile = args.includes('--by-file')
const linesOf = (args.find((a) => a.startsWith('--lines=')) ?? '').slice('--lines='.length)
const callersOf = (args.find((a) => a.startsWith('--callers=')) ?? '').slice('--callers='.length)
if (!file) {
  console.error('usage: top-profile.mjs <file.cpuprofile> [N] [--by-file]')
  process.exit(2)
}
const prof = JSON.parse(fs.readFileSync(file, 'utf8'))
if (prof.head !== undefined) {
  // A sampling heap profile (.heapprofile): bytes allocated by function (self), top N.
  const bytes = new Map()
  const walk = (node) => {
    const cf = node.callFrame
    const script = cf.url ? path.basename(cf.url) : ''
    const key = byFile ? script || cf.functionName || '(native)' : `${cf.functionName || '(anonymous)'} ${script}${script ? ':' + (cf.lineNumber + 1) : ''}`
    const self = node.selfSize ?? 0
    if (self > 0) bytes.set(key, (bytes.get(key) ?? 0) + self)
    for (const c of node.children ?? []) walk(c)
  }
  walk(prof.head)
  const total = [...bytes.values()].reduce((a, b) => a + b, 0)
  console.log(`${file}: ${(total / 1048576).toFixed(1)} MB sampled allocations`)
  console.log('      MB       %  function')
  for (const [k, b] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${(b / 1048576).toFixed(1).padStart(8)}  ${((100 * b) / total).toFixed(1).padStart(6)}  ${k}`)
  }
  process.exit(0)
}
if (callersOf) {
  // Self time of one function split by its caller chain (up to 3 frames).
  const parent = new Map()
  for (const node of prof.nodes) for (const c of node.children ?? []) parent.set(c, node)
  const byId = new Map(prof.nodes.map((x) => [x.id, x]))
  const chains = new Map()
  for (const node of prof.nodes) {
    if (node.callFrame.functionName !== callersOf || !node.hitCount) continue
    const names = []
    let p = parent.get(node.id)
    while (p !== undefined && names.length < 3) {
      const pn = byId.get(p.id ?? p)
      names.push(pn.callFrame.functionName || '(anonymous)')
      p = parent.get(pn.id)
    }
    const key = names.join(' < ')
    chains.set(key, (chains.get(key) ?? 0) + node.hitCount)
  }
  for (const [k, h] of [...chains].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${String(h).padStart(6)}  ${k}`)
  process.exit(0)
}
if (linesOf) {
  // Self ticks of one function by source line of the bundle (V8's positionTicks), for where inside it the time goes.
  const lines = new Map()
  for (const node of prof.nodes) {
    if (node.callFrame.functionName !== linesOf) continue
    for (const pt of node.positionTicks ?? []) lines.set(pt.line, (lines.get(pt.line) ?? 0) + pt.ticks)
  }
  const url = prof.nodes.find((x) => x.callFrame.functionName === linesOf)?.callFrame.url
  const src = url && url.startsWith('file://') ? fs.readFileSync(new URL(url), 'utf8').split('\n') : []
  const total = [...lines.values()].reduce((a, b) => a + b, 0)
  for (const [line, t] of [...lines].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${String(t).padStart(6)} ${((100 * t) / total).toFixed(1).padStart(5)}%  ${String(line).padStart(6)}: ${(src[line - 1] ?? '').trim().slice(0, 110)}`)
  }
  process.exit(0)
}
const totalUs = prof.endTime - prof.startTime
const samples = prof.samples.length
const usPerSample = totalUs / Math.max(samples, 1)
const hits = new Map()
for (const node of prof.nodes) {
  const cf = node.callFrame
  const script = cf.url ? path.basename(cf.url) : ''
  const key = byFile ? script || cf.functionName || '(native)' : `${cf.functionName || '(anonymous)'} ${script}${script ? ':' + (cf.lineNumber + 1) : ''}`
  hits.set(key, (hits.get(key) ?? 0) + (node.hitCount ?? 0))
}
const idle = [...hits].filter(([k]) => k.startsWith('(idle)')).reduce((s, [, h]) => s + h, 0)
const busy = samples - idle
const rows = [...hits].filter(([, h]) => h > 0).sort((a, b) => b[1] - a[1]).slice(0, n)
console.log(`${file}: ${(totalUs / 1000).toFixed(0)} ms, ${samples} samples, busy ${((busy * usPerSample) / 1000).toFixed(0)} ms (idle excluded from %)`)
console.log('  self ms   % busy  function')
for (const [k, h] of rows) {
  const ms = (h * usPerSample) / 1000
  const pct = k.startsWith('(idle)') ? '' : ((100 * h) / busy).toFixed(1)
  console.log(`${ms.toFixed(1).padStart(8)}  ${pct.padStart(6)}  ${k}`)
}
