import { describe, expect, it } from 'vitest'
import { ProducerMetrics } from '../../src/producer/metrics.js'
import { SampledStat } from '../../src/util/sampled-stat.js'

// Two windows of 1000 ms: values live for [window start, window start + 2000).
function stat(): SampledStat {
  return new SampledStat(1000, 2)
}

describe('SampledStat', () => {
  it('has no average, maximum or rate before anything is recorded', () => {
    const s = stat()
    expect(s.avg(0)).toBeNaN()
    expect(s.max(0)).toBeNaN()
    expect(s.rate(0)).toBe(0)
  })

  it('averages and maximises over the live windows', () => {
    const s = stat()
    s.record(10, 0)
    s.record(20, 500)
    expect(s.avg(500)).toBe(15)
    expect(s.max(500)).toBe(20)
    s.record(30, 1000) // opens the second window
    expect(s.avg(1000)).toBe(20)
    expect(s.max(1000)).toBe(30)
    s.record(-5, 1999)
    expect(s.avg(1999)).toBe(13.75)
    expect(s.max(1999)).toBe(30)
  })

  it('forgets a window two windows after it started', () => {
    const s = stat()
    s.record(100, 0)
    s.record(1, 1000)
    expect(s.avg(1999)).toBe(50.5)
    expect(s.max(1999)).toBe(100)
    expect(s.avg(2000)).toBe(1) // the window that started at 0 has expired
    expect(s.max(2000)).toBe(1)
    expect(s.avg(2999)).toBe(1)
    expect(s.avg(3000)).toBeNaN() // and now the one that started at 1000
    expect(s.max(3000)).toBeNaN()
  })

  it('reuses the oldest window when a new one starts, dropping its values', () => {
    const s = stat()
    s.record(100, 0)
    s.record(1, 1000)
    s.record(7, 2000) // third window replaces the one from 0
    expect(s.avg(2000)).toBe(4)
    expect(s.max(2000)).toBe(7)
    // After a long silence the next value stands alone.
    s.record(3, 10_000)
    expect(s.avg(10_000)).toBe(3)
    expect(s.max(10_000)).toBe(3)
  })

  it('rates over the live span, padded to one full window while young, so an early burst does not explode', () => {
    const s = stat()
    s.record(1000, 0)
    expect(s.rate(0)).toBe(1000) // 1000 over a padded 1000 ms, not over 0 or 1 ms
    expect(s.rate(1)).toBeCloseTo(1000 / 1.001, 9)
    expect(s.rate(500)).toBeCloseTo(1000 / 1.5, 9)
    expect(s.rate(1000)).toBe(1000) // one full window: no padding
    s.record(500, 1200)
    expect(s.rate(1500)).toBe(1000) // 1500 over 1500 ms
    expect(s.rate(1999)).toBeCloseTo(1500 / 1.999, 9)
    // The first window expires at 2000: only the one from 1200 remains, padded again.
    expect(s.rate(2000)).toBeCloseTo(500 / 1.8, 9)
    expect(s.rate(2100)).toBeCloseTo(500 / 1.9, 9)
    expect(s.rate(3200)).toBe(0)
  })

  it('uses 30 s windows by default', () => {
    const s = new SampledStat()
    s.record(1, 0)
    s.record(5, 29_999) // same window
    s.record(9, 30_000) // the next one
    expect(s.avg(30_000)).toBe(5)
    expect(s.avg(59_999)).toBe(5)
    expect(s.avg(60_000)).toBe(9) // the window from 0 expired; the one from 30 000 remains
    expect(s.avg(89_999)).toBe(9)
    expect(s.avg(90_000)).toBeNaN()
  })
})

describe('ProducerMetrics', () => {
  it('totals and windowed stats from batches, requests and latencies', () => {
    const m = new ProducerMetrics()
    expect(m.recordRate(0)).toBe(0)
    const t = m.topic('a')
    m.recordBatchSent(10, 1000, 5, 0, t, 100, 1)
    m.recordBatchSent(30, 3000, 15, 100, t, 100, 1)
    m.recordRequest(40, 100)
    m.recordLatency(1, 20, 200)
    m.recordLatency(1, 40, 210)
    m.recordLatency(2, 7, 220)
    m.recordErrors(3, null, 230)
    m.recordRetries(2, 'a', 230)
    expect(m.recordSend.totalSum).toBe(40)
    expect(m.recordsPerRequest.totalCount).toBe(1)
    expect(m.errors.totalSum).toBe(3)
    expect(m.retries.totalSum).toBe(2)
    expect(m.batchSize.avg(300)).toBe(2000)
    expect(m.queueTime.avg(300)).toBe(10)
    expect(m.recordsPerRequest.avg(300)).toBe(40)
    expect(m.requestLatency.avg(300)).toBeCloseTo(67 / 3, 9)
    expect(m.requestLatency.max(300)).toBe(40)
    expect(m.nodes.get(1)!.latency.avg(300)).toBe(30)
    expect(m.nodes.get(1)!.latency.max(300)).toBe(40)
    expect(m.nodes.get(2)!.latency.avg(300)).toBe(7)
    expect([...m.nodes.keys()]).toEqual([1, 2])
    // 40 records within the first (padded) 30 s window.
    expect(m.recordRate(300)).toBeCloseTo(40_000 / 30_300, 9)
    expect(m.recordRate(30_000)).toBeCloseTo(40 / 30, 9)
    // Sixty seconds later everything windowed has expired; totals have not.
    expect(m.recordRate(60_000)).toBe(0)
    expect(m.batchSize.avg(60_000)).toBeNaN()
    expect(m.recordSend.totalSum).toBe(40)
  })
})

describe('SampledStat totals and count rate', () => {
  it('keeps cumulative count and sum, unwindowed, and a per-second count', () => {
    const s = new SampledStat(1000, 2)
    s.record(100, 0)
    s.record(300, 500)
    expect(s.totalCount).toBe(2)
    expect(s.totalSum).toBe(400)
    expect(s.countRate(1000)).toBe(2) // 2 values over one (padded) window of 1 s
    expect(s.rate(1000)).toBe(400)
    expect(s.countRate(5000)).toBe(0) // windows expired...
    expect(s.totalCount).toBe(2) // ...totals did not
  })
})

describe('ProducerMetrics: errors, topics, buffer pool, throttle', () => {
  it('counts errors globally and, once the topic has sensors, per topic; the clock is the injected one', () => {
    let now = 0
    const m = new ProducerMetrics(() => now)
    m.recordErrors(1) // a send failed before reaching a batch: global only
    expect(m.topics.size).toBe(0)
    const t = m.topic('a')
    expect(m.topic('a')).toBe(t) // made once
    now = 500
    m.recordErrors(3, 'a')
    m.recordErrors(2, 'unseen') // no sensors for a topic never sent: global only, nothing made
    expect(m.topics.has('unseen')).toBe(false)
    expect(m.errors.totalSum).toBe(6)
    expect(t.errors.totalSum).toBe(3)
    expect(m.errors.rate(1000)).toBeCloseTo(6 / 31, 9) // over 1 s, padded by one 30 s window
    m.recordRetries(4, 'a', 1000)
    expect(m.retries.totalSum).toBe(4)
    expect(t.retries.totalSum).toBe(4)
  })

  it("bufferpool-wait: ms waited per second of time is the wait ratio; exhausted sends are counted", () => {
    const m = new ProducerMetrics(() => 0)
    m.recordBufferPoolWait(15_000, false, 0)
    m.recordBufferPoolWait(15_000, true, 29_999)
    expect(m.bufferPoolWait.totalSum * 1e6).toBe(30e9) // bufferpool-wait-time-ns-total
    // 30 s waited over the first 30 s window: a ratio of 1 (what metrics() reports as rate / 1000).
    expect(m.bufferPoolWait.rate(30_000) / 1000).toBeCloseTo(1, 9)
    expect(m.bufferExhausted.totalCount).toBe(1)
  })

  it('batch sends feed the per-topic sensors and record-size', () => {
    const m = new ProducerMetrics()
    m.compressionCodec = 'gzip'
    const t = m.topic('a')
    m.recordBatchSent(10, 1000, 5, 0, t, 120, 0.5)
    m.recordBatchSent(5, 500, 7, 10, t, 80, 1)
    expect(t.records.totalSum).toBe(15)
    expect(t.bytes.totalSum).toBe(1500)
    expect(t.compression.avg(20)).toBe(0.75)
    expect(m.topicCompressionRate(t, 20)).toBe(0.75)
    expect(m.recordSize.max(20)).toBe(120)
    expect(m.recordSize.avg(20)).toBe(100)
    expect(m.queueTime.max(20)).toBe(7)
    m.recordThrottleTime(1, 300, 30)
    m.recordThrottleTime(2, 0, 30)
    expect(m.produceThrottleTime.avg(40)).toBe(150)
    expect(m.nodes.get(1)!.throttleTime.max(40)).toBe(300)
  })

  it('without compression, a topic\'s compression-rate is 1 while it has batches in the window, recorded nowhere', () => {
    const m = new ProducerMetrics()
    const t = m.topic('a')
    expect(m.topicCompressionRate(t, 0)).toBeNaN()
    m.recordBatchSent(10, 1000, 5, 0, t, 120, 1)
    expect(t.compression.totalCount).toBe(0)
    expect(m.topicCompressionRate(t, 10)).toBe(1)
    expect(m.topicCompressionRate(t, 60_000)).toBeNaN() // both 30 s windows expired, as Java's Avg with no sample
  })
})
