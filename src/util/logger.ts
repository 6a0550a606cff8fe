/**
 * Structured fields of a log line. `event` names what happened (a stable
 * key, e.g. 'connection.failed'); the rest describe it: the broker, the
 * request, the error. Never configuration values, never credentials.
 */
export interface EventFields {
  /** What happened, a stable key such as 'connection.failed' (docs/observability.md lists them). */
  readonly event: string
  /** Broker id; negative for a bootstrap address. */
  readonly nodeId?: number
  /** The broker's `host:port`. */
  readonly broker?: string
  /** The request's correlation id on its connection, when the event concerns one request. */
  readonly correlationId?: number
  /** Kafka's error code, when a broker answered with one. */
  readonly errorCode?: number
  /** The cause in a word or two: an errno (ECONNREFUSED), a Kafka error name, a failure kind. */
  readonly cause?: string
  /** The error itself (pino's `err` serializer prints its stack). */
  readonly err?: Error
  /** How many times this cause occurred before, when it is logged again (at debug level, or at its level after a quiet period). */
  readonly repeated?: number
  readonly [field: string]: unknown
}

/** What a logger receives: the event's fields and the producer's client.id. */
export interface LogFields extends EventFields {
  /** The producer's client.id, telling producers in one process apart. */
  readonly clientId: string
}

/** One level of a logger: called as pino and bunyan are, fields first, then the message. */
export type LogMethod = (fields: LogFields, message: string) => void

/**
 * What the `logger` option takes: pino, bunyan, `console`, or any object
 * with these methods. We call `logger.warn(fields, message)`: the
 * pino/bunyan order, so their structured output carries the fields; console
 * prints the object, then the message. `warn` and `error` are required;
 * `debug` and `info` are used when present.
 */
export interface Logger {
  /** Optional: repeats of a cause already logged (with `repeated`), and batch retries. */
  debug?: LogMethod
  /** Optional; accepted as pino, bunyan and console have it (nothing is logged at info level yet). */
  info?: LogMethod
  /** Runtime faults, once per cause: a failed connection, failed records, a throwing interceptor, a misconfiguration. */
  warn: LogMethod
  /** Bugs: a send pass, the network poll or a response handler threw; the producer carries on. */
  error: LogMethod
}

/** Distinct causes remembered per producer, at most (oldest forgotten first): memory stays bounded. */
const MAX_CAUSES = 1024

/**
 * A cause logged this long ago is logged at its level again (with
 * `repeated`): a later incident of the same kind is not hidden at debug
 * level, and a cause that never ends is still seen every few minutes.
 */
export const RELOG_AFTER_MS = 5 * 60_000

/**
 * The part of a cause key that names what was thrown: the error's class
 * name, never its message (messages carry ids and offsets, and a key per
 * message would defeat once-per-cause).
 */
export function errorKind(err: unknown): string {
  return err instanceof Error ? err.name : typeof err
}

/**
 * The producer's logging seam: every runtime fault goes through one of these
 * (one per producer), to the configured logger or to the default one, which
 * writes warnings and errors to stderr.
 *
 * Invariants:
 * - `warn` and `error` log once per cause key, not once per record or per
 *   reconnect attempt: a repeat goes to `debug` (when the logger has one)
 *   with `repeated`, until `forget` ends the cause (a broker that connects
 *   again), after which a new occurrence is logged again, or until
 *   RELOG_AFTER_MS have passed since the key was last logged at its level,
 *   after which the next occurrence is logged at that level with `repeated`.
 * - At most MAX_CAUSES keys are remembered.
 * - A logger that throws does not break the producer: the line is lost.
 */
export class LogSink {
  /** Per cause key: occurrences so far, and when it was last logged at its level. */
  private readonly seen = new Map<string, { count: number; loggedMs: number }>()

  constructor(
    private readonly logger: Logger,
    readonly clientId: string,
    /** The producer's clock, for RELOG_AFTER_MS. */
    private readonly time: () => number = Date.now,
  ) {}

  /**
   * Whether `debug` goes anywhere: a caller checks this before building a
   * debug line's message and fields, so nothing is allocated for a logger
   * without `debug` (the default one).
   */
  get debugEnabled(): boolean {
    return this.logger.debug !== undefined
  }

  warn(cause: string, message: string, fields: EventFields): void {
    this.once('warn', cause, message, fields)
  }

  error(cause: string, message: string, fields: EventFields): void {
    this.once('error', cause, message, fields)
  }

  /** Every time, when the logger has a `debug` (the default logger has none). */
  debug(message: string, fields: EventFields): void {
    const fn = this.logger.debug
    if (fn !== undefined) this.call(fn, { clientId: this.clientId, ...fields }, message)
  }

  /** Causes whose key starts with `prefix` have ended: their next occurrence is logged again. */
  forget(prefix: string): void {
    if (this.seen.size === 0) return
    for (const key of this.seen.keys()) if (key.startsWith(prefix)) this.seen.delete(key)
  }

  private once(level: 'warn' | 'error', cause: string, message: string, fields: EventFields): void {
    const nowMs = this.time()
    const s = this.seen.get(cause)
    if (s !== undefined) {
      const repeated = s.count++
      if (nowMs - s.loggedMs < RELOG_AFTER_MS) {
        const fn = this.logger.debug
        if (fn !== undefined) this.call(fn, { clientId: this.clientId, ...fields, repeated }, message)
        return
      }
      // Quiet for long enough at this level: log it there again, newest last in the eviction order.
      s.loggedMs = nowMs
      this.seen.delete(cause)
      this.seen.set(cause, s)
      this.call(this.logger[level], { clientId: this.clientId, ...fields, repeated }, message)
      return
    }
    if (this.seen.size >= MAX_CAUSES) this.seen.delete(this.seen.keys().next().value!)
    this.seen.set(cause, { count: 1, loggedMs: nowMs })
    this.call(this.logger[level], { clientId: this.clientId, ...fields }, message)
  }

  private call(fn: LogMethod, fields: LogFields, message: string): void {
    try {
      fn.call(this.logger, fields, message)
    } catch {
      // A failing logger must not fail a send or stop the sender loop.
    }
  }
}

/**
 * The default logger: warnings and errors as one line each on stderr
 * (`[WARN] kafka-producer-ts: <message> (clientId=… nodeId=1 broker=h:9092 cause=ECONNREFUSED)`),
 * with the error's stack for errors; debug and info are dropped.
 */
export function stderrLogger(): Logger {
  return {
    warn: (fields, message) => writeLine('WARN', fields, message),
    error: (fields, message) => writeLine('ERROR', fields, message),
  }
}

const SHOWN_FIELDS = ['clientId', 'nodeId', 'broker', 'correlationId', 'errorCode', 'cause'] as const

function writeLine(level: string, fields: LogFields, message: string): void {
  const parts: string[] = []
  for (const k of SHOWN_FIELDS) {
    const v = fields[k]
    if (v !== undefined && v !== '') parts.push(`${k}=${String(v)}`)
  }
  // Messages name the package already ("kafka-producer-ts: ..."); the level goes in front.
  const text = message.startsWith('kafka-producer-ts') ? message : `kafka-producer-ts: ${message}`
  let line = `[${level}] ${text}${parts.length > 0 ? ` (${parts.join(' ')})` : ''}\n`
  if (level === 'ERROR' && fields.err !== undefined) line += `${fields.err.stack ?? String(fields.err)}\n`
  const stderr = typeof process !== 'undefined' ? process.stderr : undefined
  if (stderr !== undefined && typeof stderr.write === 'function') stderr.write(line)
  else console.error(line.trimEnd())
}

/** True for an object that can serve as a Logger (warn and error functions; debug and info functions when present). */
export function isLogger(value: unknown): value is Logger {
  if (value === null || typeof value !== 'object') return false
  const o = value as Record<string, unknown>
  const optional = (f: unknown): boolean => f === undefined || typeof f === 'function'
  return typeof o.warn === 'function' && typeof o.error === 'function' && optional(o.debug) && optional(o.info)
}
