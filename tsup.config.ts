import { defineConfig } from 'tsup'

export default defineConfig({
  // The OpenTelemetry integration is a second entry (the `kafka-producer-ts/opentelemetry` subpath): its
  // @opentelemetry/api import (a peer dependency, so external) stays out of the main entry.
  entry: { index: 'src/index.ts', 'opentelemetry/index': 'src/opentelemetry/index.ts' },
  format: ['esm', 'cjs'],
  // stripInternal: declarations marked `@internal` (KafkaProducer's test-seam constructor overload)
  // stay out of the published typings, and with them the internal types they reference.
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
})
