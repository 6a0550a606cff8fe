import type { ProduceRequest } from '../protocol/apis/index.js'
import { ProduceApi } from '../protocol/apis/index.js'
import { LENGTH_OFFSET, LOG_OVERHEAD, RECORD_BATCH_OVERHEAD, RECORDS_COUNT_OFFSET } from '../protocol/record-batch.js'
import type { ClientRequest } from './in-flight-requests.js'

/**
 * What the network layer shows of a connection in `producer.inspect()`.
 * Everything here is built when inspect() is called, from state the client
 * keeps anyway: nothing is recorded for it on the send path. Plain objects,
 * arrays, strings and numbers only, so `JSON.stringify` takes it as it is.
 */

/**
 * A connection's state, from the setup state machine of
 * `ClusterConnectionStates` (Java's `ConnectionState`, plus the TLS and SASL
 * steps Java keeps inside its transport layer and authenticator):
 * - `connecting`: TCP connect under way;
 * - `tls-handshake`: TCP is up, TLS is negotiating;
 * - `checking-api-versions`: the ApiVersions handshake every connection starts with;
 * - `authenticating`: SaslHandshake / SaslAuthenticate rounds;
 * - `ready`: requests may go (up to max.in.flight.requests.per.connection);
 * - `reauthenticating`: KIP-368 re-authentication; what was in flight completes, nothing new goes;
 * - `backing-off`: the last attempt failed and the reconnect backoff has not run out (`reconnectInMs`);
 * - `disconnected`: not connected, and may be connected again when needed.
 */
export type ConnectionStateName =
  | 'connecting'
  | 'tls-handshake'
  | 'checking-api-versions'
  | 'authenticating'
  | 'ready'
  | 'reauthenticating'
  | 'backing-off'
  | 'disconnected'

/** One request sent on a connection and not answered yet. */
export interface InFlightRequestInspection {
  /** The request's correlation id on this connection. */
  readonly correlationId: number
  /** The API's name, as Kafka's protocol names it (`Produce`, `Metadata`, …). */
  readonly api: string
  /** The version negotiated for this connection that the request went out with. */
  readonly apiVersion: number
  /** Milliseconds since it was handed to the socket. */
  readonly ageMs: number
  /** Size of the request frame, size prefix included. */
  readonly bytes: number
  /** False while the socket is still writing it. */
  readonly sent: boolean
  /** Record batches it carries (Produce only; 0 for other APIs). */
  readonly batches: number
  /** Records in those batches. */
  readonly records: number
  /** The partitions it writes to, as Kafka's `TopicPartition.toString()` (`topic-partition`). */
  readonly partitions: readonly string[]
}

/** One broker connection, known to the client because it was connected or attempted. */
export interface ConnectionInspection {
  /** The broker id; negative for a bootstrap address before metadata named the brokers. */
  readonly nodeId: number
  /** `host:port` of the last connection attempt (IPv6 hosts in brackets). */
  readonly address: string
  /** Where the connection is in its setup, or that it is ready, backing off or disconnected. */
  readonly state: ConnectionStateName
  /** With `backing-off`: milliseconds before a reconnect is allowed. */
  readonly reconnectInMs?: number
  /**
   * Set while the broker throttles this client (KIP-219: a response carried a
   * `throttle_time_ms`, e.g. for a produce quota): milliseconds before
   * anything more is sent on this connection. Absent when not throttled.
   */
  readonly throttledForMs?: number
  /** Set when the last attempt ended because TLS or SASL rejected it: the error's message. */
  readonly authenticationError?: string
  /** For a connection past its ApiVersions handshake: the version each API would go out with. */
  readonly apiVersions: Readonly<Record<string, number>>
  /** Requests sent and not answered, oldest first. */
  readonly inFlight: readonly InFlightRequestInspection[]
}

/** Batches, records and partitions of a request, read from the encoded batches it already holds. */
export interface RequestPayload {
  readonly batches: number
  readonly records: number
  readonly partitions: readonly string[]
}

const NO_PARTITIONS: readonly string[] = Object.freeze([])
const EMPTY_PAYLOAD: RequestPayload = Object.freeze({ batches: 0, records: 0, partitions: NO_PARTITIONS })

/**
 * For inspect(): what a request carries. Only Produce carries records; its
 * body holds each partition's encoded RecordBatch v2 bytes, whose headers
 * give the count (`recordsCount` at offset 57) and the length of each batch,
 * so nothing about batches has to be kept per request for this.
 */
export function describeRequestPayload(request: ClientRequest<unknown, unknown>): RequestPayload {
  if (request.api.apiKey !== ProduceApi.apiKey) return EMPTY_PAYLOAD
  const body = request.body as ProduceRequest | null
  if (body === null || typeof body !== 'object' || !Array.isArray(body.topics)) return EMPTY_PAYLOAD
  let batches = 0
  let records = 0
  const partitions: string[] = []
  for (const t of body.topics) {
    for (const p of t.partitions) {
      partitions.push(`${t.name}-${p.index}`)
      const buf = p.records
      let pos = 0
      // A partition entry may hold several batches back to back (each LOG_OVERHEAD + its length field).
      while (buf !== null && buf !== undefined && pos + RECORD_BATCH_OVERHEAD <= buf.length) {
        batches++
        records += buf.readInt32BE(pos + RECORDS_COUNT_OFFSET)
        const length = buf.readInt32BE(pos + LENGTH_OFFSET)
        if (length <= 0) break
        pos += LOG_OVERHEAD + length
      }
    }
  }
  return { batches, records, partitions }
}
