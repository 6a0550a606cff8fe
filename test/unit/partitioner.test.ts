import { describe, expect, it } from 'vitest'
import { Cluster, type Node, type PartitionInfo } from '../../src/clients/cluster.js'
import { BuiltInPartitioner, murmur2, partitionForKey, toPositive } from '../../src/producer/partitioner.js'
import { mulberry32 as seededRandom } from '../harness/prng.js'

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const TOPIC = 't'

function node(id: number): Node {
  return { id, host: `broker${id}`, port: 9092, rack: null }
}

/** leaders[i] is the leader of partition i; -1 for none. */
function clusterWith(leaders: readonly number[], nodeIds: readonly number[] = [1, 2, 3]): Cluster {
  const partitions: PartitionInfo[] = leaders.map((leader, partition) => ({
    topic: TOPIC,
    partition,
    leader,
    leaderEpoch: 0,
    replicas: leader >= 0 ? [leader] : [],
    isr: leader >= 0 ? [leader] : [],
  }))
  return new Cluster(nodeIds.map(node), partitions)
}


/** A random source whose draws turn into exactly these non-negative 31-bit integers. */
function drawsOf(...ints: number[]): () => number {
  let i = 0
  return () => {
    if (i >= ints.length) throw new Error('test random source exhausted')
    return ints[i++]! / 0x80000000
  }
}

/** Forces a switch on every call (appends a whole sticky batch) and returns the new partition. */
function switchOnce(p: BuiltInPartitioner, cluster: Cluster): number {
  const info = p.peekCurrentPartitionInfo(cluster)
  p.updatePartitionInfo(info, p.stickyBatchSize, cluster)
  return p.peekCurrentPartitionInfo(cluster).partition
}

function histogram(p: BuiltInPartitioner, cluster: Cluster, switches: number): Map<number, number> {
  const counts = new Map<number, number>()
  for (let i = 0; i < switches; i++) {
    const partition = switchOnce(p, cluster)
    counts.set(partition, (counts.get(partition) ?? 0) + 1)
  }
  return counts
}

const hex = (s: string) => Buffer.from(s, 'hex')

// ---------------------------------------------------------------------------
// murmur2
// ---------------------------------------------------------------------------

// Golden values produced by the real Java client: org.apache.kafka.common.utils
// .Utils.murmur2 / toPositive from kafka-clients 4.4.0 (fetched with
// `mvn -q -B dependency:copy -Dartifact=org.apache.kafka:kafka-clients:4.4.0`),
// run from a small Java program over these exact byte arrays on OpenJDK 17.
// Columns: input bytes (hex), murmur2 (signed int), toPositive(murmur2) % 7,
// toPositive(murmur2) % 100.
const GOLDEN: readonly (readonly [label: string, bytes: Buffer, hash: number, mod7: number, mod100: number])[] = [
  ['empty', hex(''), 275646681, 2, 81],
  ['1 byte "1"', hex('31'), -1993445489, 2, 59],
  ['2 bytes "12"', hex('3132'), 126087238, 4, 38],
  ['3 bytes "123"', hex('313233'), -267702483, 3, 65],
  ['4 bytes "1234"', hex('31323334'), -1614185708, 0, 40],
  ['5 bytes "12345"', hex('3132333435'), -1188365604, 3, 44],
  ['6 bytes "123456"', hex('313233343536'), -918490292, 3, 56],
  ['7 bytes "1234567"', hex('31323334353637'), -605210426, 0, 22],
  ['8 bytes "12345678"', hex('3132333435363738'), 338742798, 2, 98],
  ['9 bytes "123456789"', hex('313233343536373839'), -1822237082, 1, 66],
  ['"hello"', hex('68656c6c6f'), 2132663229, 4, 29],
  ['"key-1"', hex('6b65792d31'), 193331640, 5, 40],
  ['UTF-8 "café"', hex('636166c3a9'), -1358007374, 6, 74],
  ['UTF-8 "日本語キー"', hex('e697a5e69cace8aa9ee382ade383bc'), 1445825182, 4, 82],
  ['UTF-8 "🚀kafka"', hex('f09f9a806b61666b61'), -592062060, 0, 88],
  ['0x80', hex('80'), 857690492, 1, 92],
  ['0xff 0xfe', hex('fffe'), 1717632651, 0, 51],
  ['0x80 0x81 0xff', hex('8081ff'), 1160459762, 0, 62],
  ['0xdeadbeef', hex('deadbeef'), 833564499, 5, 99],
  ['7 x 0xff', hex('ffffffffffffff'), -71293549, 4, 99],
  ['8 zero bytes', hex('0000000000000000'), -522759933, 6, 15],
  ['1 KiB, byte i = (31 i + 7) & 0xff', Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 31 + 7) & 0xff)), 1429891287, 6, 87],
  ['1027 bytes, byte i = 255 - (i & 0xff)', Buffer.from(Array.from({ length: 1027 }, (_, i) => 255 - (i & 0xff))), -2083675547, 0, 1],
]

describe('murmur2', () => {
  it.each(GOLDEN)('matches Java Utils.murmur2 for %s', (_label, bytes, hash) => {
    expect(murmur2(bytes)).toBe(hash)
  })

  it('hashes the UTF-8 strings as the Java golden values', () => {
    expect(murmur2(Buffer.from('café', 'utf8'))).toBe(-1358007374)
    expect(murmur2(Buffer.from('日本語キー', 'utf8'))).toBe(1445825182)
    expect(murmur2(Buffer.from('🚀kafka', 'utf8'))).toBe(-592062060)
  })

  it('reads a Buffer view at a non-zero byteOffset correctly', () => {
    const backing = Buffer.concat([hex('aabbcc'), hex('313233343536373839'), hex('dd')])
    const view = backing.subarray(3, 12)
    expect(view.byteOffset).toBeGreaterThan(0)
    expect(murmur2(view)).toBe(-1822237082)
    expect(murmur2(new Uint8Array(view))).toBe(-1822237082)
  })

  it('returns signed 32-bit integers', () => {
    for (const [, bytes] of GOLDEN) {
      const h = murmur2(bytes)
      expect(h | 0).toBe(h)
    }
  })
})

describe('toPositive', () => {
  it('clears the sign bit like Java, unlike Math.abs', () => {
    expect(toPositive(-1993445489)).toBe(154038159)
    expect(toPositive(-2083675547)).toBe(63808101)
    expect(toPositive(-1)).toBe(2147483647)
    expect(toPositive(-2147483648)).toBe(0)
    expect(toPositive(0)).toBe(0)
    expect(toPositive(2147483647)).toBe(2147483647)
    expect(toPositive(275646681)).toBe(275646681)
  })
})

describe('partitionForKey', () => {
  it.each(GOLDEN)('matches Java for %s', (_label, bytes, _hash, mod7, mod100) => {
    expect(partitionForKey(bytes, 7)).toBe(mod7)
    expect(partitionForKey(bytes, 100)).toBe(mod100)
    expect(partitionForKey(bytes, 1)).toBe(0)
  })
})

// ---------------------------------------------------------------------------
// BuiltInPartitioner
// ---------------------------------------------------------------------------

describe('BuiltInPartitioner: sticky partitioning', () => {
  it('rejects a sticky batch size below 1', () => {
    expect(() => new BuiltInPartitioner(TOPIC, 0)).toThrow(/stickyBatchSize/)
    expect(() => new BuiltInPartitioner(TOPIC, 1.5)).toThrow(/stickyBatchSize/)
  })

  it('stays on one partition until batch.size bytes were appended, then switches', () => {
    const cluster = clusterWith([1, 2, 3, 1, 2])
    // Draws: first choice 2, then 4.
    const p = new BuiltInPartitioner(TOPIC, 100, { random: drawsOf(2, 4) })
    const first = p.peekCurrentPartitionInfo(cluster)
    expect(first.partition).toBe(2)

    for (let i = 0; i < 3; i++) {
      const info = p.peekCurrentPartitionInfo(cluster)
      expect(info).toBe(first)
      p.updatePartitionInfo(info, 30, cluster) // 30, 60, 90 bytes: below 100
      expect(p.isPartitionChanged(first)).toBe(false)
    }
    expect(first.producedBytes).toBe(90)

    p.updatePartitionInfo(first, 10, cluster) // 100 bytes: switch
    expect(p.isPartitionChanged(first)).toBe(true)
    const second = p.peekCurrentPartitionInfo(cluster)
    expect(second).not.toBe(first)
    expect(second.partition).toBe(4)
    expect(second.producedBytes).toBe(0)
  })

  it('with switching disabled (batch not ready) waits for 2 x batch.size', () => {
    const cluster = clusterWith([1, 2, 3])
    const p = new BuiltInPartitioner(TOPIC, 100, { random: drawsOf(0, 1) })
    const info = p.peekCurrentPartitionInfo(cluster)
    p.updatePartitionInfo(info, 150, cluster, false)
    expect(p.isPartitionChanged(info)).toBe(false)
    p.updatePartitionInfo(info, 49, cluster, false)
    expect(p.isPartitionChanged(info)).toBe(false)
    p.updatePartitionInfo(info, 1, cluster, false) // 200 = 2 x 100
    expect(p.isPartitionChanged(info)).toBe(true)
    expect(p.peekCurrentPartitionInfo(cluster).partition).toBe(1)
  })

  it('ignores null and stale infos', () => {
    const cluster = clusterWith([1, 2, 3])
    const p = new BuiltInPartitioner(TOPIC, 10, { random: drawsOf(0, 1) })
    expect(p.isPartitionChanged(null)).toBe(false)
    p.updatePartitionInfo(null, 1000, cluster) // a record placed by key: nothing happens
    const stale = p.peekCurrentPartitionInfo(cluster)
    p.updatePartitionInfo(stale, 10, cluster) // switch to 1
    const current = p.peekCurrentPartitionInfo(cluster)
    expect(current.partition).toBe(1)
    p.updatePartitionInfo(stale, 1000, cluster) // stale: must not end the current partition
    expect(p.peekCurrentPartitionInfo(cluster)).toBe(current)
    expect(current.producedBytes).toBe(0)
  })

  it('spreads uniformly over the partitions without load stats', () => {
    const cluster = clusterWith([1, 2, 3, 1])
    const p = new BuiltInPartitioner(TOPIC, 1, { random: seededRandom(42) })
    const counts = histogram(p, cluster, 8000)
    for (let partition = 0; partition < 4; partition++) {
      expect(counts.get(partition)! / 8000).toBeGreaterThan(0.22)
      expect(counts.get(partition)! / 8000).toBeLessThan(0.28)
    }
  })

  it('never picks a partition without a leader while some partition has one', () => {
    // 1, 3, 5: no leader; 6: leader 9 is not a known node.
    const cluster = clusterWith([1, -1, 2, -1, 3, -1, 9])
    const p = new BuiltInPartitioner(TOPIC, 1, { random: seededRandom(7) })
    const counts = histogram(p, cluster, 3000)
    expect([...counts.keys()].sort()).toEqual([0, 2, 4])
  })

  it('falls back to all partitions when none has a leader', () => {
    const cluster = clusterWith([-1, -1, -1, -1])
    const p = new BuiltInPartitioner(TOPIC, 1, { random: seededRandom(3) })
    const counts = histogram(p, cluster, 2000)
    expect([...counts.keys()].sort()).toEqual([0, 1, 2, 3])
  })

  // Expected sequences cross-checked against Java's BuiltInPartitioner (kafka-clients
  // 4.4.0) with randomPartition() overridden to return the same draws.
  it('makes the same choices as Java for the same draws', () => {
    const someLeaderless = clusterWith([1, -1, 2, -1, 3, -1])
    const p = new BuiltInPartitioner(TOPIC, 1, { random: drawsOf(0, 1, 2, 3, 4, 5, 6) })
    const picks = [p.peekCurrentPartitionInfo(someLeaderless).partition]
    for (let i = 0; i < 6; i++) picks.push(switchOnce(p, someLeaderless))
    expect(picks).toEqual([0, 2, 4, 0, 2, 4, 0])

    const allLeaderless = clusterWith([-1, -1, -1, -1])
    const q = new BuiltInPartitioner(TOPIC, 1, { random: drawsOf(5, 6, 7) })
    const picks2 = [q.peekCurrentPartitionInfo(allLeaderless).partition]
    for (let i = 0; i < 2; i++) picks2.push(switchOnce(q, allLeaderless))
    expect(picks2).toEqual([1, 2, 3])
  })

  it('throws a clear error when the topic has no partitions in the snapshot', () => {
    const p = new BuiltInPartitioner(TOPIC, 1)
    expect(() => p.peekCurrentPartitionInfo(Cluster.empty())).toThrow(/No partitions known for topic 't'/)
  })
})

describe('BuiltInPartitioner: partition count changes', () => {
  it('includes added partitions from the next switch on', () => {
    const p = new BuiltInPartitioner(TOPIC, 1, { random: seededRandom(11) })
    const two = clusterWith([1, 2])
    expect([...histogram(p, two, 500).keys()].sort()).toEqual([0, 1])
    const four = clusterWith([1, 2, 3, 1])
    expect([...histogram(p, four, 1000).keys()].sort()).toEqual([0, 1, 2, 3])
  })

  it('keeps the sticky partition while it still exists', () => {
    const p = new BuiltInPartitioner(TOPIC, 100, { random: drawsOf(1) })
    const info = p.peekCurrentPartitionInfo(clusterWith([1, 2]))
    expect(info.partition).toBe(1)
    expect(p.peekCurrentPartitionInfo(clusterWith([1, 2, 3, 1, 2]))).toBe(info)
  })

  it('re-picks when the sticky partition disappeared (topic re-created smaller)', () => {
    const p = new BuiltInPartitioner(TOPIC, 100, { random: drawsOf(5, 3) })
    const before = p.peekCurrentPartitionInfo(clusterWith([1, 2, 3, 1, 2, 3]))
    expect(before.partition).toBe(5)
    const after = p.peekCurrentPartitionInfo(clusterWith([1, 2]))
    expect(after.partition).toBe(1) // 3 % 2
    expect(p.isPartitionChanged(before)).toBe(true)
  })
})

describe('BuiltInPartitioner: adaptive partitioning (KIP-794)', () => {
  it('builds the cumulative frequency table of inverted queue sizes in place', () => {
    const p = new BuiltInPartitioner(TOPIC, 1)
    const queueSizes = [0, 3, 1]
    p.updatePartitionLoadStats(queueSizes, [0, 1, 2], 3)
    // Inverted against max + 1 = 4: 4 1 3; running sums: 4 5 8.
    expect(queueSizes).toEqual([4, 5, 8])
    expect(p.loadStatsRangeEnd()).toBe(8)
  })

  // Same draws fed to Java's BuiltInPartitioner (4.4.0) give the same picks.
  it('maps draws onto partitions through the table (Java example 0 3 1 -> 4 5 8)', () => {
    const cluster = clusterWith([1, 2, 3])
    // Draws 8..15 reduce modulo 8 to 0..7; 0..3 -> ids[0], 4 -> ids[1], 5..7 -> ids[2].
    const p = new BuiltInPartitioner(TOPIC, 1, { random: drawsOf(8, 9, 10, 11, 12, 13, 14, 15, 16) })
    p.updatePartitionLoadStats(Int32Array.from([0, 3, 1]), Int32Array.from([2, 0, 1]), 3)
    const picks: number[] = [p.peekCurrentPartitionInfo(cluster).partition]
    for (let i = 0; i < 8; i++) picks.push(switchOnce(p, cluster))
    expect(picks).toEqual([2, 2, 2, 2, 0, 1, 1, 1, 2])
  })

  it('picks the partition with the shortest queue much more often: [0, 100, 100]', () => {
    const cluster = clusterWith([1, 2, 3])
    const p = new BuiltInPartitioner(TOPIC, 1, { random: seededRandom(2024) })
    p.updatePartitionLoadStats([0, 100, 100], [0, 1, 2], 3)
    // Weights 101, 1, 1 out of 103.
    expect(p.loadStatsRangeEnd()).toBe(103)
    const counts = histogram(p, cluster, 10000)
    expect(counts.get(0)! / 10000).toBeGreaterThan(0.97)
    expect(counts.get(1) ?? 0).toBeGreaterThan(0)
    expect(counts.get(2) ?? 0).toBeGreaterThan(0)
    expect((counts.get(1) ?? 0) + (counts.get(2) ?? 0)).toBeLessThan(300)
  })

  it('is uniform again when all queues are equally long', () => {
    const p = new BuiltInPartitioner(TOPIC, 1)
    p.updatePartitionLoadStats([0, 100, 100], [0, 1, 2], 3)
    expect(p.loadStatsRangeEnd()).toBe(103)
    p.updatePartitionLoadStats([7, 7, 7], [0, 1, 2], 3)
    expect(p.loadStatsRangeEnd()).toBeUndefined()
  })

  it('stays adaptive with equal queues when some partitions were excluded', () => {
    const cluster = clusterWith([1, 2, 3])
    const p = new BuiltInPartitioner(TOPIC, 1, { random: seededRandom(5) })
    // Partition 1's broker is too slow (partitioner.availability.timeout.ms): moved past `length`.
    const queueSizes = [2, 2, 2]
    p.updatePartitionLoadStats(queueSizes, [0, 2, 1], 2)
    expect(p.loadStatsRangeEnd()).toBe(2)
    expect(queueSizes).toEqual([1, 2, 2]) // as Java: only the logical length is folded
    expect([...histogram(p, cluster, 500).keys()].sort()).toEqual([0, 2])
  })

  it('is off without stats, with under 2 partitions with a leader, or with all excluded', () => {
    const p = new BuiltInPartitioner(TOPIC, 1)
    p.updatePartitionLoadStats([0, 5], [0, 1], 2)
    expect(p.loadStatsRangeEnd()).toBe(7) // weights 6, 1
    p.updatePartitionLoadStats(null, [], 0)
    expect(p.loadStatsRangeEnd()).toBeUndefined()
    p.updatePartitionLoadStats([0, 5], [0, 1], 2)
    p.updatePartitionLoadStats([3], [0], 1)
    expect(p.loadStatsRangeEnd()).toBeUndefined()
    p.updatePartitionLoadStats([0, 5], [0, 1], 2)
    p.updatePartitionLoadStats([0, 5], [0, 1], 0)
    expect(p.loadStatsRangeEnd()).toBeUndefined()
  })

  it('rejects arrays that disagree', () => {
    const p = new BuiltInPartitioner(TOPIC, 1)
    expect(() => p.updatePartitionLoadStats([1, 2], [0], 2)).toThrow(/disagree/)
    expect(() => p.updatePartitionLoadStats([1, 2], [0, 1], 3)).toThrow(/disagree/)
  })

  it('only chooses among the partitions in the stats (leaderless ones are left out by the caller)', () => {
    const cluster = clusterWith([1, -1, 2, 3])
    const p = new BuiltInPartitioner(TOPIC, 1, { random: seededRandom(99) })
    p.updatePartitionLoadStats([4, 0, 1], [0, 2, 3], 3)
    const counts = histogram(p, cluster, 3000)
    expect(counts.has(1)).toBe(false)
    // Weights 1, 5, 4.
    expect(counts.get(2)!).toBeGreaterThan(counts.get(3)!)
    expect(counts.get(3)!).toBeGreaterThan(counts.get(0)!)
  })
})
