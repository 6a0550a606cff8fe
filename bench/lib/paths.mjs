// Paths shared by the bench scripts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(BENCH, '..');
export const CACHE = path.join(ROOT, '.cache');
/**
 * Build outputs of bench/ensure.mjs: the C producer, the Java runner, the mock's shim, kfake, status.json.
 * BENCH_BUILD_DIR moves them: a git worktree whose .cache is shared with other checkouts can then
 * build and measure without replacing their status.json.
 */
export const BUILD = process.env.BENCH_BUILD_DIR ? path.resolve(process.env.BENCH_BUILD_DIR) : path.join(CACHE, 'bench');
export const C_PRODUCER = path.join(BUILD, 'producer');
export const JAVA_CLASSES = path.join(BUILD, 'java');
/** LD_PRELOAD shim that gives the mock cluster's accepted sockets TCP_NODELAY (bench/c/mock-nodelay.c). */
export const MOCK_NODELAY_SO = path.join(BUILD, 'mock-nodelay.so');
/** franz-go's kfake in-memory broker, built from bench/kfake/ with `go build`. */
export const KFAKE_SRC = path.join(BENCH, 'kfake');
export const KFAKE_BIN = path.join(BUILD, 'kfake');
export const STATUS_FILE = path.join(BUILD, 'status.json');
export const RESULTS = path.join(BENCH, 'results');
export const KAFKA_DIR = path.join(CACHE, 'kafka', '4.4.0');
export const TOOLS_LOG4J2 = path.join(CACHE, 'javahelpers', 'log4j2-tools.xml');
