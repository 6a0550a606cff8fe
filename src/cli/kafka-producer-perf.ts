/**
 * The `kafka-producer-perf` executable (package.json "bin"; built by tsup
 * into dist/kafka-producer-perf.js with a node shebang, importing the
 * library from dist/index.js). Wires the real clock, files, terminal and
 * signals into `runPerf`; docs/perf-cli.md describes the flags and output.
 */
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import { runPerf, type PerfIo } from './perf.js'

const io: PerfIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  readFile: (p) => fs.readFileSync(p),
  writeFile: (p, text) => fs.writeFileSync(p, text),
  resolvePath: (p) => path.resolve(p),
  nowMs: () => Date.now(),
  nowNs: () => Math.round(performance.now() * 1e6),
  sleep: (ms) => sleep(ms).then(() => undefined),
  yieldToEventLoop: () => nextTurn().then(() => undefined),
  every: (ms, fn) => {
    const t = setInterval(fn, ms)
    t.unref()
    return () => clearInterval(t)
  },
  onInterrupt: (fn) => {
    let count = 0
    const handler = (): void => {
      // A second Ctrl-C does not wait for the records in flight.
      if (++count > 1) process.exit(130)
      fn()
    }
    process.on('SIGINT', handler)
    return () => process.off('SIGINT', handler)
  },
}

process.exitCode = await runPerf(process.argv.slice(2), io)
