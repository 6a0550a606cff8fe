/**
 * The live view on a terminal: one line, redrawn in place (`\r` + erase to
 * end of line), with a bar of records acknowledged out of the total, the
 * recent rate in records/s and MB/s, average and maximum latency of the
 * recent records, requests in flight and buffer.memory in use (from the
 * producer's metrics). Off a terminal the CLI prints Java's 5-second window
 * lines instead (PerfStats), never this.
 */
export interface ProgressView {
  readonly acked: number
  readonly total: number
  readonly recordsPerSec: number
  readonly mbPerSec: number
  readonly avgLatencyMs: number
  readonly maxLatencyMs: number
  /** Produce requests awaiting a response, and records sent but not yet acknowledged. */
  readonly requestsInFlight: number
  readonly recordsInFlight: number
  /** 0 … 1 of buffer.memory. */
  readonly bufferUsed: number
  readonly elapsedMs: number
}

function compact(n: number): string {
  if (!Number.isFinite(n)) return '-'
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`
  return String(Math.round(n))
}

/** The line for `columns` terminal columns: the bar shrinks first, then fields drop from the right. */
export function progressLine(v: ProgressView, columns: number): string {
  const pct = v.total > 0 ? Math.min(1, v.acked / v.total) : 0
  const fields = [
    `${(pct * 100).toFixed(0).padStart(3)}% ${compact(v.acked)}/${compact(v.total)}`,
    `${compact(v.recordsPerSec)} rec/s ${v.mbPerSec.toFixed(2)} MB/s`,
    `lat avg ${Number.isFinite(v.avgLatencyMs) ? v.avgLatencyMs.toFixed(1) : '-'} max ${Number.isFinite(v.maxLatencyMs) ? v.maxLatencyMs.toFixed(0) : '-'} ms`,
    `in flight ${v.requestsInFlight} req ${compact(v.recordsInFlight)} rec`,
    `buffer ${(v.bufferUsed * 100).toFixed(0)}%`,
    `${(v.elapsedMs / 1000).toFixed(0)} s`,
  ]
  const width = Math.max(20, columns - 1)
  let text = fields.join(' | ')
  while (text.length > width - 12 && fields.length > 1) {
    fields.pop()
    text = fields.join(' | ')
  }
  const barWidth = Math.max(0, Math.min(30, width - text.length - 3))
  if (barWidth < 5) return text.slice(0, width)
  const filled = Math.round(pct * barWidth)
  return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${text}`
}

/** Writes the line in place; `clear()` erases it before normal output. */
export class TtyLine {
  private drawn = false
  constructor(private readonly out: { write(s: string): unknown; columns?: number }) {}

  draw(v: ProgressView): void {
    this.out.write(`\r${progressLine(v, this.out.columns ?? 80)}\x1b[K`)
    this.drawn = true
  }

  clear(): void {
    if (!this.drawn) return
    this.out.write('\r\x1b[K')
    this.drawn = false
  }
}
