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
