/**
 * Every error this library raises is a KafkaClientError, so callers can branch
 * on `instanceof` or on the stable `code` string without parsing messages.
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
 * rejected client certificate, a TLS client on a plaintext listener or the
 * reverse. Not retriable: the same settings meet the same certificate.
 * `reason` is Node's / OpenSSL's code (e.g. `CERT_HAS_EXPIRED`,
 * `ERR_TLS_CERT_ALTNAME_INVALID`) or one of this library's:
 * `HANDSHAKE_CLOSED` (the broker hung up mid-handshake, typically a plaintext
 * listener) and `PLAINTEXT_ON_TLS_LISTENER`.
 */
export class KafkaTlsError extends KafkaAuthenticationError {
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

/** A wait bounded by a configured timeout ran out. */
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
  readonly nodeId: number | undefined
  constructor(message: string, nodeId?: number, options?: { cause?: unknown }) {
    super('NETWORK', message, { retriable: true, ...options })
    this.nodeId = nodeId
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
  /** Kafka's numeric error code (see ERROR_CODES in protocol/error-codes.ts). */
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
