/**
 * The pipeline's folders depend one way (scripts/check-layering.mjs). This
 * runs the check on src/ and proves it fails on an upward import, in a copy.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs script without types
import { checkLayering } from '../../scripts/check-layering.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layering-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

function copyWith(file: string, extra: string): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'src-'))
  fs.cpSync(path.join(ROOT, 'src'), path.join(dir, 'src'), { recursive: true })
  fs.appendFileSync(path.join(dir, 'src', file), `\n${extra}\n`)
  return dir
}

describe('layering', () => {
  it('src/ has no import against shared ← protocol ← network ← clients ← producer', () => {
    expect(checkLayering(ROOT)).toEqual([])
  })

  it('lets the OpenTelemetry subpath import the producer and @opentelemetry/api', () => {
    const dir = copyWith('opentelemetry/index.ts', "import type { Sender } from '../producer/sender.js'\nimport { context } from '@opentelemetry/api'")
    expect(checkLayering(dir)).toEqual([])
  })

  it('fails on an upward import, type-only ones included', () => {
    const cases: [string, string, RegExp][] = [
      ['clients/in-flight-requests.ts', "import { Sender } from '../producer/sender.js'", /clients imports producer/],
      ['protocol/reader.ts', "import type { Selector } from '../network/selector.js'", /protocol imports network/],
      ['util/deque.ts', "export { ProduceApi } from '../protocol/apis/produce.js'", /shared imports protocol/],
      ['network/selector.ts', "const m = import('../clients/metadata.js')", /network imports clients/],
      // Bundler resolution: no extension, and a directory's index.ts
      ['clients/kafka-client.ts', "import type { ResolvedProducerConfig } from '../config'", /clients imports producer/],
      ['clients/kafka-client.ts', "import type { KafkaProducer } from '..'", /clients imports entry/],
      ['protocol/api.ts', "import { nothing } from './no-such-module.js'", /resolves to no \.ts file/],
      // The OpenTelemetry subpath: above the producer, imported by nothing, the only importer of its optional peer.
      ['index.ts', "export { enableOpenTelemetry } from './opentelemetry/index.js'", /entry imports opentelemetry .*subpath export nothing else/],
      ['producer/sender.ts', "import { trace } from '@opentelemetry/api'", /'@opentelemetry\/api', an optional peer dependency only src\/opentelemetry\//],
      ['opentelemetry/index.ts', "import { KafkaProducer } from '../index.js'", /opentelemetry imports entry/],
      // The CLI sits above the entry: the library never imports it.
      ['index.ts', "export { runPerf } from './cli/perf.js'", /entry imports cli/],
      ['producer/kafka-producer.ts', "import type { PerfOptions } from '../cli/args.js'", /producer imports cli/],
    ]
    for (const [file, line, expected] of cases) {
      const problems: string[] = checkLayering(copyWith(file, line))
      expect(problems, `${file} + ${line}`).toHaveLength(1)
      expect(problems[0]).toMatch(expected)
    }
  })

  it('fails on an error class declared outside errors.ts', () => {
    const dir = copyWith('clients/metadata.ts', 'export class StrayError extends Error {}')
    expect(checkLayering(dir)).toEqual([expect.stringMatching(/clients\/metadata\.ts:\d+: error class StrayError declared outside src\/errors\.ts/)])
  })

  it('fails on a module outside every layer', () => {
    const dir = copyWith('index.ts', '')
    fs.writeFileSync(path.join(dir, 'src', 'stray.ts'), 'export const x = 1\n')
    expect(checkLayering(dir)).toEqual([expect.stringMatching(/stray\.ts: not in any layer/)])
  })
})
