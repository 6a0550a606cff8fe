// Loads the SDK for the micro-benchmarks and the profile driver: src/ bundled
// with esbuild (the bundler tsup uses, same target), so what runs is what
// `dist/` ships, with readable function names in CPU profiles and no loader
// in the way. The bundle also re-exports the internals the micro-benchmarks
// drive directly.
//
// SDK_ROOT=<dir> bundles <dir>/src instead (resolving packages from
// <dir>/node_modules), for A/B runs against another commit (ab.mjs).
//
// The bundle is built by a child process (this file run as a script), so
// esbuild, whose synchronous API keeps a worker thread and ~24 MB of RSS,
// never loads into the process being measured.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
/** The tree whose src/ is bundled: this repository, or SDK_ROOT (e.g. an export of another commit, for A/B runs). */
export const ROOT = process.env.SDK_ROOT ? path.resolve(process.env.SDK_ROOT) : REPO
export const MOCKCLUSTER_BIN = path.join(REPO, '.cache', 'mockcluster', 'mockcluster')

const ENTRY = `
export * from './src/index.ts'
export { ProducerBatch } from './src/producer/producer-batch.ts'
export { RecordAccumulator, UNKNOWN_PARTITION } from './src/producer/record-accumulator.ts'
export { BufferPool } from './src/producer/buffer-pool.ts'
export { BuiltInPartitioner } from './src/producer/partitioner.ts'
export * as partitioner from './src/producer/partitioner.ts'
export { Cluster } from './src/clients/cluster.ts'
export { validateRecord } from './src/producer/record.ts'
export * as recordBatch from './src/protocol/record-batch.ts'
export * as varint from './src/protocol/varint.ts'
export { encodeRequest, decodeResponse } from './src/protocol/api.ts'
export { ProduceApi } from './src/protocol/apis/produce.ts'
export * as sender from './src/producer/sender.ts'
`

async function build(outfile) {
  const { buildSync } = await import('esbuild')
  buildSync({
    stdin: { contents: ENTRY, resolveDir: ROOT, sourcefile: 'bench-entry.ts', loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile,
    // crc-32 is CommonJS: give the bundle a require() for what it may ask for.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
  })
}

let loaded = null

/** The bundled SDK module (public API plus internals), built fresh from src/ once per process. */
export async function loadSdk() {
  if (loaded !== null) return loaded
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpts-micro-'))
  const outfile = path.join(dir, 'sdk.mjs')
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), outfile], { stdio: 'inherit' })
  if (r.status !== 0) throw new Error('building the SDK bundle failed')
  loaded = await import(pathToFileURL(outfile).href)
  return loaded
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build(process.argv[2])
