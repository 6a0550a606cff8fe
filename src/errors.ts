/**
 * Every error this library raises is a KafkaClientError, so callers can branch
 * on `instanceof` or on the stable `code` string without parsing messages.
 * (Cancellations are the exception: they reject with a `DOMException` named
 * `AbortError`, as Node's own APIs do.)
 *
 * @example
 * ```ts
 * import { KafkaBrokerError, KafkaClientError } from 'kafka-producer-ts'
 *
 * try {
 *   await producer.send({ topic: 'events', value: 'v' })
 * } catch (err) {
 *   if (err instanceof KafkaBrokerError && err.errorName === 'TOPIC_AUTHORIZATION_FAILED') denyAccess()
 *   else if (err instanceof KafkaClientError && err.retriable) retryLater()
 *   else throw err
 * }
 * ```
 */
export class KafkaClientError extends Error {
  /** Stable machine-readable identifier, e.g. 'CONFIG', 'TIMEOUT', 'PROTOCOL'. */
  readonly code: string
  /** True when sending the same data again may succeed. */
  readonly retriable: boolean

  constructor(code: string, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined)
    this.name = new.target.name
    this.code = code
    this.retriable = options?.retriable ?? false
  }
}

/** A configuration key is unknown, or its value has the wrong type or range. */
export class KafkaConfigError extends KafkaClientError {
  /** The option at fault, under the name it was given ('(config)' when the whole object is wrong). */
  readonly key: string
  constructor(key: string, message: string) {
    super('CONFIG', `Invalid producer config '${key}': ${message}`)
    this.key = key
  }
}

/**
 * The broker (or the client's own check of the broker, such as a SCRAM
 * server signature, or the OAuth token endpoint) rejected this client's
 * credentials: Java's `SaslAuthenticationException` / `AuthenticationException`.
 * Not retriable: the same credentials give the same answer. The message holds
 * the broker's error message when it sent one, never a credential.
 */
export class KafkaAuthenticationError extends KafkaClientError {
  /** The error message the broker sent (SaslAuthenticate error_message), if any. */
  readonly brokerMessage: string | undefined
  constructor(message: string, options?: { cause?: unknown; brokerMessage?: string; code?: string }) {
    super(options?.code ?? 'AUTHENTICATION', message, options?.cause !== undefined ? { cause: options.cause } : undefined)
    this.brokerMessage = options?.brokerMessage
  }
}

/**
 * The TLS handshake with a broker failed, or one side is not speaking TLS
 * (Java's `SslAuthenticationException`, an `AuthenticationException`): an
 * unknown CA, a certificate for another host, an expired certificate, a
 * rejected client certificate, a TLS alert, a plaintext client on a TLS
 * listener. Not retriable: the same settings meet the same certificate.
 * `reason` is Node's / OpenSSL's code (e.g. `CERT_HAS_EXPIRED`,
 * `ERR_TLS_CERT_ALTNAME_INVALID`) or this library's
 * `PLAINTEXT_ON_TLS_LISTENER`. A peer that closes the TLS handshake without
 * an alert (a plaintext listener, a broker restarting) is not one of these:
 * as Java's EOF during the handshake, that is a retriable network error.
 */
export class KafkaTlsError extends KafkaAuthenticationError {
  /** Node's or OpenSSL's error code (`EPROTO` included), or `PLAINTEXT_ON_TLS_LISTENER`. */
  readonly reason: string
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, { ...(options?.cause !== undefined ? { cause: options.cause } : {}), code: 'TLS' })
    this.reason = reason
  }
}

/** The application passed a record that can never be sent (bad topic, bad type, too large...). */
export class KafkaInvalidRecordError extends KafkaClientError {
  constructor(message: string) {
    super('INVALID_RECORD', message)
  }
}

/**
 * A wait bounded by a configured timeout ran out.
 *
 * When connections to brokers were failing, a max.block.ms (metadata,
 * buffer.memory) or delivery.timeout.ms timeout says so: its message ends
 * with a one-line summary (`; no broker reachable: 127.0.0.1:9092
 * ECONNREFUSED (12 attempts)`) and its `cause` is an `AggregateError` of one
 * {@link KafkaConnectionError} per failing broker. A standard AggregateError
 * rather than a class of ours: the cause holds several errors, which is what
 * AggregateError is for, and Node's inspector, loggers and error trackers
 * already print its `errors`; every error inside it is ours, typed, with a
 * stable `code`.
 *
 * @example
 * ```ts
 * try {
 *   await producer.send({ topic: 'events', value: 'v' })
 * } catch (err) {
 *   if (err instanceof KafkaTimeoutError && err.cause instanceof AggregateError) {
 *     for (const c of err.cause.errors as KafkaConnectionError[]) console.error(c.host, c.port, c.kind, c.attempts)
 *   }
 * }
 * ```
 */
export class KafkaTimeoutError extends KafkaClientError {
  constructor(message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super('TIMEOUT', message, { retriable: options?.retriable ?? true, ...(options?.cause !== undefined ? { cause: options.cause } : {}) })
  }
}

/** Bytes from the network could not be decoded: truncated, oversized, or garbage. */
export class KafkaProtocolError extends KafkaClientError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PROTOCOL', message, { retriable: true, ...options })
  }
}

/** A connection failed or was closed while requests were in flight. */
export class KafkaNetworkError extends KafkaClientError {
  /** The broker id of the connection, when known (negative for a bootstrap address). */
  readonly nodeId: number | undefined
  constructor(message: string, nodeId?: number, options?: { cause?: unknown }) {
    super('NETWORK', message, { retriable: true, ...options })
    this.nodeId = nodeId
  }
}

/**
 * Why a connection to a broker failed, as recorded per broker (see
 * `ConnectionFailures` in src/clients/connection-failures.ts):
 * - DNS: the host name does not resolve (ENOTFOUND, EAI_AGAIN...).
 * - REFUSED: nothing listens on the port (ECONNREFUSED).
 * - RESET: the peer reset or closed the connection (ECONNRESET, EPIPE, a close
 *   during the ApiVersions handshake, a close by the broker).
 * - SETUP_TIMEOUT: the TCP connect did not finish within
 *   socket.connection.setup.timeout.ms (or the OS gave up: ETIMEDOUT).
 * - NOT_KAFKA: the peer answered with bytes that are not a Kafka frame (HTTP,
 *   a TLS record on a plaintext connection).
 * - TLS: the TLS handshake failed (once TLS exists).
 * - AUTHENTICATION: SASL authentication failed (once SASL exists).
 * - UNSUPPORTED_VERSION: the ApiVersions handshake found no common version.
 * - OTHER: anything else (unreachable network, a request timeout...).
 */
export type ConnectionFailureKind =
  | 'DNS'
  | 'REFUSED'
  | 'RESET'
  | 'SETUP_TIMEOUT'
  | 'NOT_KAFKA'
  | 'TLS'
  | 'AUTHENTICATION'
  | 'UNSUPPORTED_VERSION'
  | 'OTHER'

/** One cause of a broker's failing connection, with how often and when it last happened. */
export interface ConnectionFailureCause {
  /** What kind of failure it was. */
  readonly kind: ConnectionFailureKind
  /** The system or library error code when there is one ('ECONNREFUSED', 'ENOTFOUND', 'ERR_SSL_...'). */
  readonly errno: string | undefined
  /** The short label used in summaries: the errno, or a few words ('connection setup timed out'). */
  readonly label: string
  /** Connection attempts that failed with this cause since the broker's last successful handshake. */
  readonly attempts: number
  /** When it last happened (the client's clock). */
  readonly lastFailureMs: number
}

/**
 * The first bytes a peer sent were not a Kafka frame: something other than a
 * Kafka broker listens on that port. `looksLike` names what the bytes look
 * like (an HTTP status line, a TLS record), or is null when unknown.
 */
export class KafkaForeignProtocolError extends KafkaProtocolError {
  /** What the peer's bytes look like, or null when unknown. */
  readonly looksLike: 'HTTP' | 'TLS' | null
  constructor(looksLike: 'HTTP' | 'TLS' | null, message: string) {
    super(message)
    this.looksLike = looksLike
  }
}

/**
 * A broker's connection keeps failing: one per broker in the `cause` of a
 * {@link KafkaTimeoutError} (gathered in an `AggregateError`), so a timeout
 * says why no broker answered. Its message is the broker's summary line,
 * e.g. `127.0.0.1:9092 ECONNREFUSED (12 attempts)`; `cause` is the last
 * underlying error (the socket's, the framing's...).
 */
export class KafkaConnectionError extends KafkaNetworkError {
  /** The broker's host, as configured or as the metadata named it. */
  readonly host: string
  /** The broker's port. */
  readonly port: number
  /** The kind of the most recent failure. */
  readonly kind: ConnectionFailureKind
  /** The errno of the most recent failure, when it had one. */
  readonly errno: string | undefined
  /** Failed attempts since the last successful handshake, all causes together. */
  readonly attempts: number
  /** When the most recent failure happened (the client's clock). */
  readonly lastFailureMs: number
  /** Every distinct cause, oldest first, each with its own count. */
  readonly causes: readonly ConnectionFailureCause[]

  constructor(
    message: string,
    fields: { nodeId: number; host: string; port: number; causes: readonly ConnectionFailureCause[] },
    options?: { cause?: unknown },
  ) {
    super(message, fields.nodeId, options)
    this.host = fields.host
    this.port = fields.port
    this.causes = fields.causes
    const last = fields.causes.reduce((a, b) => (b.lastFailureMs >= a.lastFailureMs ? b : a))
    this.kind = last.kind
    this.errno = last.errno
    this.attempts = fields.causes.reduce((n, c) => n + c.attempts, 0)
    this.lastFailureMs = last.lastFailureMs
  }
}

/** The producer was closed; no more sends are accepted, or the pending ones were aborted. */
export class KafkaProducerClosedError extends KafkaClientError {
  constructor(message = 'The producer is closed') {
    super('PRODUCER_CLOSED', message)
  }
}

/** A broker answered with a non-zero Kafka error code. */
export class KafkaBrokerError extends KafkaClientError {
  /** Kafka's numeric error code (see {@link ERROR_CODES}). */
  readonly errorCode: number
  /** Kafka's error name, e.g. 'NOT_LEADER_OR_FOLLOWER'. */
  readonly errorName: string

  constructor(errorCode: number, errorName: string, retriable: boolean, message: string) {
    super(errorName, message, { retriable })
    this.errorCode = errorCode
    this.errorName = errorName
  }
}

/**
 * No version of an API is acceptable to both this client and the broker
 * (Java's `UnsupportedVersionException`): the broker is too old or too new for
 * what was asked of it. Not retriable: the same broker gives the same answer.
 */
export class UnsupportedVersionError extends KafkaClientError {
  constructor(message: string) {
    super('UNSUPPORTED_VERSION', message)
  }
}

/**
 * The producer can no longer send: fenced, not authorised, or the broker
 * cannot do idempotence. Every later send fails with it; close the producer.
 */
export class KafkaFatalProducerError extends KafkaClientError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, `${message}. This error is fatal: the producer cannot send any more records and must be closed`, options)
  }
}

/**
 * Internal: a `sasl.jaas.config` value could not be parsed. The config layer
 * turns it into a KafkaConfigError naming the key; the message never quotes
 * the value, which holds secrets.
 */
export class JaasParseError extends Error {}

/**
 * Internal: the OIDC token endpoint answered in a way a retry cannot fix
 * (Java's `UnretryableException` in the OAuth retriever); surfaced to the
 * application as a KafkaAuthenticationError.
 */
export class OidcUnretryableError extends Error {}

/**
 * A key or value serializer threw, or returned something that is not a
 * Buffer, a string or null (Java's `SerializationException`). Only the send
 * whose record it was fails; `cause` is what the serializer threw.
 */
export class KafkaSerializationError extends KafkaClientError {
  /** The record's topic. */
  readonly topic: string
  /** True for the key serializer, false for the value serializer. */
  readonly isKey: boolean
  constructor(topic: string, isKey: boolean, message: string, options?: { cause?: unknown }) {
    super('SERIALIZATION', `Can't serialize the ${isKey ? 'key' : 'value'} of a record for topic '${topic}': ${message}`, options)
    this.topic = topic
    this.isKey = isKey
  }
}

/**
 * A transactional method was called in a state that does not allow it
 * (Java's `IllegalStateException` from `TransactionManager`): commit without
 * begin, begin twice, a send outside a transaction, a call before
 * `initTransactions()`. `state` names the transaction manager's state
 * (`UNINITIALIZED`, `READY`, `IN_TRANSACTION`, ...). The state is unchanged:
 * fix the call order and go on.
 */
export class KafkaTransactionStateError extends KafkaClientError {
  /** The transaction manager's state when the call was refused. */
  readonly state: string
  constructor(state: string, message: string) {
    super('INVALID_TRANSACTION_STATE', `${message} (transaction state: ${state})`)
    this.state = state
  }
}

/**
 * The error a cancelled operation rejects with: a `DOMException` named
 * 'AbortError', as Node's own APIs (fetch, streams, timers/promises) reject,
 * with the signal's `reason` as its `cause`. Not a KafkaClientError: callers
 * test `err.name === 'AbortError'`, as for any other aborted Node operation.
 */
export function createAbortError(signal: AbortSignal): DOMException {
  return new DOMException('The operation was aborted', { name: 'AbortError', cause: signal.reason })
}

/**
 * A batch's codec failed while compressing it (a bug or a native failure, not
 * bad input: any bytes compress). Its records fail with this error, through
 * the same path as any other failed batch (with idempotence or transactions,
 * the partition's sequences are repaired and a transaction becomes
 * abortable). `codec` is the `compression.type` that failed; `cause` holds
 * the codec's own error.
 */
export class KafkaCompressionError extends KafkaClientError {
  /** The `compression.type` whose codec failed. */
  readonly codec: string
  constructor(codec: string, message: string, options?: { cause?: unknown }) {
    super('COMPRESSION', message, options)
    this.codec = codec
  }
}

/**
 * The current transaction cannot commit (Java's abortable errors: a failed
 * send inside it, `TRANSACTION_ABORTABLE`, a transaction the coordinator timed
 * out, a consumer group that rejected the offsets). `commitTransaction()` and
 * later sends reject with it until `abortTransaction()`, after which the
 * producer can begin a new transaction. `code` is the broker's error name
 * when one caused it; `cause` holds the original error.
 */
export class KafkaTransactionAbortableError extends KafkaClientError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, `${message}. Abort the transaction (abortTransaction()); the producer can then begin a new one`, options)
  }
}

/**
 * A record was discarded because its transaction was aborted before it was
 * sent (Java's `TransactionAbortedException`): it was never written.
 */
export class KafkaTransactionAbortedError extends KafkaClientError {
  constructor(message = 'The record was not sent: its transaction was aborted') {
    super('TRANSACTION_ABORTED', message)
  }
}
