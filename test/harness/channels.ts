/** Collecting what the producer publishes on its diagnostics channels (node:diagnostics_channel). */
import * as dc from 'node:diagnostics_channel'

/** Collects a plain channel's messages, in publication order, until `stop()`. */
export function listen(name: string): { messages: any[]; stop: () => void } {
  const messages: any[] = []
  const fn = (m: unknown): void => void messages.push(m)
  dc.subscribe(name, fn)
  return { messages, stop: () => dc.unsubscribe(name, fn) }
}
