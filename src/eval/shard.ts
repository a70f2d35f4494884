// Sharded runs (SPEC 3.9): `--shard I/N` executes the I-th of N disjoint slices
// of one run. Test T belongs to slice I when sha256(T) mod N = I - 1, where
// sha256(T) is the SHA-256 digest of the test id's UTF-8 bytes read as one
// unsigned big-endian 256-bit integer. The slice depends on the test id and N
// only: every machine computes the same slices from the same suite, whatever
// the order of its tests, and a test added later lands in one slice.
import { createHash } from 'node:crypto';
import { AgentvError } from '../errors.js';
import type { SliceRef } from '../schemas/manifest.js';

/** At most this many slices: far more than any CI matrix, small enough to list. */
export const MAX_SHARDS = 1024;

/** The 1-based slice a test id belongs to among `count` slices. */
export function sliceOf(testId: string, count: number): number {
  const digest = createHash('sha256').update(testId, 'utf8').digest('hex');
  return Number(BigInt(`0x${digest}`) % BigInt(count)) + 1;
}

/** Parse `I/N` (1 ≤ I ≤ N ≤ MAX_SHARDS); anything else is a usage error (exit 2). */
export function parseShard(text: string): SliceRef {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || count > MAX_SHARDS || index < 1 || index > count) {
    throw new AgentvError('USAGE', `--shard takes I/N with 1 ≤ I ≤ N ≤ ${MAX_SHARDS} (for example --shard 2/4), not ${JSON.stringify(text)}`);
  }
  return { index, count };
}

/** The tests of one slice, in suite order. */
export function selectSlice<T extends { id: string }>(tests: T[], slice: SliceRef): T[] {
  return tests.filter((t) => sliceOf(t.id, slice.count) === slice.index);
}
