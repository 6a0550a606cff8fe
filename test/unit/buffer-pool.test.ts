import { EventEmitter } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { KafkaInvalidRecordError, KafkaProducerClosedError, KafkaTimeoutError } from '../../src/errors.js'
import { BufferPool } from '../../src/producer/buffer-pool.js'
import { activeResources } from '../harness/resources.js'

const P = 1024

function timeoutCount(): number {
  return activeResources().timeouts
}

/** Settled state of a promise, without awaiting it forever. */
async function state<T>(p: Promise<T>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  const marker = Symbol('pending')
  try {
    const v = await Promise.race([p, new Promise((r) => setImmediate(() => r(marker)))])
    return v === marker ? 'pending' : 'fulfilled'
  } catch {
    return 'rejected'
  }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('BufferPool', () => {
  it('reuses poolable buffers', () => {
    const pool = new BufferPool(4 * P, P)
    const a = pool.tryAllocate(P)!
    expect(a.length).toBe(P)
    expect(pool.availableMemory()).toBe(3 * P)
    pool.deallocate(a)
    expect(pool.availableMemory()).toBe(4 * P)
    expect(pool.unallocatedMemory()).toBe(3 * P)
    expect(pool.freeBufferCount()).toBe(1)
    expect(pool.tryAllocate(P)).toBe(a)
    expect(pool.freeBufferCount()).toBe(0)
  })

  it('allocates other sizes fresh but counts them, turning free buffers back into bytes when needed', () => {
    const pool = new BufferPool(4 * P, P)
    const bufs = [pool.tryAllocate(P)!, pool.tryAllocate(P)!, pool.tryAllocate(P)!]
    for (const b of bufs) pool.deallocate(b)
    expect(pool.freeBufferCount()).toBe(3)
    const big = pool.tryAllocate(3 * P + 10)!
    expect(big.length).toBe(3 * P + 10)
    expect(pool.freeBufferCount()).toBe(0)
    expect(pool.availableMemory()).toBe(P - 10)
    pool.deallocate(big)
    expect(pool.freeBufferCount()).toBe(0)
    expect(pool.availableMemory()).toBe(4 * P)
    const odd = pool.tryAllocate(100)!
    pool.deallocate(odd)
    expect(pool.freeBufferCount()).toBe(0)
  })

  it('returns null instead of waiting, and rejects impossible sizes at once', async () => {
    const pool = new BufferPool(2 * P, P)
    pool.tryAllocate(P)
    pool.tryAllocate(P)
    expect(pool.tryAllocate(1)).toBeNull()
    expect(() => pool.tryAllocate(2 * P + 1)).toThrow(KafkaInvalidRecordError)
    await expect(pool.allocate(2 * P + 1, 1000, 0)).rejects.toThrow(KafkaInvalidRecordError)
    await expect(pool.allocate(2 * P + 1, 1000, 0)).rejects.toThrow(/hard limit of 2048/)
    expect(pool.queued()).toBe(0)
  })

  it('serves waiters in FIFO order, the head reserving memory across deallocations', async () => {
    const pool = new BufferPool(4 * P, P)
    const held = [pool.tryAllocate(P)!, pool.tryAllocate(P)!, pool.tryAllocate(P)!, pool.tryAllocate(P)!]
    const big = pool.allocate(2 * P, 10_000, 0)
    const small = pool.allocate(P, 10_000, 0)
    expect(pool.queued()).toBe(2)
    // Synchronous callers do not jump the queue.
    pool.deallocate(held[0]!)
    expect(await state(big)).toBe('pending')
    expect(await state(small)).toBe('pending')
    expect(pool.availableMemory()).toBe(0) // the head holds the partial reservation
    expect(pool.tryAllocate(1)).toBeNull()
    pool.deallocate(held[1]!)
    expect(await state(big)).toBe('fulfilled')
    expect((await big).length).toBe(2 * P)
    expect(await state(small)).toBe('pending')
    pool.deallocate(held[2]!)
    expect(await state(small)).toBe('fulfilled')
    expect(await small).toBe(held[2]) // poolable: the freed buffer itself
    expect(pool.queued()).toBe(0)
  })

  it('times out a waiter with KafkaTimeoutError and gives back its partial reservation', async () => {
    vi.useFakeTimers()
    const pool = new BufferPool(2 * P, P)
    const a = pool.tryAllocate(P)!
    pool.tryAllocate(P)
    const waiter = pool.allocate(2 * P, 50, 1000)
    const behind = pool.allocate(P, 500, 1000)
    pool.deallocate(a) // goes to the head waiter, partially
    expect(pool.availableMemory()).toBe(0)
    const failed = expect(waiter).rejects.toSatisfy((e: unknown) => {
      expect(e).toBeInstanceOf(KafkaTimeoutError)
      expect((e as KafkaTimeoutError).retriable).toBe(true)
      expect((e as Error).message).toBe(
        'Failed to allocate 2048 bytes within the configured max blocking time 50 ms. ' +
          'Total memory: 2048 bytes. Available memory: 0 bytes. Poolable size: 1024 bytes',
      )
      return true
    })
    vi.advanceTimersByTime(49)
    expect(pool.queued()).toBe(2)
    vi.advanceTimersByTime(1)
    await failed
    // The freed reservation went straight to the next waiter.
    expect((await behind).length).toBe(P)
    expect(pool.queued()).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('times out waiters by their own deadlines, not their order', async () => {
    vi.useFakeTimers()
    const pool = new BufferPool(P, P)
    pool.tryAllocate(P)
    const slow = pool.allocate(P, 300, 0)
    const fast = pool.allocate(P, 100, 0)
    const slowDone = expect(slow).rejects.toThrow(KafkaTimeoutError)
    const fastDone = expect(fast).rejects.toThrow(/max blocking time 100 ms/)
    vi.advanceTimersByTime(100)
    await fastDone
    expect(pool.queued()).toBe(1)
    vi.advanceTimersByTime(199)
    expect(pool.queued()).toBe(1)
    vi.advanceTimersByTime(1)
    await slowDone
    expect(pool.queued()).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects at once with a zero blocking time', async () => {
    const pool = new BufferPool(P, P)
    pool.tryAllocate(P)
    await expect(pool.allocate(P, 0, 0)).rejects.toThrow(KafkaTimeoutError)
    expect(pool.queued()).toBe(0)
  })

  it('holds a timer only while someone waits', async () => {
    const pool = new BufferPool(P, P)
    const before = timeoutCount()
    const a = pool.tryAllocate(P)!
    expect(timeoutCount()).toBe(before)
    const waiting = pool.allocate(P, 60_000, Date.now())
    expect(timeoutCount()).toBe(before + 1)
    pool.deallocate(a)
    expect(await waiting).toBe(a)
    expect(timeoutCount()).toBe(before)
    pool.deallocate(a)
    expect(timeoutCount()).toBe(before)
  })

  it('close() fails waiters and later allocations, and drops its timer', async () => {
    const pool = new BufferPool(P, P)
    const before = timeoutCount()
    const a = pool.tryAllocate(P)!
    const waiting = pool.allocate(P, 60_000, 0)
    pool.close()
    await expect(waiting).rejects.toThrow(KafkaProducerClosedError)
    expect(timeoutCount()).toBe(before)
    expect(() => pool.tryAllocate(1)).toThrow(KafkaProducerClosedError)
    await expect(pool.allocate(1, 10, 0)).rejects.toThrow(KafkaProducerClosedError)
    pool.deallocate(a)
    expect(pool.availableMemory()).toBe(P)
  })

  it('never hands out more than totalMemory, whatever the mix of sizes', async () => {
    const total = 10 * P
    const pool = new BufferPool(total, P)
    let seed = 7
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x80000000
    }
    const out = new Set<Buffer>()
    const pending: Promise<void>[] = []
    let handedOut = 0
    const take = (b: Buffer) => {
      expect(out.has(b)).toBe(false)
      out.add(b)
      handedOut += b.length
      expect(handedOut).toBeLessThanOrEqual(total)
    }
    for (let step = 0; step < 2000; step++) {
      const r = rand()
      const size = r < 0.6 ? P : 1 + Math.floor(rand() * 3 * P)
      if (r < 0.55) {
        const b = pool.tryAllocate(size)
        if (b !== null) take(b)
        else if (pool.queued() < 5) pending.push(pool.allocate(size, 1e9, 0).then(take))
      } else if (out.size > 0) {
        const victim = [...out][Math.floor(rand() * out.size)]!
        out.delete(victim)
        handedOut -= victim.length
        pool.deallocate(victim)
      }
      await Promise.resolve()
      // Accounting: what is out + what is free + what waiters reserve = total.
      expect(handedOut + pool.availableMemory()).toBeLessThanOrEqual(total)
    }
    // Give everything back until every waiter has been served and returned its buffer too.
    while (out.size > 0 || pool.queued() > 0) {
      for (const b of [...out]) {
        out.delete(b)
        handedOut -= b.length
        pool.deallocate(b)
      }
      await new Promise((r) => setImmediate(r))
    }
    await Promise.all(pending)
    expect(pool.queued()).toBe(0)
    expect(pool.availableMemory()).toBe(total)
  })
})

describe('BufferPool cancellation', () => {
  const isAbort = (e: unknown): boolean => e instanceof DOMException && e.name === 'AbortError'

  it('an aborted waiter leaves the queue, gives back its partial reservation, and the next is served', async () => {
    const before = timeoutCount()
    const pool = new BufferPool(2 * P, P)
    const a = pool.tryAllocate(P)!
    pool.tryAllocate(P)
    const c = new AbortController()
    const head = pool.allocate(2 * P, 10_000, 0, c.signal)
    const behind = pool.allocate(P, 10_000, 0, new AbortController().signal)
    pool.deallocate(a) // reserved by the head, partially
    expect(pool.availableMemory()).toBe(0)
    expect(EventEmitter.getEventListeners(c.signal, 'abort')).toHaveLength(1)
    c.abort()
    await expect(head).rejects.toSatisfy(isAbort)
    expect((await behind).length).toBe(P)
    expect(pool.queued()).toBe(0)
    expect(EventEmitter.getEventListeners(c.signal, 'abort')).toHaveLength(0)
    expect(timeoutCount()).toBe(before)
  })

  it('a served waiter ignores a later abort; an aborted signal rejects at once', async () => {
    const pool = new BufferPool(P, P)
    const held = pool.tryAllocate(P)!
    const c = new AbortController()
    const w = pool.allocate(P, 10_000, 0, c.signal)
    pool.deallocate(held)
    expect(await w).toBe(held)
    expect(EventEmitter.getEventListeners(c.signal, 'abort')).toHaveLength(0)
    c.abort()
    pool.deallocate(held)
    expect(pool.availableMemory()).toBe(P)
    await expect(pool.allocate(P, 10_000, 0, AbortSignal.abort())).rejects.toSatisfy(isAbort)
    expect(pool.availableMemory()).toBe(P)
  })
})

describe('BufferPool overdraft (a compressed copy counted after the fact)', () => {
  it('reserveOverdraft may take more than is free; nothing is handed out, and waiters reserve nothing, until it is repaid', async () => {
    const P = 1024
    const pool = new BufferPool(4 * P, P)
    const a = pool.tryAllocate(P)!
    const b = pool.tryAllocate(P)!
    const c = pool.tryAllocate(P)!
    pool.deallocate(c) // one pooled buffer on the free list, 1 P unallocated
    pool.reserveOverdraft(3 * P) // uses the free list and the rest, 1 P overdrawn
    expect(pool.availableMemory()).toBe(0)
    expect(pool.unallocatedMemory()).toBe(-P)
    expect(pool.tryAllocate(P)).toBeNull()
    let got: Buffer | null = null
    const waiting = pool.allocate(P, 10_000, 0).then((buf) => (got = buf))
    pool.deallocate(a) // repays the overdraft: still nothing for the waiter
    await Promise.resolve()
    expect(got).toBeNull()
    pool.deallocate(b)
    await waiting
    expect(got!.length).toBe(P)
    pool.deallocate(got!)
    pool.deallocate(null, 3 * P)
    expect(pool.availableMemory()).toBe(4 * P)
  })
})
