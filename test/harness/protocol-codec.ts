/**
 * Drives test/harness/java/ProtocolCodec.java: one JVM, one command per stdin
 * line, one answer line per command, answered in order (so requests may be
 * pipelined). Used by scripts/gen-golden.mjs and the Java cross-check test.
 *
 * Classpath: .cache/kafka/4.4.0/libs once scripts/ensure-deps.mjs has
 * completed it (its `.complete` marker), else $KAFKA_LIBS. There is no silent
 * skip: without either, {@link kafkaLibs} throws saying what to run.
 *
 * The helper class: .cache/javahelpers/ProtocolCodec.class (or
 * $JAVA_HELPERS_DIR/ProtocolCodec.class) when compiled from the current source, else the source file itself in Java's
 * source-file mode (compiled in memory at launch, about a second slower).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const KAFKA_VERSION = '4.4.0'
const SOURCE = path.join(ROOT, 'test', 'harness', 'java', 'ProtocolCodec.java')
const COMPILED_DIR = path.join(ROOT, '.cache', 'javahelpers')

/** The directory of Kafka jars to run against; throws with instructions when there is none. */
export function kafkaLibs(): string {
  const cached = path.join(ROOT, '.cache', 'kafka', KAFKA_VERSION)
  if (fs.existsSync(path.join(cached, '.complete')) && fs.existsSync(path.join(cached, 'libs', `kafka-clients-${KAFKA_VERSION}.jar`))) {
    return path.join(cached, 'libs')
  }
  const env = process.env.KAFKA_LIBS
  if (env) {
    if (!fs.existsSync(path.join(env, `kafka-clients-${KAFKA_VERSION}.jar`))) {
      throw new Error(`KAFKA_LIBS=${env} holds no kafka-clients-${KAFKA_VERSION}.jar`)
    }
    return env
  }
  throw new Error(
    `Kafka ${KAFKA_VERSION} jars not found: ${path.relative(ROOT, cached)}/libs is not complete and KAFKA_LIBS is not set. ` +
      `Run 'node scripts/ensure-deps.mjs --for test' (or set KAFKA_LIBS to a directory with kafka-clients-${KAFKA_VERSION}.jar, ` +
      'jackson-databind and slf4j-api).',
  )
}

function javaArgs(libs: string): string[] {
  // $JAVA_HELPERS_DIR: a private build of the helpers (javac -d <dir> test/harness/java/*.java),
  // for a worktree whose source is newer than the shared .cache/javahelpers.
  const dir = process.env.JAVA_HELPERS_DIR || COMPILED_DIR
  const compiled = path.join(dir, 'ProtocolCodec.class')
  const fresh = fs.existsSync(compiled) && fs.statSync(compiled).mtimeMs >= fs.statSync(SOURCE).mtimeMs
  const common = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1']
  const cp = path.join(libs, '*')
  return fresh
    ? [...common, '-cp', `${dir}${path.delimiter}${cp}`, 'ProtocolCodec']
    : [...common, '-cp', cp, SOURCE]
}

/**
 * ProtocolCodec.java writes integers outside the safe range as "int64:<decimal>"
 * (JSON.parse would round them to a double); this turns them back into bigints.
 */
function reviveInt64(_key: string, value: unknown): unknown {
  return typeof value === 'string' && /^int64:-?\d+$/.test(value) ? BigInt(value.slice(6)) : value
}

export interface JavaRequestParse {
  headerVersion: number
  header: unknown
  body: unknown
  /** Kafka's own serialization of the parsed header and body, as hex. */
  reencoded: string
}

export class JavaCodec {
  private readonly waiting: { resolve: (s: string) => void; reject: (e: Error) => void }[] = []
  private stderr = ''
  private exited: Error | null = null

  private constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    proc.stderr.setEncoding('utf8')
    proc.stderr.on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-8000)
    })
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const w = this.waiting.shift()
      if (w === undefined) return
      if (line.startsWith('OK ')) w.resolve(line.slice(3))
      else w.reject(new Error(`Java ProtocolCodec: ${line.startsWith('ERR ') ? line.slice(4) : line}`))
    })
    const fail = (e: Error) => {
      this.exited = e
      for (const w of this.waiting.splice(0)) w.reject(e)
    }
    proc.on('error', (e) => fail(new Error(`cannot run java: ${e.message}`)))
    proc.on('exit', (code, signal) => fail(new Error(`Java ProtocolCodec exited (${code ?? signal}); stderr:\n${this.stderr}`)))
  }

  static start(): JavaCodec {
    const proc = spawn('java', javaArgs(kafkaLibs()), { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
    return new JavaCodec(proc)
  }

  private call(line: string): Promise<string> {
    if (this.exited) return Promise.reject(this.exited)
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject })
      this.proc.stdin.write(`${line}\n`)
    })
  }

  /**
   * Parses a request frame (no size prefix) with Kafka's RequestHeader and
   * generated XxxRequestData. Integers beyond 2^53 come back as bigints.
   */
  async parseRequest(apiKey: number, version: number, frame: Buffer): Promise<JavaRequestParse> {
    return JSON.parse(await this.call(`REQ ${apiKey} ${version} ${frame.toString('hex')}`), reviveInt64) as JavaRequestParse
  }

  /** Encodes a response frame (header + body, no size prefix) from XxxResponseData JSON text. */
  async encodeResponse(apiKey: number, version: number, correlationId: number, json: string): Promise<Buffer> {
    if (json.includes('\n')) throw new Error('response JSON must be one line')
    return Buffer.from(await this.call(`RES ${apiKey} ${version} ${correlationId} ${json}`), 'hex')
  }

  /** Decodes a response frame with Kafka's generated XxxResponseData. Integers beyond 2^53 come back as bigints. */
  async decodeResponse(apiKey: number, version: number, frame: Buffer): Promise<{ header: unknown; body: unknown }> {
    return JSON.parse(await this.call(`RESDEC ${apiKey} ${version} ${frame.toString('hex')}`), reviveInt64) as { header: unknown; body: unknown }
  }

  async close(): Promise<void> {
    if (this.exited) return
    const done = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()))
    this.proc.stdin.end()
    await done
  }
}
