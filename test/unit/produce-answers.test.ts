import { describe, expect, it } from 'vitest'
import { ProducerBatch } from '../../src/producer/producer-batch.js'
import { answersByPartition, answersInRequestOrder } from '../../src/producer/sender.js'
import type { ProducePartitionResponse, ProduceResponse } from '../../src/protocol/apis/index.js'

const batch = (topic: string, partition: number): ProducerBatch => new ProducerBatch(topic, partition, Buffer.alloc(100), 0)
const answer = (index: number, baseOffset: bigint): ProducePartitionResponse => ({
  index,
  errorCode: 0,
  baseOffset,
  logAppendTimeMs: -1,
  logStartOffset: -1n,
  recordErrors: [],
  errorMessage: null,
})
const response = (topics: [string, ProducePartitionResponse[]][]): ProduceResponse => ({
  throttleTimeMs: 0,
  topics: topics.map(([name, partitions]) => ({ name, partitions })),
  nodeEndpoints: [],
})

describe('matching a Produce response to the batches of its request', () => {
  // Drain order a-0, b-1, a-2: the request groups by topic, a: [0, 2], b: [1]; positions = [0, 2, 1].
  const batches = [batch('a', 0), batch('b', 1), batch('a', 2)]
  const positions = [0, 2, 1]

  it('matches by position when the answer lists topics and partitions as the request did', () => {
    const body = response([['a', [answer(0, 10n), answer(2, 30n)]], ['b', [answer(1, 20n)]]])
    const got = answersInRequestOrder(body, batches, positions)
    expect(got!.map((p) => p!.baseOffset)).toEqual([10n, 20n, 30n])
    expect(got).toEqual(answersByPartition(body, batches))
  })

  it('declines (null) when the order, a name, a count or an index differs; matching by name then still works', () => {
    const reordered = response([['b', [answer(1, 20n)]], ['a', [answer(2, 30n), answer(0, 10n)]]])
    expect(answersInRequestOrder(reordered, batches, positions)).toBeNull()
    expect(answersByPartition(reordered, batches).map((p) => p!.baseOffset)).toEqual([10n, 20n, 30n])

    const missing = response([['a', [answer(0, 10n), answer(2, 30n)]]])
    expect(answersInRequestOrder(missing, batches, positions)).toBeNull()
    expect(answersByPartition(missing, batches).map((p) => p?.baseOffset)).toEqual([10n, undefined, 30n])

    const extra = response([['a', [answer(0, 10n), answer(2, 30n)]], ['b', [answer(1, 20n), answer(1, 21n)]]])
    expect(answersInRequestOrder(extra, batches, positions)).toBeNull()

    const wrongIndex = response([['a', [answer(0, 10n), answer(3, 30n)]], ['b', [answer(1, 20n)]]])
    expect(answersInRequestOrder(wrongIndex, batches, positions)).toBeNull()
    expect(answersByPartition(wrongIndex, batches).map((p) => p?.baseOffset)).toEqual([10n, 20n, undefined])
  })
})
