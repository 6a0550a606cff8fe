import { inspect } from 'node:util'

const HIDDEN = '[hidden]'

/**
 * A value that must never be printed: a password, a client secret, a private
 * key or its passphrase, a JAAS config line. Like Java's `Password` config
 * type, every way of turning it into text (`String()`, template literals,
 * `JSON.stringify`, `util.inspect`, `console.log`) yields `[hidden]`; only
 * {@link Secret.reveal} returns the value, and only code that hands it to the
 * wire or to `tls.connect` should call it.
 *
 * @example
 * ```ts
 * const password = new Secret(process.env.KAFKA_PASSWORD!)
 * console.log(`${password}`, JSON.stringify({ password })) // [hidden] {"password":"[hidden]"}
 * const producer = new KafkaProducer({ bootstrapServers: 'b:9093', securityProtocol: 'SASL_SSL', sasl: { mechanism: 'PLAIN', username: 'app', password } })
 * ```
 *
 * Invariant: the value lives in an ES private field, so it is not an own
 * enumerable property (not copied by spread, `Object.assign` or
 * `structuredClone`, not listed by `Object.keys`) and not shown by inspect.
 */
export class Secret {
  readonly #value: string | Buffer

  /** Wraps `value`, which from now on prints as `[hidden]`. */
  constructor(value: string | Buffer) {
    this.#value = value
  }

  /** Wraps a plain value; a Secret is returned as is. */
  static of(value: string | Buffer | Secret): Secret {
    return value instanceof Secret ? value : new Secret(value)
  }

  /** The wrapped value. */
  reveal(): string | Buffer {
    return this.#value
  }

  /** The wrapped value as text (a Buffer is decoded as UTF-8). */
  revealString(): string {
    const v = this.#value
    return typeof v === 'string' ? v : v.toString('utf8')
  }

  /** True when both hold the same bytes. */
  equals(other: Secret): boolean {
    const a = this.#value
    const b = other.#value
    if (typeof a === 'string' && typeof b === 'string') return a === b
    return Buffer.from(a).equals(Buffer.from(b))
  }

  /** `[hidden]`, never the value. */
  toString(): string {
    return HIDDEN
  }

  /** `[hidden]`, so `JSON.stringify` never shows the value. */
  toJSON(): string {
    return HIDDEN
  }

  /** `[hidden]`, for template literals and string concatenation. */
  [Symbol.toPrimitive](): string {
    return HIDDEN
  }

  /** `[hidden]`, for `util.inspect` and `console.log`. */
  [inspect.custom](): string {
    return HIDDEN
  }
}
