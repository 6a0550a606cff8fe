#!/usr/bin/env node
// Writes the golden wire-format files in test/golden/*.hex, every one confirmed
// by Kafka's own code (kafka-clients 4.4.0 through test/harness/java/ProtocolCodec.java):
//
// - <api>-v<N>-request.hex: our encoder's bytes for each case in
//   test/golden/cases.ts, written only after Kafka's RequestHeader and generated
//   XxxRequestData parsed them completely into exactly the expected fields and
//   re-serialized them to the same bytes.
// - <api>-v<N>-response.hex and the ApiVersions fallback file: bytes that
//   Kafka's generated XxxResponseData wrote from the cases' JSON.
// - the captured librdkafka mock answer (a constant in cases.ts, no Java).
//
//   node scripts/gen-golden.mjs           # (re)write test/golden/*.hex
//   node scripts/gen-golden.mjs --check   # exit 1 if any file differs
//
// Needs the Kafka jars: .cache/kafka/4.4.0/libs (scripts/ensure-deps.mjs) or $KAFKA_LIBS.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register(); // lets this plain-Node script import the TypeScript sources and cases

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GOLDEN = path.join(ROOT, 'test', 'golden');
const imp = (p) => import(new URL(`../${p}`, import.meta.url).href);

const { encodeRequest } = await imp('src/protocol/api.ts');
const cases = await imp('test/golden/cases.ts');
const { JavaCodec } = await imp('test/harness/protocol-codec.ts');

const check = process.argv.includes('--check');

/** Hex, 32 bytes a line, so a changed field shows as a small diff. */
function toHexFile(buf) {
  const hex = buf.toString('hex');
  const lines = [];
  for (let i = 0; i < hex.length; i += 64) lines.push(hex.slice(i, i + 64));
  return `${lines.join('\n')}\n`;
}

let differing = 0;
function emit(file, buf) {
  const p = path.join(GOLDEN, file);
  const text = toHexFile(buf);
  if (check) {
    const have = fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null;
    if (have !== text) {
      console.error(`gen-golden: ${file} ${have === null ? 'is missing' : 'differs'}`);
      differing++;
    }
    return;
  }
  fs.writeFileSync(p, text);
}

const java = JavaCodec.start();
try {
  fs.mkdirSync(GOLDEN, { recursive: true });

  // Pipelined: every command is queued before the first answer is awaited.
  // Each promise gets a no-op handler at once so an early failure is not an
  // unhandled rejection; the awaits below still see it.
  const settle = (p) => (p.catch(() => {}), p);
  const requests = cases.REQUEST_CASES.map((c) => {
    const frame = Buffer.concat(encodeRequest(c.api, c.version, c.correlationId, c.clientId, c.request)).subarray(4);
    return { c, frame, parsed: settle(java.parseRequest(c.api.apiKey, c.version, frame)) };
  });
  const responses = cases.RESPONSE_CASES.map((c) => ({
    c,
    bytes: settle(java.encodeResponse(c.api.apiKey, c.version, c.correlationId, cases.toJsonText(c.javaBody))),
  }));
  const fallback = settle(
    java.encodeResponse(18, 0, cases.UNSUPPORTED_JAVA_V0.correlationId, cases.toJsonText(cases.UNSUPPORTED_JAVA_V0.javaBody)),
  );

  for (const { c, frame, parsed } of requests) {
    const p = await parsed;
    const where = `${c.api.name} v${c.version} request`;
    assert.deepEqual({ header: p.header, body: p.body }, c.javaJson, `${where}: Kafka parsed other fields than expected`);
    assert.equal(p.reencoded, frame.toString('hex'), `${where}: Kafka re-serializes the parsed request differently`);
    emit(c.file, frame);
  }
  for (const { c, bytes } of responses) emit(c.file, await bytes);
  emit(cases.UNSUPPORTED_JAVA_V0.file, await fallback);
  emit(cases.UNSUPPORTED_LIBRDKAFKA_MOCK.file, Buffer.from(cases.UNSUPPORTED_LIBRDKAFKA_MOCK.hex, 'hex'));
} finally {
  await java.close();
}

const total = cases.REQUEST_CASES.length + cases.RESPONSE_CASES.length + 2;
if (check) {
  if (differing > 0) {
    console.error(`gen-golden: ${differing} of ${total} golden files out of date; run node scripts/gen-golden.mjs`);
    process.exit(1);
  }
  console.log(`gen-golden: all ${total} golden files up to date`);
} else {
  console.log(`gen-golden: wrote ${total} files to ${path.relative(ROOT, GOLDEN)}`);
}
