// Paths shared by the bench scripts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(BENCH, '..');
export const CACHE = path.join(ROOT, '.cache');
/** Build outputs of bench/ensure.mjs: the C producer, the Java runner, status.json. */
export const BUILD = path.join(CACHE, 'bench');
export const C_PRODUCER = path.join(BUILD, 'producer');
export const JAVA_CLASSES = path.join(BUILD, 'java');
export const STATUS_FILE = path.join(BUILD, 'status.json');
export const RESULTS = path.join(BENCH, 'results');
export const KAFKA_DIR = path.join(CACHE, 'kafka', '4.4.0');
export const TOOLS_LOG4J2 = path.join(CACHE, 'javahelpers', 'log4j2-tools.xml');
