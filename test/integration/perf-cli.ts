// Runs the built kafka-producer-perf (dist/, as `npm test` builds it before
// vitest; built here with tsup when missing or older than a file in src/) for the perf-cli tests.
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

export const ROOT = path.resolve(import.meta.dirname, '..', '..')
export const CLI = path.join(ROOT, 'dist', 'kafka-producer-perf.js')
/** The Node that runs the CLI: this one, or `node` from PATH when the tests run under Bun or Deno (the bin's shebang names node). */
export const NODE = process.versions.bun !== undefined || 'Deno' in globalThis ? 'node' : process.execPath

function newestMtime(dir: string): number {
  let t = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs)
  }
  return t
}

export function ensureBuiltCli(): void {
  const built = (f: string): number => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0)
  const src = newestMtime(path.join(ROOT, 'src'))
  if (built(CLI) < src || built(path.join(ROOT, 'dist', 'index.js')) < src) execFileSync('npx', ['tsup'], { cwd: ROOT, stdio: 'ignore' })
}

export function runCli(args: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Java's summary line, parsed. */
export const SUMMARY =
  /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$/m
