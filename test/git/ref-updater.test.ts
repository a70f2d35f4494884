// The long-lived `git update-ref --stdin` compare-and-swap (src/git/refs.ts):
// the same answers as one `git update-ref <ref> <new> <old>` per move, through
// one process until git refuses a move.
import { utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RefUpdater, updateRefCas } from '../../src/git/index.js';
import { TEST_OBJECT_FORMAT, cleanupRepos, git, makeRepo } from '../helpers/repo.js';

afterEach(cleanupRepos);

const REF = 'refs/agentv/test';
const zero = '0'.repeat(TEST_OBJECT_FORMAT === 'sha256' ? 64 : 40);

function commits(dir: string): [string, string, string] {
  const head = git(dir, 'rev-parse', 'HEAD');
  const tree = git(dir, 'rev-parse', 'HEAD^{tree}');
  const a = git(dir, 'commit-tree', tree, '-p', head, '-m', 'a');
  const b = git(dir, 'commit-tree', tree, '-p', head, '-m', 'b');
  return [head, a, b];
}

describe('RefUpdater', () => {
  it('moves a ref only from the expected value, through one process while nothing is refused', async () => {
    const dir = makeRepo();
    const [head, a, b] = commits(dir);
    const u = new RefUpdater(dir, zero);
    try {
      expect(await u.cas({ ref: REF, newOid: head, oldOid: null })).toBe(true);
      expect(await u.cas({ ref: REF, newOid: a, oldOid: head })).toBe(true);
      expect(git(dir, 'rev-parse', REF)).toBe(a);
      expect(u.spawned).toBe(1);
      // Another writer (plain git) moves it: a move from the old value loses, and "must not exist" loses.
      git(dir, 'update-ref', REF, b, a);
      expect(await u.cas({ ref: REF, newOid: a, oldOid: a })).toBe(false);
      expect(await u.cas({ ref: REF, newOid: a, oldOid: null })).toBe(false);
      expect(git(dir, 'rev-parse', REF)).toBe(b);
      // Serialized: moves issued together apply in order, each against the value the one before left.
      const moves = await Promise.all([u.cas({ ref: REF, newOid: head, oldOid: b }), u.cas({ ref: REF, newOid: a, oldOid: head }), u.cas({ ref: REF, newOid: b, oldOid: head })]);
      expect(moves).toEqual([true, true, false]);
      expect(git(dir, 'rev-parse', REF)).toBe(a);
      expect(git(dir, 'status', '--porcelain')).toBe('');
    } finally {
      u.close();
    }
  });

  it('two updaters racing from the same value: exactly one wins each round', async () => {
    const dir = makeRepo();
    const [head, a, b] = commits(dir);
    const [u, v] = [new RefUpdater(dir, zero), new RefUpdater(dir, zero)];
    try {
      expect(await u.cas({ ref: REF, newOid: head, oldOid: null })).toBe(true);
      for (let round = 0; round < 10; round++) {
        const from = git(dir, 'rev-parse', REF);
        const [x, y] = from === a ? [b, head] : [a, b === from ? head : b];
        const won = await Promise.all([u.cas({ ref: REF, newOid: x, oldOid: from }), v.cas({ ref: REF, newOid: y, oldOid: from })]);
        expect(won.filter(Boolean)).toHaveLength(1);
        expect(git(dir, 'rev-parse', REF)).toBe(won[0] ? x : y);
      }
    } finally {
      u.close();
      v.close();
    }
  });

  it('a leftover lock file is REF_LOCKED with the file named, as updateRefCas says', async () => {
    const dir = makeRepo();
    const [head, a] = commits(dir);
    const u = new RefUpdater(dir, zero);
    try {
      expect(await u.cas({ ref: REF, newOid: head, oldOid: null })).toBe(true);
      const lock = path.join(dir, '.git', `${REF}.lock`);
      writeFileSync(lock, '');
      const old = new Date(Date.now() - 60_000);
      utimesSync(lock, old, old);
      await expect(u.cas({ ref: REF, newOid: a, oldOid: head })).rejects.toMatchObject({ code: 'REF_LOCKED' });
      await expect(updateRefCas({ cwd: dir, ref: REF, newOid: a, oldOid: head })).rejects.toMatchObject({ code: 'REF_LOCKED' });
    } finally {
      u.close();
    }
  });
});
