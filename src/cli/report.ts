/**
 * The `--report` page: one self-contained HTML file (inline CSS and SVG, no
 * script, no external resource) with throughput and latency per second of
 * the run and the latency histogram. The charts are drawn here, in a few
 * dozen lines of SVG, rather than by a charting library: a page that must
 * open offline, years later, is best served by plain markup.
 *
 * Colours are fixed (REPORT_COLORS) so a test can find the charts in a
 * screenshot. Every text from the run is HTML-escaped; the caller passes the
 * settings already redacted.
 */

export const REPORT_COLORS = {
  records: '#1f77b4',
  megabytes: '#9467bd',
  avgLatency: '#ff7f0e',
  maxLatency: '#d62728',
  histogram: '#2ca02c',
} as const

export interface ReportData {
  readonly title: string
  /** The command line, rendered from the parsed options (a canonical spelling), secrets redacted. */
  readonly command: string
  /** Producer settings as given (Java names), secrets redacted. */
  readonly settings: readonly (readonly [string, string])[]
  readonly summaryLine: string
  readonly startedAt: string
  readonly toolVersion: string
  /** Ms from the start to the last acknowledgement: the last second is partial, and its rates are scaled by this. */
  readonly elapsedMs: number
  /** Per second since the start. */
  readonly secCount: readonly number[]
  readonly secBytes: readonly number[]
  readonly secLatencySum: readonly number[]
  readonly secLatencyMax: readonly number[]
  /** Records per whole-ms latency. */
  readonly histogram: ArrayLike<number>
  readonly percentiles: readonly { readonly label: string; readonly ms: number }[]
  readonly failed: number
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** Round axis steps: 1, 2, 5 × 10^k, about `count` of them up to `max`. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1]
  const raw = max / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!
  const ticks: number[] = []
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)))
  return ticks
}

function fmt(v: number): string {
  if (v >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`
  if (v >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`
  return String(Number(v.toPrecision(3)))
}

interface Series {
  readonly label: string
  readonly color: string
  readonly values: readonly number[]
  /** Right axis (own scale), else left. */
  readonly right?: boolean
  readonly area?: boolean
  readonly dashed?: boolean
}

interface Frame {
  readonly x0: number
  readonly y0: number
  readonly w: number
  readonly h: number
}

const W = 1080
const H = 300
const FRAME: Frame = { x0: 70, y0: 20, w: W - 150, h: H - 70 }

function axes(parts: string[], f: Frame, xTicks: number[], xMax: number, xLabel: string, yTicks: number[], yLabel: string, rightTicks: number[] | null, rightLabel: string | null): void {
  const yMax = yTicks[yTicks.length - 1]!
  for (const t of yTicks) {
    const y = f.y0 + f.h - (t / yMax) * f.h
    parts.push(`<line x1="${f.x0}" y1="${y.toFixed(1)}" x2="${f.x0 + f.w}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/>`)
    parts.push(`<text x="${f.x0 - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${esc(fmt(t))}</text>`)
  }
  if (rightTicks !== null) {
    const rMax = rightTicks[rightTicks.length - 1]!
    for (const t of rightTicks) {
      const y = f.y0 + f.h - (t / rMax) * f.h
      parts.push(`<text x="${f.x0 + f.w + 6}" y="${(y + 4).toFixed(1)}">${esc(fmt(t))}</text>`)
    }
    parts.push(`<text transform="translate(${f.x0 + f.w + 55},${f.y0 + f.h / 2}) rotate(90)" text-anchor="middle">${esc(rightLabel ?? '')}</text>`)
  }
  for (const t of xTicks) {
    const x = f.x0 + (t / xMax) * f.w
    parts.push(`<line x1="${x.toFixed(1)}" y1="${f.y0 + f.h}" x2="${x.toFixed(1)}" y2="${f.y0 + f.h + 4}" stroke="#333"/>`)
    parts.push(`<text x="${x.toFixed(1)}" y="${f.y0 + f.h + 17}" text-anchor="middle">${esc(fmt(t))}</text>`)
  }
  parts.push(`<rect x="${f.x0}" y="${f.y0}" width="${f.w}" height="${f.h}" fill="none" stroke="#333"/>`)
  parts.push(`<text x="${f.x0 + f.w / 2}" y="${f.y0 + f.h + 36}" text-anchor="middle">${esc(xLabel)}</text>`)
  parts.push(`<text transform="translate(18,${f.y0 + f.h / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`)
}

/** About the width of a character at the charts' 11 px font. */
const CHAR_WIDTH = 6.5

function svg(parts: string[], legend: readonly { label: string; color: string }[]): string {
  let lx = FRAME.x0
  for (const l of legend) {
    parts.push(`<rect x="${lx}" y="${H - 16}" width="12" height="12" fill="${l.color}"/>`)
    parts.push(`<text x="${lx + 16}" y="${H - 6}">${esc(l.label)}</text>`)
    lx += 40 + l.label.length * CHAR_WIDTH
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>`
}

/** A line chart over `seconds` seconds (a series may end earlier), one or two y axes. */
function timeChart(series: readonly Series[], leftLabel: string, rightLabel: string | null, seconds: number): string {
  const parts: string[] = []
  const xMax = Math.max(1, seconds)
  const xTicks = niceTicks(xMax, 8).filter((t) => t <= xMax && Number.isInteger(t))
  const leftTicks = niceTicks(Math.max(0, ...series.filter((s) => !s.right).flatMap((s) => s.values)))
  const rightSeries = series.filter((s) => s.right)
  const rightTicks = rightSeries.length > 0 ? niceTicks(Math.max(0, ...rightSeries.flatMap((s) => s.values))) : null
  axes(parts, FRAME, xTicks, xMax, 'seconds since start', leftTicks, leftLabel, rightTicks, rightLabel)
  const f = FRAME
  for (const s of series) {
    const top = (s.right ? rightTicks! : leftTicks)[(s.right ? rightTicks! : leftTicks).length - 1]!
    // Each per-second value is drawn at the middle of its second.
    const pts = s.values.map((v, i) => `${(f.x0 + ((i + 0.5) / xMax) * f.w).toFixed(1)},${(f.y0 + f.h - (v / top) * f.h).toFixed(1)}`)
    if (pts.length === 0) continue
    if (s.area) {
      const first = (f.x0 + (0.5 / xMax) * f.w).toFixed(1)
      const last = (f.x0 + ((s.values.length - 0.5) / xMax) * f.w).toFixed(1)
      parts.push(`<polygon points="${first},${f.y0 + f.h} ${pts.join(' ')} ${last},${f.y0 + f.h}" fill="${s.color}" fill-opacity="0.18"/>`)
    }
    parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''} stroke-linejoin="round"/>`)
    if (pts.length === 1) parts.push(`<circle cx="${pts[0]!.split(',')[0]}" cy="${pts[0]!.split(',')[1]}" r="4" fill="${s.color}"/>`)
  }
  return svg(parts, series.map((s) => ({ label: s.label, color: s.color })))
}

/** Bars of records per latency bin, with the percentiles marked. Bins of whole ms, merged to at most ~80 bars. */
function histogramChart(histogram: ArrayLike<number>, percentiles: readonly { label: string; ms: number }[]): string {
  const parts: string[] = []
  const top = histogram.length // latencies 0 … top-1 ms
  const binMs = Math.max(1, Math.ceil(top / 80))
  const bins = Math.max(1, Math.ceil(top / binMs))
  const counts = new Array<number>(bins).fill(0)
  for (let ms = 0; ms < top; ms++) counts[Math.floor(ms / binMs)]! += histogram[ms]!
  const xMax = bins * binMs
  const yTicks = niceTicks(Math.max(0, ...counts))
  const yTop = yTicks[yTicks.length - 1]!
  axes(parts, FRAME, niceTicks(xMax, 10).filter((t) => t <= xMax && Number.isInteger(t)), xMax, 'latency, ms', yTicks, 'records', null, null)
  const f = FRAME
  const bw = f.w / bins
  counts.forEach((c, i) => {
    if (c === 0) return
    const h = Math.max(1, (c / yTop) * f.h)
    parts.push(`<rect x="${(f.x0 + i * bw + 0.5).toFixed(1)}" y="${(f.y0 + f.h - h).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${REPORT_COLORS.histogram}"><title>${i * binMs}–${(i + 1) * binMs - 1} ms: ${c} records</title></rect>`)
  })
  percentiles.forEach((p, i) => {
    const x = f.x0 + ((p.ms + 0.5) / xMax) * f.w
    const text = `${p.label} ${p.ms} ms`
    // Right of its line, or left of it where it would leave the frame; outlined in white so a bar behind it does not hide it.
    const right = x + 3 + text.length * CHAR_WIDTH <= f.x0 + f.w
    parts.push(`<line x1="${x.toFixed(1)}" y1="${f.y0}" x2="${x.toFixed(1)}" y2="${f.y0 + f.h}" stroke="#555" stroke-dasharray="3 3"/>`)
    parts.push(
      `<text x="${(right ? x + 3 : x - 3).toFixed(1)}" y="${f.y0 + 12 + i * 13}" text-anchor="${right ? 'start' : 'end'}" fill="#333" stroke="#fff" stroke-width="3" paint-order="stroke">${esc(text)}</text>`,
    )
  })
  return svg(parts, [{ label: `records per ${binMs} ms latency bin`, color: REPORT_COLORS.histogram }])
}

const MIN_PARTIAL_SECOND_MS = 250

export function renderReport(d: ReportData): string {
  const seconds = d.secCount.length
  // Rates per second over each second's real length: the last one is partial. A last part shorter than
  // MIN_PARTIAL_SECOND_MS is left out of the rate chart rather than drawn as a spike or a drop.
  const lastMs = d.elapsedMs - 1000 * (seconds - 1)
  const rateSeconds = seconds > 1 && lastMs < MIN_PARTIAL_SECOND_MS ? seconds - 1 : seconds
  const perSecond = (v: number, i: number): number => (i === seconds - 1 && lastMs > 0 && lastMs < 1000 ? (v * 1000) / lastMs : v)
  const mb = d.secBytes.map((b) => b / (1024 * 1024))
  const avg = d.secCount.map((c, i) => (c === 0 ? 0 : d.secLatencySum[i]! / c))
  const throughput = timeChart(
    [
      { label: 'records/s', color: REPORT_COLORS.records, values: d.secCount.slice(0, rateSeconds).map(perSecond), area: true },
      { label: 'MB/s (right axis)', color: REPORT_COLORS.megabytes, values: mb.slice(0, rateSeconds).map(perSecond), right: true, dashed: true },
    ],
    'records/s',
    'MB/s',
    seconds,
  )
  const latency = timeChart(
    [
      { label: 'max latency, ms', color: REPORT_COLORS.maxLatency, values: d.secLatencyMax },
      { label: 'avg latency, ms', color: REPORT_COLORS.avgLatency, values: avg, area: true },
    ],
    'latency, ms',
    null,
    seconds,
  )
  const hist = histogramChart(d.histogram, d.percentiles)
  const settings = d.settings.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('\n')
  const rows = d.secCount
    .map((c, i) => `<tr><td>${i}</td><td>${c}</td><td>${mb[i]!.toFixed(2)}</td><td>${avg[i]!.toFixed(1)}</td><td>${d.secLatencyMax[i]}</td></tr>`)
    .join('\n')
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(d.title)}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1120px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 6px; }
code, pre { font-family: Menlo, Consolas, monospace; font-size: 12px; }
pre { background: #f6f6f6; padding: 8px; white-space: pre-wrap; word-break: break-all; }
.summary { font-size: 14px; background: #eef5fb; padding: 10px; border-left: 4px solid ${REPORT_COLORS.records}; }
table { border-collapse: collapse; font-size: 12px; } td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
td:first-child { text-align: left; } .muted { color: #666; font-size: 12px; }
</style>
</head>
<body>
<h1>${esc(d.title)}</h1>
<div class="muted">kafka-producer-ts ${esc(d.toolVersion)} · started ${esc(d.startedAt)} · ${seconds} s of samples${d.failed > 0 ? ` · <b>${d.failed} records failed</b>` : ''}</div>
<p class="summary">${esc(d.summaryLine)}</p>
<h2>Throughput per second</h2>
<figure id="throughput">${throughput}</figure>
<h2>Latency per second (send() to acknowledgement)</h2>
<figure id="latency">${latency}</figure>
<h2>Latency histogram</h2>
<figure id="histogram">${hist}</figure>
<h2>Command</h2>
<pre>${esc(d.command)}</pre>
<h2>Producer settings given</h2>
<table><tr><th>property</th><th>value</th></tr>
${settings}
</table>
<details><summary>Per-second samples</summary>
<table><tr><th>second</th><th>records</th><th>MB</th><th>avg ms</th><th>max ms</th></tr>
${rows}
</table></details>
</body>
</html>
`
}
