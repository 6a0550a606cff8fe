/** Documentation that is generated or duplicated must not drift from the code. */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { SOFTWARE_VERSION } from '../../src/version.js'

describe('docs and metadata', () => {
  it('README configuration table matches src/config.ts', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gen-config-table.mjs', '--check', 'README.md'], { encoding: 'utf8' })
    expect(r.stderr + r.stdout).not.toMatch(/differs|out of date/i)
    expect(r.status).toBe(0)
  }, 30_000)

  it('the version sent to brokers is the package version', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    expect(SOFTWARE_VERSION).toBe(pkg.version)
  })
})
