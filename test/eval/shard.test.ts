// Slice assignment for `--shard I/N` (SPEC 3.9): sha256 of the test id, read as
// a big-endian integer, mod N. Deterministic, disjoint, covering.
import { describe, expect, it } from 'vitest';
import { isAgentvError } from '../../src/errors.js';
import { MAX_SHARDS, parseShard, selectSlice, sliceOf } from '../../src/eval/shard.js';

const ids = Array.from({ length: 500 }, (_, i) => ({ id: `test-${i}` }));

describe('slices of a sharded run', () => {
  it('are sha256(test id) as a big-endian integer mod N, plus one (vectors computed independently)', () => {
    // python3: int(hashlib.sha256(b"t1").hexdigest(), 16) % N + 1
    expect([sliceOf('t1', 4), sliceOf('t1', 7), sliceOf('t1', 1000)]).toEqual([3, 5, 75]);
    expect([sliceOf('t2', 4), sliceOf('t2', 7), sliceOf('t2', 1000)]).toEqual([3, 5, 935]);
    expect([sliceOf('greet', 4), sliceOf('greet', 7), sliceOf('greet', 1000)]).toEqual([1, 2, 621]);
    expect([sliceOf('a', 4), sliceOf('a', 7), sliceOf('a', 1000)]).toEqual([4, 2, 500]);
    expect(sliceOf('anything', 1)).toBe(1);
  });

  it('are disjoint and together cover every test, whatever the order of the suite', () => {
    for (const n of [1, 2, 3, 4, 7, 16]) {
      const slices = Array.from({ length: n }, (_, i) => selectSlice(ids, { index: i + 1, count: n }).map((t) => t.id));
      const all = slices.flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all.sort()).toEqual(ids.map((t) => t.id).sort());
      // Another machine reading the suite in another order computes the same slices.
      const reversed = Array.from({ length: n }, (_, i) => selectSlice([...ids].reverse(), { index: i + 1, count: n }).map((t) => t.id).sort());
      expect(reversed).toEqual(slices.map((s) => [...s].sort()));
    }
    // 500 tests over 4 slices: none is empty or holds nearly everything.
    for (let i = 1; i <= 4; i++) expect(selectSlice(ids, { index: i, count: 4 }).length).toBeGreaterThan(60);
  });

  it('--shard takes I/N with 1 ≤ I ≤ N; anything else is a usage error', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
    for (const bad of ['0/4', '5/4', '4', '1/0', 'a/b', '1/4/2', '-1/4', `1/${MAX_SHARDS + 1}`, '1.5/4']) {
      let err: unknown = null;
      try {
        parseShard(bad);
      } catch (e) {
        err = e;
      }
      expect(isAgentvError(err, 'USAGE'), bad).toBe(true);
    }
  });
});
