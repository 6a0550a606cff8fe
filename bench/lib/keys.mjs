// Keys of the keyed scenario (S6) and where they land: record i carries the key
// `key-<i mod keys>` (its UTF-8 bytes). Every client places it by Java's default
// partitioner for keyed records (`Utils.toPositive(Utils.murmur2(key)) % partitions`);
// librdkafka's `murmur2_random` partitioner computes the same. The orchestrator
// uses expectedPlacement() to check each partition's end offset after a run, so a
// client that placed keys differently (or saw fewer partitions) fails the run.

/** Record i's key as a string. */
export const keyOf = (i, keys) => `key-${i % keys}`;

/**
 * The 32-bit murmur2 of Kafka's `Utils.murmur2` (seed 0x9747b28c, m 0x5bd1e995,
 * r 24, little-endian 4-byte blocks, tail bytes then the final mix), as a signed int.
 */
export function murmur2(data) {
  const len = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ len;
  const blocks = len >> 2;
  for (let b = 0; b < blocks; b++) {
    const o = b << 2;
    let k = data[o] | (data[o + 1] << 8) | (data[o + 2] << 16) | (data[o + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const t = blocks << 2;
  switch (len & 3) {
    case 3:
      h ^= data[t + 2] << 16;
    // falls through
    case 2:
      h ^= data[t + 1] << 8;
    // falls through
    case 1:
      h ^= data[t];
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Java's default partition of a key: `toPositive(murmur2(key)) % partitions` (toPositive masks the sign bit). */
export const partitionOf = (keyBytes, partitions) => (murmur2(keyBytes) & 0x7fffffff) % partitions;

/** Records per partition when `records` records with keys `key-<i mod keys>` go to `partitions` partitions. */
export function expectedPlacement(records, keys, partitions) {
  const perKey = new Array(partitions).fill(0);
  const n = Math.min(records, keys);
  for (let k = 0; k < n; k++) {
    // Key k is used by records k, k + keys, k + 2 keys, ... below `records`.
    const uses = Math.floor((records - 1 - k) / keys) + 1;
    perKey[partitionOf(Buffer.from(keyOf(k, keys)), partitions)] += uses;
  }
  return perKey;
}
