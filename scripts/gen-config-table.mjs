#!/usr/bin/env node
// Generates everything derived from the producer option table
// (CONFIG_DEFINITIONS in src/config.ts):
//   - the options table in docs/configuration.md, between
//     <!-- config-table:start --> and <!-- config-table:end -->;
//   - the typed interfaces of src/config.ts (ProducerConfigOptions with JSDoc on
//     every option, ResolvedProducerConfig), between
//     // <config-interfaces:generated> and // </config-interfaces:generated>.
//
// How it reads the table: this is plain ESM, and the table is TypeScript, so
// the CLI is run through tsx (a devDependency), which lets the dynamic import
// below load src/config.ts directly — no build step, and the output can never
// be stale relative to a previous build:
//
//   npx tsx scripts/gen-config-table.mjs                  print the Markdown table
//   npx tsx scripts/gen-config-table.mjs --check [FILE]   exit 1 when FILE's table differs
//   npx tsx scripts/gen-config-table.mjs --write [FILE]   rewrite FILE's table in place
//   npx tsx scripts/gen-config-table.mjs --check-source   exit 1 when src/config.ts's interfaces are stale
//   npx tsx scripts/gen-config-table.mjs --write-source   regenerate them
//
// FILE defaults to docs/configuration.md (DOCS_TABLE_FILE), where the table lives.
//
// The rendering functions are exported and take the table as an argument, so
// tests import this module and compare without spawning a process.

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const CONFIG_SOURCE = path.join(ROOT, 'src', 'config.ts')
/** The document that holds the options table, relative to the repository root. */
export const DOCS_TABLE_FILE = 'docs/configuration.md'

export const TABLE_START = '<!-- config-table:start -->'
export const TABLE_END = '<!-- config-table:end -->'
export const SOURCE_START = '// <config-interfaces:generated>'
export const SOURCE_END = '// </config-interfaces:generated>'

const INT_MAX = 2147483647
const LONG_MAX = Number.MAX_SAFE_INTEGER

// ---------------------------------------------------------------------------
// Shared wording
// ---------------------------------------------------------------------------

function boundText(n) {
  if (n === INT_MAX) return '2^31-1'
  if (n === LONG_MAX) return '2^53-1'
  return String(n)
}

/** "[0, 2^31-1]" (with extra values: "[1, 9] or -1") for integers, "all, -1, 0, 1" for enumerations, '' otherwise. */
export function validValuesText(d) {
  if (d.type === 'int' || d.type === 'long') {
    const max = d.max ?? (d.type === 'int' ? INT_MAX : LONG_MAX)
    const also = d.alsoAllowed !== undefined && d.alsoAllowed.length > 0 ? ` or ${d.alsoAllowed.join(', ')}` : ''
    return `[${boundText(d.min ?? 0)}, ${boundText(max)}]${also}`
  }
  if (d.allowed !== undefined) return d.allowed.map((a) => (a === '' ? "''" : a)).join(', ')
  return ''
}

/** The Kafka name and its aliases, e.g. "`sasl.mechanism` (also `sasl.mechanisms`)". */
function kafkaNamesText(d) {
  const aliases = d.aliases ?? []
  return `\`${d.kafkaName}\`${aliases.length ? ` (also ${aliases.map((a) => `\`${a}\``).join(', ')})` : ''}`
}

/** The default as Markdown/JSDoc: "`16384` (16 KiB)", or "required". */
export function defaultText(d, required = 'required') {
  if (d.default === undefined) return required
  const note = d.defaultNote !== undefined ? ` (${d.defaultNote})` : ''
  return `\`${d.default === '' ? "''" : String(d.default)}\`${note}`
}

function sentence(text) {
  return /[.!?]$/.test(text) ? text : `${text}.`
}

// ---------------------------------------------------------------------------
// Options table (docs/configuration.md)
// ---------------------------------------------------------------------------

function cell(text) {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}

/** The Markdown table: option, Kafka name, default, meaning (with valid values). */
export function renderMarkdownTable(defs) {
  const lines = ['| Option | Kafka name | Default | Meaning |', '| --- | --- | --- | --- |']
  for (const d of defs) {
    const kafka = d.kafkaName === null ? '—' : kafkaNamesText(d)
    const dflt = defaultText(d, '*required*')
    const valid = validValuesText(d)
    let meaning = sentence(d.doc)
    if (d.type === 'int' || d.type === 'long') meaning += ` Range: ${valid}.`
    else if (d.allowed !== undefined) meaning += ` Values: ${valid}.`
    lines.push(`| \`${d.name}\` | ${kafka} | ${dflt} | ${cell(meaning)} |`)
  }
  return lines.join('\n')
}

// ---------------------------------------------------------------------------
// TypeScript interfaces
// ---------------------------------------------------------------------------

function enumType(d) {
  return d.allowed.map((a) => `'${a}'`).join(' | ')
}

function inputType(d, underKafkaName) {
  switch (d.type) {
    case 'optional-string':
      return 'string | null'
    case 'password':
      return 'string | Secret | null'
    case 'enum':
      // Kafka names take any case (librdkafka does); camelCase names are typed exactly.
      return underKafkaName ? 'string' : `${enumType(d)}${d.default === null ? ' | null' : ''}`
    case 'ssl':
      return 'boolean | SslOptions | null'
    case 'sasl':
      return 'SaslOptions | null'
    case 'int':
    case 'long':
      return underKafkaName ? 'number | string' : 'number'
    case 'boolean':
      return underKafkaName ? 'boolean | string' : 'boolean'
    case 'string':
      return 'string'
    case 'nullableString':
      return 'string | null'
    case 'acks':
      return 'Acks'
    case 'bootstrap':
      return 'string | readonly string[]'
    case 'compression':
      return 'CompressionCodec'
    case 'function':
      return 'CustomPartitioner | null'
    case 'logger':
      return 'Logger | null'
    default:
      throw new Error(`gen-config-table: no TypeScript type for value type '${d.type}' (${d.name})`)
  }
}

function resolvedType(d) {
  switch (d.type) {
    case 'optional-string':
      return 'string | null'
    case 'password':
      return 'Secret | null'
    case 'enum':
      return `${enumType(d)}${d.default === null ? ' | null' : ''}`
    case 'ssl':
      return 'true | SslOptions | null'
    case 'sasl':
      return 'SaslOptions | null'
    case 'int':
    case 'long':
      return 'number'
    case 'boolean':
      return 'boolean'
    case 'string':
      return 'string'
    case 'nullableString':
      return 'string | null'
    case 'acks':
      return '-1 | 0 | 1'
    case 'bootstrap':
      return 'readonly BrokerAddress[]'
    case 'compression':
      return 'CompressionCodec'
    case 'function':
      return 'CustomPartitioner | null'
    case 'logger':
      return 'Logger | null'
    default:
      throw new Error(`gen-config-table: no TypeScript type for value type '${d.type}' (${d.name})`)
  }
}

function jsdocSafe(text) {
  return text.replace(/\*\//g, '*\u200b/')
}

/** The generated region of src/config.ts, without the marker lines. */
export function renderSourceBlock(defs) {
  const out = []
  out.push('/**')
  out.push(' * Producer options, each under its camelCase name (strictly typed) or its')
  out.push(' * Kafka property name (also accepting the string forms of .properties files).')
  out.push(' * `undefined` counts as unset. Generated from CONFIG_DEFINITIONS.')
  out.push(' */')
  out.push('export interface ProducerConfigOptions {')
  for (const d of defs) {
    const facts = []
    if (d.kafkaName !== null) facts.push(`Kafka name: ${kafkaNamesText(d)}.`)
    facts.push(d.default === undefined ? 'Required.' : `Default: ${defaultText(d)}.`)
    const valid = validValuesText(d)
    if (d.type === 'int' || d.type === 'long') facts.push(`Range: ${valid}.`)
    else if (d.allowed !== undefined) facts.push(`Values: ${valid}.`)
    out.push('  /**')
    out.push(`   * ${jsdocSafe(sentence(d.doc))}`)
    out.push('   *')
    out.push(`   * ${jsdocSafe(facts.join(' '))}`)
    if (d.javaNote !== undefined) out.push(`   * ${jsdocSafe(d.javaNote)}`)
    out.push('   */')
    // acks, retries: the camelCase name is the Kafka name, so the string forms apply.
    out.push(`  ${d.name}?: ${inputType(d, d.kafkaName === d.name)}`)
    if (d.kafkaName !== null && d.kafkaName !== d.name) {
      for (const k of [d.kafkaName, ...(d.aliases ?? [])]) {
        out.push(`  /** ${k === d.kafkaName ? 'Kafka' : 'Alternative'} name of {@link ProducerConfigOptions.${d.name}}. */`)
        out.push(`  '${k}'?: ${inputType(d, true)}`)
      }
    }
  }
  out.push('}')
  out.push('')
  out.push('/** The validated, normalized configuration. Generated from CONFIG_DEFINITIONS. */')
  out.push('export interface ResolvedProducerConfig {')
  for (const d of defs) {
    const name = d.kafkaName === null ? '' : ` (\`${d.kafkaName}\`)`
    out.push(`  /** ${jsdocSafe(sentence(d.doc))}${name} */`)
    out.push(`  readonly ${d.name}: ${resolvedType(d)}`)
  }
  out.push('  /** TLS and SASL as the connection layer uses them, resolved from the options above (not an option itself). */')
  out.push('  readonly security: ResolvedSecurity')
  out.push('}')
  return out.join('\n')
}

// ---------------------------------------------------------------------------
// Marker handling
// ---------------------------------------------------------------------------

/** The text strictly between the two marker lines, or undefined when a marker is missing. */
export function extractBetween(text, start, end) {
  const i = text.indexOf(start)
  const j = text.indexOf(end, i + start.length)
  if (i < 0 || j < 0) return undefined
  return text.slice(i + start.length, j)
}

export function replaceBetween(text, start, end, block) {
  const i = text.indexOf(start)
  const j = text.indexOf(end, i + start.length)
  if (i < 0 || j < 0) throw new Error(`markers ${start} ... ${end} not found`)
  return `${text.slice(0, i + start.length)}\n${block}\n${text.slice(j)}`
}

function normalize(text) {
  return text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .join('\n')
    .trim()
}

/** Undefined when equal, else a short description of the first difference. */
export function firstDifference(actual, expected) {
  const a = normalize(actual).split('\n')
  const e = normalize(expected).split('\n')
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) {
      return `line ${i + 1} of the generated block:\n  expected: ${e[i] ?? '(nothing)'}\n  found:    ${a[i] ?? '(nothing)'}`
    }
  }
  return undefined
}

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------

const USAGE = `usage: npx tsx scripts/gen-config-table.mjs [--check [FILE] | --write [FILE] | --check-source | --write-source]
FILE defaults to ${DOCS_TABLE_FILE}.`

async function loadDefinitions() {
  try {
    const mod = await import(pathToFileURL(CONFIG_SOURCE).href)
    return mod.CONFIG_DEFINITIONS
  } catch (err) {
    if (err && (err.code === 'ERR_UNKNOWN_FILE_EXTENSION' || err.code === 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING')) {
      throw new Error('src/config.ts is TypeScript: run this script as `npx tsx scripts/gen-config-table.mjs ...`')
    }
    throw err
  }
}

function checkFile(file, start, end, expected, what) {
  if (!fs.existsSync(file)) {
    console.error(`${file}: file not found`)
    return 2
  }
  const text = fs.readFileSync(file, 'utf8')
  const actual = extractBetween(text, start, end)
  if (actual === undefined) {
    console.error(`${file}: markers ${start} / ${end} not found`)
    return 2
  }
  const diff = firstDifference(actual, expected)
  if (diff !== undefined) {
    console.error(`${file}: ${what} is out of date (${diff})`)
    console.error(`regenerate with: npx tsx scripts/gen-config-table.mjs ${what === 'options table' ? `--write ${file}` : '--write-source'}`)
    return 1
  }
  console.log(`${file}: ${what} is up to date`)
  return 0
}

function writeFile(file, start, end, block) {
  const text = fs.readFileSync(file, 'utf8')
  const updated = replaceBetween(text, start, end, block)
  if (updated !== text) fs.writeFileSync(file, updated)
  console.log(`${file}: ${updated === text ? 'unchanged' : 'updated'}`)
}

async function main(argv) {
  const [mode, file, ...rest] = argv
  if (rest.length > 0 || mode === '-h' || mode === '--help') {
    console.log(USAGE)
    return rest.length > 0 ? 2 : 0
  }
  const defs = await loadDefinitions()
  switch (mode) {
    case undefined:
      console.log(renderMarkdownTable(defs))
      return 0
    case '--check':
    case '--write': {
      const target = file ?? (path.relative(process.cwd(), path.join(ROOT, DOCS_TABLE_FILE)) || DOCS_TABLE_FILE)
      if (mode === '--check') return checkFile(target, TABLE_START, TABLE_END, renderMarkdownTable(defs), 'options table')
      writeFile(target, TABLE_START, TABLE_END, renderMarkdownTable(defs))
      return 0
    }
    case '--check-source':
      return checkFile(CONFIG_SOURCE, SOURCE_START, SOURCE_END, renderSourceBlock(defs), 'generated interfaces region')
    case '--write-source':
      writeFile(CONFIG_SOURCE, SOURCE_START, SOURCE_END, renderSourceBlock(defs))
      return 0
    default:
      console.error(USAGE)
      return 2
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err) => {
      console.error(err instanceof Error ? err.message : err)
      process.exitCode = 1
    },
  )
}
