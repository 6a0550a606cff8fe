import type { Plugin } from 'esbuild'
import { defineConfig } from 'tsup'

/** The CLI's import of the library ('../index.js' in src/cli) stays an import of dist/index.js, not a second copy. */
const libraryAsExternal: Plugin = {
  name: 'library-as-external',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) => (args.importer.includes('/src/cli/') ? { path: './index.js', external: true } : undefined))
  },
}

const CLI = 'kafka-producer-perf'

export default defineConfig([
  {
    // The OpenTelemetry integration is a second entry (the `kafka-producer-ts/opentelemetry` subpath): its
    // @opentelemetry/api import (a peer dependency, so external) stays out of the main entry.
    entry: { index: 'src/index.ts', 'opentelemetry/index': 'src/opentelemetry/index.ts' },
    format: ['esm', 'cjs'],
    // stripInternal: declarations marked `@internal` (KafkaProducer's test-seam constructor overload)
    // stay out of the published typings, and with them the internal types they reference.
    dts: { compilerOptions: { stripInternal: true } },
    sourcemap: true,
    // The CLI's build (below) runs alongside and writes into dist/ too: leave its files.
    clean: [`!${CLI}.js`, `!${CLI}.js.map`],
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
  },
  {
    // `kafka-producer-perf` (package.json "bin"): ESM with a node shebang, outside the library's bundle.
    entry: { [CLI]: 'src/cli/kafka-producer-perf.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    banner: { js: '#!/usr/bin/env node' },
    esbuildPlugins: [libraryAsExternal],
  },
])
