/**
 * A strict RecordBatch v2 decoder for tests: it rejects anything this producer
 * would not have written (wrong magic, compression, bad CRC, inconsistent
 * lengths). The producer never decodes batches, so this does not ship.
 */
import { KafkaProtocolError } from '../../src/errors.js'
import {
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG,
  computeBatchCrc,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_V2,
  readVarBytes,
  RECORD_BATCH_OVERHEAD,
  TRANSACTIONAL_FLAG,
} from '../../src/protocol/record-batch.js'
import { Reader } from '../../src/protocol/reader.js'


export interface DecodedRecord {
  readonly attributes: number
  readonly timestampDelta: number
  readonly offsetDelta: number
  /** baseOffset + offsetDelta */
  readonly offset: bigint
  /** baseTimestamp + timestampDelta */
  readonly timestamp: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: [string, Buffer | null][]
  /** Encoded size including the length varint. */
  readonly sizeInBytes: number
}

export interface DecodedRecordBatch {
  readonly baseOffset: bigint
  readonly batchLength: number
  readonly partitionLeaderEpoch: number
  readonly magic: number
  readonly crc: number
  readonly attributes: number
  readonly isTransactional: boolean
  readonly isControl: boolean
  readonly lastOffsetDelta: number
  readonly baseTimestamp: number
  readonly maxTimestamp: number
  readonly producerId: bigint
  readonly producerEpoch: number
  readonly baseSequence: number
  readonly recordCount: number
  readonly records: DecodedRecord[]
}

/** Decodes every batch in `buf`, which must hold whole batches only. */
export function decodeRecordBatches(buf: Buffer): DecodedRecordBatch[] {
  const out: DecodedRecordBatch[] = []
  let pos = 0
  while (pos < buf.length) {
    if (buf.length - pos < RECORD_BATCH_OVERHEAD) {
      throw new KafkaProtocolError(`Truncated record batch at ${pos}: ${buf.length - pos} bytes left`)
    }
    const batchLength = buf.readInt32BE(pos + LENGTH_OFFSET)
    const end = pos + LOG_OVERHEAD + batchLength
    if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD || end > buf.length) {
      throw new KafkaProtocolError(`Record batch at ${pos} has length ${batchLength}, ${buf.length - pos - LOG_OVERHEAD} bytes left`)
    }
    out.push(decodeOne(buf.subarray(pos, end)))
    pos = end
  }
  return out
}

function decodeOne(batch: Buffer): DecodedRecordBatch {
  const r = new Reader(batch)
  const baseOffset = r.int64()
  const batchLength = r.int32()
  const partitionLeaderEpoch = r.int32()
  const magic = r.int8()
  if (magic !== MAGIC_V2) throw new KafkaProtocolError(`Unsupported record batch magic ${magic}`)
  const crc = r.uint32()
  const actualCrc = computeBatchCrc(batch)
  if (crc !== actualCrc) {
    throw new KafkaProtocolError(`Record batch CRC mismatch: stored 0x${crc.toString(16)}, computed 0x${actualCrc.toString(16)}`)
  }
  const attributes = r.int16()
  if ((attributes & COMPRESSION_CODEC_MASK) !== 0) {
    throw new KafkaProtocolError(`Compressed record batches are not decoded here (codec ${attributes & COMPRESSION_CODEC_MASK})`)
  }
  const lastOffsetDelta = r.int32()
  const baseTimestamp = r.int64Number()
  const maxTimestamp = r.int64Number()
  const producerId = r.int64()
  const producerEpoch = r.int16()
  const baseSequence = r.int32()
  const recordCount = r.int32()
  if (recordCount < 0 || recordCount > r.remaining) {
    throw new KafkaProtocolError(`Record count ${recordCount} is impossible with ${r.remaining} bytes left`)
  }
  const records: DecodedRecord[] = []
  for (let i = 0; i < recordCount; i++) {
    const start = r.offset
    const bodySize = r.varint()
    const bodyStart = r.offset
    const recAttributes = r.int8()
    const timestampDelta = r.varlong()
    const offsetDelta = r.varint()
    const key = readVarBytes(r)
    const value = readVarBytes(r)
    const headerCount = r.varint()
    if (headerCount < 0 || headerCount > r.remaining) {
      throw new KafkaProtocolError(`Header count ${headerCount} is impossible at ${r.offset}`)
    }
    const headers: [string, Buffer | null][] = []
    for (let h = 0; h < headerCount; h++) {
      const k = readVarBytes(r)
      if (k === null) throw new KafkaProtocolError(`Null header key at ${r.offset}`)
      headers.push([k.toString('utf8'), readVarBytes(r)])
    }
    if (r.offset - bodyStart !== bodySize) {
      throw new KafkaProtocolError(`Record ${i} declares ${bodySize} bytes but spans ${r.offset - bodyStart}`)
    }
    records.push({
      attributes: recAttributes,
      timestampDelta,
      offsetDelta,
      offset: baseOffset + BigInt(offsetDelta),
      timestamp: baseTimestamp + timestampDelta,
      key,
      value,
      headers,
      sizeInBytes: r.offset - start,
    })
  }
  if (r.remaining !== 0) throw new KafkaProtocolError(`${r.remaining} trailing bytes after ${recordCount} records`)
  return {
    baseOffset,
    batchLength,
    partitionLeaderEpoch,
    magic,
    crc,
    attributes,
    isTransactional: (attributes & TRANSACTIONAL_FLAG) !== 0,
    isControl: (attributes & CONTROL_FLAG) !== 0,
    lastOffsetDelta,
    baseTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch,
    baseSequence,
    recordCount,
    records,
  }
}
