#!/usr/bin/env node
// Fails when a module in src/ imports against the pipeline's direction:
//
//   shared (src/util, src/errors.ts, src/version.ts)
//     ← src/protocol ← src/network ← src/clients ← src/producer (+ src/config.ts) ← src/index.ts
//     ← src/cli (the kafka-producer-perf tool: an application of the public API)
//   and, beside the entry, src/opentelemetry (the `kafka-producer-ts/opentelemetry` subpath)
//
// A module may import from its own layer or any layer to its left. Type-only
// imports count too: a type that points upward is the same design error.
// Specifiers are resolved as TypeScript's Bundler resolution does ('./x.js',
// './x', './dir' → x.ts or dir/index.ts); one that resolves to no file is
// reported too, so nothing slips past unchecked. It also fails on an error
// class declared outside src/errors.ts, where every error class lives.
// An optional integration (src/opentelemetry) is a second entry point above the
// producer: nothing else in src/ may import it, nor its optional peer package
// (@opentelemetry/*), so the main entry never loads what may not be installed.
//
//   node scripts/check-layering.mjs            # check src/
//   node scripts/check-layering.mjs --root D   # check D/src/ (used by the test that proves it fails)

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Layers, lowest first. A path matches the first entry whose test accepts it. */
const LAYERS = [
  { name: 'shared', test: (p) => p.startsWith('util/') || p === 'errors.ts' || p === 'version.ts' },
  { name: 'protocol', test: (p) => p.startsWith('protocol/') },
  { name: 'network', test: (p) => p.startsWith('network/') },
  { name: 'clients', test: (p) => p.startsWith('clients/') },
  // config.ts is the producer's configuration: it sits with the producer.
  { name: 'producer', test: (p) => p.startsWith('producer/') || p === 'config.ts' },
  // A subpath export: may import the producer's layers, is imported by nothing (see ISOLATED).
  { name: 'opentelemetry', test: (p) => p.startsWith('opentelemetry/') },
  { name: 'entry', test: (p) => p === 'index.ts' },
  // The command-line tools use the library as an application does; nothing imports them.
  { name: 'cli', test: (p) => p.startsWith('cli/') },
];

/** Layers only their own modules may import, with the packages only they may import (optional peers). */
const ISOLATED = [{ layer: 'opentelemetry', packages: /^@opentelemetry\// }];

function layerOf(rel) {
  const i = LAYERS.findIndex((l) => l.test(rel));
  return i;
}

function listTs(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listTs(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

// Static `import … from '…'`, `export … from '…'`, side-effect `import '…'`, and `import('…')`.
/** The src-relative .ts file a relative specifier resolves to, or null. */
function resolveSpecifier(fromFile, spec, src) {
  const base = path.resolve(path.dirname(fromFile), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts'), base];
  for (const c of candidates) {
    if (c.endsWith('.ts') && fs.existsSync(c) && fs.statSync(c).isFile()) return path.relative(src, c).split(path.sep).join('/');
  }
  return null;
}

const ERROR_CLASS = /^\s*(?:export\s+)?(?:abstract\s+)?class\s+(\w+)\s+extends\s+(\w*Error)\b/gm;

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

export function checkLayering(root) {
  const src = path.join(root, 'src');
  const problems = [];
  for (const file of listTs(src)) {
    const rel = path.relative(src, file).split(path.sep).join('/');
    const from = layerOf(rel);
    if (from < 0) {
      problems.push(`${rel}: not in any layer; place it under util/, protocol/, network/, clients/, producer/, opentelemetry/ or cli/`);
      continue;
    }
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1];
      const line = text.slice(0, m.index).split('\n').length;
      if (!spec.startsWith('.')) {
        // packages and node: builtins; an optional peer only from its own layer
        for (const iso of ISOLATED) {
          if (iso.packages.test(spec) && LAYERS[from].name !== iso.layer) problems.push(`${rel}:${line}: imports '${spec}', an optional peer dependency only src/${iso.layer}/ may import`);
        }
        continue;
      }
      const target = resolveSpecifier(file, spec, src);
      if (target === null) {
        problems.push(`${rel}:${line}: imports '${spec}', which resolves to no .ts file`);
        continue;
      }
      if (target.startsWith('..')) {
        problems.push(`${rel}:${line}: imports '${spec}', outside src/`);
        continue;
      }
      const to = layerOf(target);
      if (ISOLATED.some((iso) => iso.layer === LAYERS[to].name) && to !== from) {
        problems.push(`${rel}:${line}: ${LAYERS[from].name} imports ${LAYERS[to].name} ('${spec}'), a subpath export nothing else in src/ may import`);
      } else if (to > from) {
        problems.push(`${rel}:${line}: ${LAYERS[from].name} imports ${LAYERS[to].name} ('${spec}'); dependencies point ${LAYERS.map((l) => l.name).join(' ← ')}`);
      }
    }
  }
  for (const file of listTs(src)) {
    const rel = path.relative(src, file).split(path.sep).join('/');
    if (rel === 'errors.ts') continue;
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(ERROR_CLASS)) {
      const line = text.slice(0, m.index).split('\n').length;
      problems.push(`${rel}:${line}: error class ${m[1]} declared outside src/errors.ts`);
    }
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const i = process.argv.indexOf('--root');
  const root = i > 0 ? path.resolve(process.argv[i + 1]) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const problems = checkLayering(root);
  if (problems.length > 0) {
    console.error(`[layering] ${problems.length} import(s) against the pipeline's direction:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log('[layering] src/ imports point one way: shared ← protocol ← network ← clients ← producer');
}
