// Imported, not the global: Node's global `Buffer` is a lazy getter that runs on every use (bench/micro/FINDINGS.md).
import { Buffer } from 'node:buffer'
import { KafkaForeignProtocolError, KafkaProtocolError, KafkaTlsError } from '../errors.js'

const EMPTY = Buffer.alloc(0)

/**
 * One request frame on its way out: the 4-byte size prefix is already the
 * first bytes of `segments[0]`, and the remaining segments (record batches
 * among them) are written as they are, never concatenated.
 */
export class NetworkSend {
  readonly size: number

  constructor(
    readonly destination: number,
    readonly segments: readonly Buffer[],
  ) {
    let n = 0
    for (const s of segments) n += s.length
    this.size = n
  }
}

/**
 * Reassembles size-prefixed frames from arbitrary socket chunks.
 *
 * Invariants:
 * - A size prefix above `maxReceiveSize` (or negative) raises
 *   {@link KafkaProtocolError} before anything of that size is allocated.
 * - A frame that lies whole inside one chunk is returned as a view of that
 *   chunk; only frames that straddle chunks are copied, once, into a buffer of
 *   exactly their size (its own ArrayBuffer, never Buffer's shared pool).
 * - Returned frames exclude the size prefix.
 * - After a bad size prefix the stream is unsynchronised: every later `push`
 *   throws the same error, so nothing read past it is ever taken for a frame.
 * - A bad size prefix on the first frame whose bytes read as an HTTP status
 *   line or a TLS record raises {@link KafkaForeignProtocolError} instead:
 *   the peer is not a Kafka broker. Only the failing prefix is looked at, so
 *   this costs nothing per frame.
 */
export class NetworkReceive {
  /** Partial size prefix bytes carried across chunks (at most 3 pending). */
  private readonly sizeBuf = Buffer.alloc(4)
  private sizeRead = 0
  private frame: Buffer | null = null
  private frameRead = 0
  private failure: KafkaProtocolError | KafkaTlsError | null = null
  /** Whether a whole frame was delivered: a bad prefix before that may be another protocol. */
  private delivered = false

  constructor(private readonly maxReceiveSize: number) {}

  /** True while part of a frame has been read: a close now would truncate it. */
  get inProgress(): boolean {
    return this.sizeRead > 0 || this.frame !== null
  }

  /** Feeds one chunk; calls `onFrame` for each complete frame in arrival order. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    if (this.failure !== null) throw this.failure
    let pos = 0
    const len = chunk.length
    while (pos < len) {
      if (this.frame === null) {
        // Fast path: the size prefix and the whole frame are in this chunk.
        if (this.sizeRead === 0 && len - pos >= 4) {
          const size = chunk.readInt32BE(pos)
          this.checkSize(size)
          if (len - pos - 4 >= size) {
            this.delivered = true
            onFrame(chunk.subarray(pos + 4, pos + 4 + size))
            pos += 4 + size
            continue
          }
          pos += 4
          this.startFrame(size)
        } else {
          while (this.sizeRead < 4 && pos < len) this.sizeBuf[this.sizeRead++] = chunk[pos++]!
          if (this.sizeRead < 4) return
          const size = this.sizeBuf.readInt32BE(0)
          this.checkSize(size)
          if (size === 0) {
            this.sizeRead = 0
            this.delivered = true
            onFrame(EMPTY)
            continue
          }
          this.startFrame(size)
        }
      }
      const frame = this.frame!
      const n = Math.min(frame.length - this.frameRead, len - pos)
      chunk.copy(frame, this.frameRead, pos, pos + n)
      this.frameRead += n
      pos += n
      if (this.frameRead === frame.length) {
        this.frame = null
        this.sizeRead = 0
        this.delivered = true
        onFrame(frame)
      }
    }
  }

  private startFrame(size: number): void {
    // Not allocUnsafe: that slices Buffer's shared pool for sizes under
    // Buffer.poolSize / 2, and Node 24.18 raised poolSize from 8 KiB to 64 KiB
    // (nodejs/node#63597). A frame below 32 KiB would then be a view of a 64 KiB
    // pool slab and keep all of it alive for as long as the frame (or a bytes
    // field decoded from it) is referenced. allocUnsafeSlow gives every copied
    // frame its own backing store of exactly its size on every Node version; it
    // costs well under a microsecond more, at most once per socket read.
    this.frame = Buffer.allocUnsafeSlow(size)
    this.frameRead = 0
    this.sizeRead = 4
  }

  private checkSize(size: number): void {
    if (size < 0 || size > this.maxReceiveSize) {
      const looksLike = this.delivered ? null : sniffForeignProtocol(size)
      if (looksLike === 'TLS') {
        // A TLS listener's alert or handshake record, read as a size: a plaintext
        // client on a TLS port. A KafkaTlsError, so it is final like other TLS failures.
        this.failure = new KafkaTlsError(
          'PLAINTEXT_ON_TLS_LISTENER',
          'not a Kafka broker: the first response was not a Kafka frame (looks like TLS: is this an SSL listener?)',
        )
        throw this.failure
      }
      if (looksLike !== null) {
        this.failure = new KafkaForeignProtocolError(
          looksLike,
          'not a Kafka broker: the first response was not a Kafka frame (looks like HTTP)',
        )
        throw this.failure
      }
      this.failure = new KafkaProtocolError(
        `Invalid receive size ${size}: larger than receive.message.max.bytes (${this.maxReceiveSize}) or negative; closing the connection`,
      )
      throw this.failure
    }
  }
}

/**
 * What a first "size prefix" that no Kafka broker would send looks like, read
 * as the first 4 bytes of another protocol: 'HTTP' for an HTTP status line
 * ("HTTP/1.1 400 ..."), 'TLS' for a TLS record header (content type 20..23,
 * alert or handshake among them, then major version 3, minor 0..4), as a TLS
 * listener answers bytes that are not a ClientHello. Null otherwise.
 */
export function sniffForeignProtocol(prefix: number): 'HTTP' | 'TLS' | null {
  if (prefix === 0x48545450) return 'HTTP' // "HTTP"
  const type = prefix >>> 24
  const major = (prefix >>> 16) & 0xff
  const minor = (prefix >>> 8) & 0xff
  if (type >= 0x14 && type <= 0x17 && major === 3 && minor <= 4) return 'TLS'
  return null
}
