/**
 * Drives test/harness/java/CompressionCodec.java: Kafka's own
 * org.apache.kafka.common.compress classes (kafka-clients 4.4.0) in one JVM,
 * one command per stdin line, one answer line per command, in order.
 *
 * Classpath and failure without jars as test/harness/protocol-codec.ts
 * (kafkaLibs: no silent skip). The class: .cache/javahelpers/CompressionCodec.class
 * when scripts/ensure-deps.mjs compiled it from the current source, else the
 * source file in Java's source-file mode.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { CompressionCodec } from '../../src/protocol/compression/index.js'
import { kafkaLibs, ROOT } from './protocol-codec.js'

const SOURCE = path.join(ROOT, 'test', 'harness', 'java', 'CompressionCodec.java')
const COMPILED_DIR = path.join(ROOT, '.cache', 'javahelpers')

function javaArgs(libs: string): string[] {
  const compiled = path.join(COMPILED_DIR, 'CompressionCodec.class')
  const fresh = fs.existsSync(compiled) && fs.statSync(compiled).mtimeMs >= fs.statSync(SOURCE).mtimeMs
  const common = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1']
  const cp = path.join(libs, '*')
  return fresh ? [...common, '-cp', `${COMPILED_DIR}${path.delimiter}${cp}`, 'CompressionCodec'] : [...common, '-cp', cp, SOURCE]
}

export interface JavaLevels {
  gzip: { min: number; max: number; default: number }
  lz4: { min: number; max: number; default: number }
  zstd: { min: number; max: number; default: number }
}

export class JavaCompression {
  private readonly waiting: { resolve: (s: string) => void; reject: (e: Error) => void }[] = []
  private stderr = ''
  private exited: Error | null = null

  private constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    proc.stderr.setEncoding('utf8')
    proc.stderr.on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-8000)
    })
    createInterface({ input: proc.stdout, crlfDelay: Infinity }).on('line', (line) => {
      const w = this.waiting.shift()
      if (w === undefined) return
      if (line.startsWith('OK ')) w.resolve(line.slice(3))
      else w.reject(new Error(`Java CompressionCodec: ${line.startsWith('ERR ') ? line.slice(4) : line}`))
    })
    const fail = (e: Error) => {
      this.exited = e
      for (const w of this.waiting.splice(0)) w.reject(e)
    }
    proc.on('error', (e) => fail(new Error(`cannot run java: ${e.message}`)))
    proc.on('exit', (code, signal) => fail(new Error(`Java CompressionCodec exited (${code ?? signal}); stderr:\n${this.stderr}`)))
  }

  static start(): JavaCompression {
    return new JavaCompression(spawn('java', javaArgs(kafkaLibs()), { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] }))
  }

  private call(line: string): Promise<string> {
    if (this.exited) return Promise.reject(this.exited)
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject })
      this.proc.stdin.write(`${line}\n`)
    })
  }

  /** Java's frame for `input`: `Compression.<codec>().level(level)`, or the default level. */
  async compress(codec: CompressionCodec, level: number | 'default', input: Buffer): Promise<Buffer> {
    return Buffer.from(await this.call(`COMPRESS ${codec} ${level} ${input.toString('base64')}`), 'base64')
  }

  /** What Java's `wrapForInput` reads from `frame`; rejects with Kafka's exception. */
  async decompress(codec: CompressionCodec, frame: Buffer): Promise<Buffer> {
    return Buffer.from(await this.call(`DECOMPRESS ${codec} ${frame.toString('base64')}`), 'base64')
  }

  async levels(): Promise<JavaLevels> {
    return JSON.parse(await this.call('LEVELS')) as JavaLevels
  }

  /** Runs ProducerConfig's parser and validator for one value: its default when valid, rejects otherwise. */
  async validate(name: string, value: string): Promise<{ default: string }> {
    return JSON.parse(await this.call(`VALIDATE ${name} ${value}`)) as { default: string }
  }

  async close(): Promise<void> {
    if (this.exited) return
    const done = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()))
    this.proc.stdin.end()
    await done
  }
}
