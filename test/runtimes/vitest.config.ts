// The runtime matrix (scripts/test-matrix.mjs, Bun and Deno): the repository's
// config plus the *.runtime.ts files of this directory, which the main
// `vitest run` leaves out.  The matrix names the files to run.
import path from 'node:path'
import { defineConfig, mergeConfig } from 'vitest/config'
import base from '../../vitest.config.js'

export default mergeConfig(
  base,
  defineConfig({
    root: path.resolve(import.meta.dirname, '..', '..'),
    test: { include: ['test/**/*.test.ts', 'test/runtimes/**/*.runtime.ts'] },
  }),
)
