import { describe, expect, it } from 'vitest'
import { type PartitionLoadStatsSink, PartitionLoadStats, type PartitionQueueLoad } from '../../src/producer/partition-load-stats.js'
import { BuiltInPartitioner } from '../../src/producer/partitioner.js'

/** Records every call, as plain arrays. */
class Sink implements PartitionLoadStatsSink {
  readonly calls: [number[] | null, number[], number][] = []
  updatePartitionLoadStats(queueSizes: Int32Array | null, partitionIds: Int32Array, length: number): void {
    this.calls.push([queueSizes === null ? null : [...queueSizes], [...partitionIds], length])
  }
}

function queue(partition: number, leader: number, size: number): PartitionQueueLoad {
  return { partition, leader, deque: { size } }
}

describe('PartitionLoadStats.feed', () => {
  it('passes queue sizes in queue order, one entry per partition with a leader', () => {
    const sink = new Sink()
    const stats = new PartitionLoadStats(true, 0)
    stats.feed(sink, [queue(2, 1, 3), queue(0, 2, 0), queue(3, -1, 5), queue(1, 3, 1)], 4, 3)
    expect(sink.calls).toEqual([[[3, 0, 1], [2, 0, 1], 3]])
  })

  it('passes null (uniform choice) until every partition has a queue, as Java', () => {
    const sink = new Sink()
    new PartitionLoadStats(true, 0).feed(sink, [queue(0, 1, 2), queue(1, 1, 0)], 3, 2)
    expect(sink.calls).toEqual([[null, [], 0]])
  })

  it('passes null when adaptive partitioning is off', () => {
    const sink = new Sink()
    new PartitionLoadStats(false, 100).feed(sink, [queue(0, 1, 2), queue(1, 2, 0)], 2, 2)
    expect(sink.calls).toEqual([[null, [], 0]])
  })

  it('does nothing for a partitioner that takes no stats', () => {
    expect(() => new PartitionLoadStats(true, 0).feed({}, [queue(0, 1, 1)], 1, 1)).not.toThrow()
  })

  it("moves the partitions with batches on a slow leader past `length`; a slow leader's empty partitions stay", () => {
    const sink = new Sink()
    const stats = new PartitionLoadStats(true, 100)
    stats.updateNodeLatencyStats(1, 0, true)
    stats.updateNodeLatencyStats(1, 101, false) // ready, not drainable for 101 ms > 100
    stats.updateNodeLatencyStats(2, 0, true)
    stats.updateNodeLatencyStats(2, 101, true)
    stats.feed(sink, [queue(0, 1, 2), queue(1, 2, 1), queue(2, 1, 0), queue(3, 1, 4)], 4, 4)
    // Partitions 0 and 3 (node 1, queued) go to the end, last excluded first.
    expect(sink.calls).toEqual([[[1, 0, 4, 2], [1, 2, 3, 0], 2]])
  })

  it('feeds a BuiltInPartitioner the weights its adaptive choice draws from', () => {
    const partitioner = new BuiltInPartitioner('t', 16384)
    new PartitionLoadStats(true, 0).feed(partitioner, [queue(0, 1, 0), queue(1, 1, 3), queue(2, 1, 1)], 3, 3)
    // Sizes 0 3 1 inverted against 4: 4 1 3, summed: 4 5 8.
    expect(partitioner.loadStatsRangeEnd()).toBe(8)
  })
})

describe('PartitionLoadStats node latency (partitioner.availability.timeout.ms)', () => {
  it('calls a node slow only once it was undrainable for longer than the timeout', () => {
    const stats = new PartitionLoadStats(true, 100)
    expect(stats.isNodeSlow(1)).toBe(false) // never seen
    stats.updateNodeLatencyStats(1, 1000, true)
    stats.updateNodeLatencyStats(1, 1100, false)
    expect(stats.isNodeSlow(1)).toBe(false) // exactly the timeout
    stats.updateNodeLatencyStats(1, 1101, false)
    expect(stats.isNodeSlow(1)).toBe(true)
    stats.updateNodeLatencyStats(1, 1102, true) // drained again
    expect(stats.isNodeSlow(1)).toBe(false)
  })

  it('records nothing while the timeout is off', () => {
    const stats = new PartitionLoadStats(true, 0)
    stats.updateNodeLatencyStats(1, 0, true)
    stats.updateNodeLatencyStats(1, 1_000_000, false)
    expect(stats.isNodeSlow(1)).toBe(false)
  })
})
