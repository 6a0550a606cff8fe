/**
 * The results of a frame's blocks, compressed or decompressed in parallel on
 * libuv's thread pool, once *every* block has settled.
 *
 * Why not `Promise.all` alone: it rejects at the first failed block while the
 * other blocks' tasks still read their slice of the input on the pool
 * threads. The caller would then hand the input back (a batch's staging
 * buffer returns to the BufferPool and is written by the next batch) under a
 * running native read. Waiting for all keeps the `Codec` invariant that
 * nothing references the input once the codec's promise settles. Rejects with
 * the error of the first failed block in block order.
 */
export async function allBlocks<T>(pending: readonly Promise<T>[]): Promise<T[]> {
  // The usual path costs what Promise.all costs; only a failure waits for the rest.
  try {
    return await Promise.all(pending)
  } catch (first) {
    const settled = await Promise.allSettled(pending)
    for (const s of settled) if (s.status === 'rejected') throw s.reason
    throw first // unreachable: Promise.all rejected, so some block did
  }
}
