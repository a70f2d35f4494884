// Packs written in-process (src/git/pack.ts): git itself reads them, verifies
// them and finds every object in them, in both object formats; roll-ups keep
// every object readable, drop duplicates and leave packs that are not ours alone.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CatFile, ObjectBatch, geometricRollUp, hashObject, openRepo, rollUpPacks, writePack, type ObjectFormat } from '../../src/git/index.js';
import { cleanupRepos, git, makeRepo } from '../helpers/repo.js';

afterEach(cleanupRepos);

const packs = (dir: string) => readdirSync(path.join(dir, '.git', 'objects', 'pack')).filter((f) => f.endsWith('.pack')).sort();

/** Blobs of every size class the entry header and the stored/deflated choice distinguish. */
function blobs(tag: string): Buffer[] {
  return [
    Buffer.from(''),
    Buffer.from(`${tag} small\n`),
    Buffer.from(`${tag} `.repeat(300)), // past the stored-block limit: deflated
    Buffer.from(`${tag}-${'x'.repeat(70_000)}`), // past one stored block and a two-byte size
    Buffer.alloc(1_500_000, tag), // a size header of four bytes
  ];
}

describe.each<ObjectFormat>(['sha1', 'sha256'])('packs in a %s repository', (format) => {
  it('are read, verified and fsck-clean by git, and found by a reader started before them', async () => {
    const dir = makeRepo({ objectFormat: format });
    const repo = await openRepo({ cwd: dir });
    const reader = new CatFile(dir);
    try {
      const batch = new ObjectBatch(format);
      const ids = blobs('a').map((b) => batch.add('blob', b));
      expect(batch.add('blob', blobs('a')[1]!)).toBe(ids[1]); // the same object twice is kept once
      expect(batch.size).toBe(5);
      // A tree and a commit naming them, so fsck checks reachability and links too.
      expect(await reader.read(ids[1]!)).toBeNull();
      const name = await writePack(repo.commonDir, batch);
      expect(packs(dir)).toContain(`pack-${name}.pack`);
      for (const [i, b] of blobs('a').entries()) {
        expect((await reader.read(ids[i]!))?.data.equals(b)).toBe(true);
        expect(git(dir, 'cat-file', '-t', ids[i]!)).toBe('blob');
      }
      git(dir, 'verify-pack', path.join(dir, '.git', 'objects', 'pack', `pack-${name}.idx`));
      const listing = ids.map((id, i) => `100644 blob ${id}\tf${i}\n`).join('');
      const tree = execFileSync('git', ['mktree'], { cwd: dir, input: listing, encoding: 'utf8' }).trim();
      git(dir, 'update-ref', 'refs/agentv/t', git(dir, 'commit-tree', tree, '-m', 'packed'));
      git(dir, 'fsck', '--strict', '--no-dangling');
    } finally {
      reader.close();
    }
  });

  it('roll up geometrically: every object stays readable, duplicates go, packs git wrote stay', async () => {
    const dir = makeRepo({ objectFormat: format });
    const repo = await openRepo({ cwd: dir });
    git(dir, 'repack', '-a', '-d'); // git's own pack of the first commit
    const own = packs(dir);
    const all = new Map<string, Buffer>();
    const write = async (tags: string[]) => {
      const batch = new ObjectBatch(format);
      for (const t of tags) for (const b of blobs(t)) all.set(batch.add('blob', b), b);
      return writePack(repo.commonDir, batch);
    };
    await write(['p']);
    await write(['q', 'p']); // shares every object of the first
    expect(packs(dir)).toHaveLength(own.length + 2);
    expect(await rollUpPacks(repo.commonDir, format)).toBe(2);
    const after = packs(dir);
    expect(after).toEqual(expect.arrayContaining(own));
    expect(after).toHaveLength(own.length + 1);
    const merged = after.find((p) => !own.includes(p))!;
    const listed = git(dir, 'verify-pack', '-v', path.join(dir, '.git', 'objects', 'pack', merged.replace(/\.pack$/, '.idx')));
    expect(listed.split('\n').filter((l) => / blob /.test(l))).toHaveLength(all.size); // each object once
    for (const [oid, body] of all) {
      expect(hashObject('blob', body, format).oid).toBe(oid);
      expect(git(dir, 'cat-file', '-s', oid)).toBe(String(body.length));
    }
    // Nothing more to merge: one pack of ours.
    expect(await rollUpPacks(repo.commonDir, format)).toBe(0);
    git(dir, 'fsck', '--strict', '--no-dangling');
    // A marker whose pack is not there yet (its writer renames it next) is kept; an old one is dropped.
    const markers = path.join(dir, '.git', 'agentv', 'packs');
    const pending = path.join(markers, 'a'.repeat(format === 'sha256' ? 64 : 40));
    writeFileSync(pending, '');
    await rollUpPacks(repo.commonDir, format);
    expect(existsSync(pending)).toBe(true);
    utimesSync(pending, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    await rollUpPacks(repo.commonDir, format);
    expect(existsSync(pending)).toBe(false);
  });
});

describe('geometricRollUp', () => {
  it.each([
    [[], 0],
    [[300], 0],
    [[300, 300], 2],
    [[300, 600], 0],
    [[300, 300, 600], 3],
    [[10, 400, 1000], 0],
    [[10, 20, 1000], 0],
    [[10, 15, 1000], 2],
    [[5, 5, 5, 5, 100], 4],
  ])('%j → roll up the %i smallest', (counts, expected) => {
    expect(geometricRollUp(counts)).toBe(expected);
  });
});
