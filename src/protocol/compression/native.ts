import { createRequire } from 'node:module'
import { KafkaConfigError } from '../../errors.js'

/**
 * Lazy, synchronous loading of the optional native codec packages (snappy,
 * lz4-napi, @toondepauw/node-zstd).
 *
 * Invariants:
 * - Nothing here runs at import time: a package is required the first time a
 *   codec that needs it is resolved, so a producer without compression never
 *   loads native code, and the core works with none of them installed.
 * - Loading is synchronous (require, not import()), so the check can run in a
 *   constructor. The packages ship CommonJS entry points; require works the
 *   same from this library's ESM and CJS builds.
 * - A package that loaded is cached; a failure is not, so installing the
 *   package later and resolving again works without a restart.
 * - Failures are KafkaConfigErrors on `compression.type` naming the package to
 *   install, with the loader's reason (not found, or no prebuilt binary for
 *   this platform).
 */

type NodeRequire = (id: string) => unknown

let cachedRequire: NodeRequire | undefined

/**
 * A require resolving from this module's own file, hence from the
 * application's node_modules. The CJS build has `__filename`; the ESM build
 * has none (typeof guards the free identifier) and uses import.meta.url, which
 * is only evaluated there. (`typeof require` would not do: bundlers give ESM
 * output a `require` shim that throws on dynamic requires.)
 */
function nodeRequire(): NodeRequire {
  if (cachedRequire === undefined) {
    cachedRequire = createRequire(typeof __filename === 'string' ? __filename : import.meta.url)
  }
  return cachedRequire
}

const loaded = new Map<string, unknown>()

/**
 * Loads the optional package `name`, which `codec` needs. Throws a
 * KafkaConfigError (key `configKey`) saying what to install when it cannot.
 */
export function loadOptionalPackage<T>(name: string, codec: string, configKey = 'compression.type'): T {
  const hit = loaded.get(name)
  if (hit !== undefined) return hit as T
  let mod: unknown
  try {
    mod = nodeRequire()(name)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const missing = e?.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(`'${name}'`)
    const reason = missing ? 'it is not installed' : `it failed to load: ${firstLine(e?.message ?? String(err))}`
    throw new KafkaConfigError(
      configKey,
      `${codec} compression needs the optional package '${name}', but ${reason}; install it with 'npm install ${name}'`,
    )
  }
  loaded.set(name, mod)
  return mod as T
}

function firstLine(text: string): string {
  const i = text.indexOf('\n')
  return i < 0 ? text : text.slice(0, i)
}
