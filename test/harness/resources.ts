// Live timers, immediates and TCP sockets of this process, for the tests that
// check the producer leaves nothing behind (test/unit/selector.test.ts,
// test/unit/buffer-pool.test.ts).
//
// Node and Deno answer through process.getActiveResourcesInfo().  Bun (1.4)
// has the function but it always returns [], so a leak check built on it
// would pass without checking anything, and a check that a timer exists would
// fail.  There the counts come from a tracker: global setTimeout /
// setImmediate (and their clear functions) and net.Socket#connect are wrapped,
// once, when this module is first imported, so the package's own calls (it
// looks the globals up at call time) are seen.  Timers created before the
// import are not counted, which the tests allow for: they compare counts taken
// after it.
import net from 'node:net'

export interface ResourceCounts {
  /** TCP sockets (Node/Deno: client and accepted ones; tracker: client sockets connected through net.Socket#connect). */
  sockets: number
  timeouts: number
  immediates: number
}

function reportsResources(): boolean {
  if (typeof process.getActiveResourcesInfo !== 'function') return false
  const t = setTimeout(() => {}, 1 << 30)
  try {
    return process.getActiveResourcesInfo().includes('Timeout')
  } finally {
    clearTimeout(t)
  }
}

type Handle = unknown

class Tracker {
  readonly timeouts = new Set<Handle>()
  readonly immediates = new Set<Handle>()
  readonly sockets = new Set<net.Socket>()

  install(): void {
    const g = globalThis as unknown as Record<string, (...a: unknown[]) => unknown>
    const wrap = (setName: string, clearName: string, live: Set<Handle>): void => {
      const set = g[setName]!
      const clear = g[clearName]!
      g[setName] = function (this: unknown, ...a: unknown[]) {
        const [cb, ...rest] = a as [(...x: unknown[]) => unknown, ...unknown[]]
        // A one-shot timer stops being live when it fires; the handle is only known after set() returns.
        const box: { h?: Handle } = {}
        box.h = set.call(this, function (this: unknown, ...args: unknown[]) {
          live.delete(box.h)
          return cb.apply(this, args)
        }, ...rest)
        live.add(box.h)
        return box.h
      }
      g[clearName] = function (this: unknown, h: Handle) {
        live.delete(h)
        return clear.call(this, h)
      }
    }
    wrap('setTimeout', 'clearTimeout', this.timeouts)
    wrap('setImmediate', 'clearImmediate', this.immediates)
    const connect = net.Socket.prototype.connect
    const sockets = this.sockets
    net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
      sockets.add(this)
      this.once('close', () => sockets.delete(this))
      return (connect as (...a: unknown[]) => net.Socket).apply(this, args)
    } as typeof connect
  }

  counts(): ResourceCounts {
    for (const s of this.sockets) if (s.destroyed) this.sockets.delete(s)
    return { sockets: this.sockets.size, timeouts: this.timeouts.size, immediates: this.immediates.size }
  }
}

const tracker = reportsResources() ? null : new Tracker()
tracker?.install()

/** Counts of live resources; see the file comment for where they come from on each runtime. */
export function activeResources(): ResourceCounts {
  if (tracker) return tracker.counts()
  const all = process.getActiveResourcesInfo()
  return {
    sockets: all.filter((r) => r === 'TCPSocketWrap').length,
    timeouts: all.filter((r) => r === 'Timeout').length,
    immediates: all.filter((r) => r === 'Immediate').length,
  }
}
