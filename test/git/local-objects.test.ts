// Reading objects and refs from the files (local-objects.ts) must agree with
// git: every object of a repository as cat-file gives it, whether loose, in our
// own packs, or deltified by git gc (offset and ref deltas), in SHA-1 and
// SHA-256; and null, never a wrong answer, for what it leaves to git.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CatFile } from '../../src/git/cat-file.js';
import { LocalObjects, applyDelta } from '../../src/git/local-objects.js';
import type { ObjectFormat } from '../../src/git/objects.js';
import { cleanupRepos, git, makeRepo } from '../helpers/repo.js';

afterEach(cleanupRepos);

/** A history whose files change a little each commit, so that git gc stores most of it as deltas. */
function historyRepo(objectFormat: ObjectFormat): string {
  const dir = makeRepo({ objectFormat });
  const lines = Array.from({ length: 400 }, (_, i) => `line ${i}: ${'lorem ipsum '.repeat(4)}`);
  mkdirSync(path.join(dir, 'd'), { recursive: true });
  for (let c = 0; c < 12; c++) {
    lines[c * 7] = `changed in commit ${c}`;
    writeFileSync(path.join(dir, 'd', 'big.txt'), lines.join('\n'));
    writeFileSync(path.join(dir, `f${c % 3}.txt`), `${c}\n${lines.slice(0, 50 + c).join('\n')}`);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', `commit ${c}`);
  }
  return dir;
}

function allObjects(dir: string): string[] {
  return git(dir, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname)').split('\n').filter(Boolean);
}

/** Every object read locally equals cat-file's; returns how many were read locally. */
async function agreeWithGit(dir: string, local: LocalObjects): Promise<number> {
  const git = new CatFile(dir);
  let read = 0;
  try {
    for (const oid of allObjects(dir)) {
      const mine = local.read(oid);
      const theirs = await git.read(oid);
      expect(theirs, oid).not.toBeNull();
      if (!mine) continue;
      read++;
      expect({ type: mine.type, size: mine.size }).toEqual({ type: theirs!.type, size: theirs!.size });
      expect(mine.data.equals(theirs!.data), oid).toBe(true);
    }
  } finally {
    git.close();
  }
  return read;
}

/** Objects stored as deltas in the repository's packs (verify-pack lists a delta's base last). */
function deltaCount(dir: string): number {
  const packDir = path.join(dir, '.git', 'objects', 'pack');
  return readdirSync(packDir)
    .filter((f) => f.endsWith('.idx'))
    .flatMap((f) => git(dir, 'verify-pack', '-v', path.join(packDir, f)).split('\n'))
    .filter((l) => /^[0-9a-f]+ (blob|tree|commit) +\d+ \d+ \d+ \d+ [0-9a-f]+$/.test(l)).length;
}

describe('objects read from the files', () => {
  for (const objectFormat of ['sha1', 'sha256'] as const) {
    it(`reads every object as cat-file does: loose, packed whole, and deltified (${objectFormat})`, async () => {
      const dir = historyRepo(objectFormat);
      const commonDir = path.join(dir, '.git');
      const n = allObjects(dir).length;
      // Loose.
      expect(await agreeWithGit(dir, new LocalObjects(commonDir, objectFormat))).toBe(n);
      // Packed by git with offset deltas: from an index read whole, one searched on disk, and one
      // searched on disk until it is busy, then read whole.
      git(dir, 'gc', '-q', '--aggressive', '--prune=now');
      expect(deltaCount(dir)).toBeGreaterThan(5);
      expect(await agreeWithGit(dir, new LocalObjects(commonDir, objectFormat))).toBe(n);
      expect(await agreeWithGit(dir, new LocalObjects(commonDir, objectFormat, { small: 0, inMemory: 0 }))).toBe(n);
      expect(await agreeWithGit(dir, new LocalObjects(commonDir, objectFormat, { small: 0, inMemory: 1 << 30 }))).toBe(n);
      // Ref deltas (base named by id).
      git(dir, '-c', 'repack.useDeltaBaseOffset=false', 'repack', '-q', '-a', '-d', '-f');
      expect(deltaCount(dir)).toBeGreaterThan(5);
      expect(await agreeWithGit(dir, new LocalObjects(commonDir, objectFormat))).toBe(n);
    });
  }

  it('finds packs written after it first looked, and leaves what is not here to git', async () => {
    const dir = historyRepo('sha1');
    const local = new LocalObjects(path.join(dir, '.git'), 'sha1');
    const head = git(dir, 'rev-parse', 'HEAD');
    expect(local.read(head)?.type).toBe('commit');
    git(dir, 'gc', '-q', '--prune=now');
    // The loose file is gone; the new pack is found.
    expect(local.read(head)?.type).toBe('commit');
    expect(local.read('0'.repeat(40))).toBeNull();
    expect(local.read('not an id')).toBeNull();
    local.close();
  });

  it('lets go of packs that are gone: a long-lived reader holds no deleted pack open', () => {
    const dir = historyRepo('sha1');
    const local = new LocalObjects(path.join(dir, '.git'), 'sha1');
    const fds = () => readdirSync('/proc/self/fd').length;
    let before = 0;
    for (let i = 0; i < 8; i++) {
      writeFileSync(path.join(dir, 'more.txt'), `round ${i}`);
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '-m', `round ${i}`);
      git(dir, 'repack', '-q', '-a', '-d');
      // A miss (the new commit is in the new pack only) looks at the packs again.
      expect(local.read(git(dir, 'rev-parse', 'HEAD'))?.type).toBe('commit');
      if (i === 0) before = fds();
    }
    expect(fds()).toBe(before);
    local.close();
  });

  it('leaves everything to git in a repository with replacement objects', () => {
    const dir = makeRepo();
    const a = git(dir, 'hash-object', '-w', '--stdin');
    const b = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: dir, input: 'replaced', encoding: 'utf8' }).trim();
    expect(new LocalObjects(path.join(dir, '.git'), 'sha1').read(a)?.type).toBe('blob');
    git(dir, 'replace', a, b);
    expect(new LocalObjects(path.join(dir, '.git'), 'sha1').read(a)).toBeNull();
    git(dir, 'pack-refs', '--all');
    expect(new LocalObjects(path.join(dir, '.git'), 'sha1').read(a)).toBeNull();
  });

  /** A gc'd history whose HEAD reads from its one pack, then that pack's `ext` file rewritten by `damage`. */
  function damagedPack(ext: '.idx' | '.pack', damage: (bytes: Buffer) => void): { commonDir: string; head: string } {
    const dir = historyRepo('sha1');
    git(dir, 'gc', '-q', '--prune=now');
    const commonDir = path.join(dir, '.git');
    const head = git(dir, 'rev-parse', 'HEAD');
    expect(new LocalObjects(commonDir, 'sha1').read(head)?.type).toBe('commit');
    const packDir = path.join(commonDir, 'objects', 'pack');
    const file = path.join(packDir, readdirSync(packDir).find((f) => f.endsWith(ext))!);
    const bytes = readFileSync(file);
    damage(bytes);
    execFileSync('chmod', ['u+w', file]);
    writeFileSync(file, bytes);
    return { commonDir, head };
  }

  it('an index whose size does not fit its object count is left to git', () => {
    // The last fan-out entry is the object count: claim one more.
    const { commonDir, head } = damagedPack('.idx', (b) => b.writeUInt32BE(b.readUInt32BE(8 + 255 * 4) + 1, 8 + 255 * 4));
    expect(new LocalObjects(commonDir, 'sha1').read(head)).toBeNull();
  });

  it('a pack that does not match its index is left to git', () => {
    // The pack's trailing checksum, one bit pattern flipped.
    const { commonDir, head } = damagedPack('.pack', (b) => (b[b.length - 1] = b[b.length - 1]! ^ 0xff));
    expect(new LocalObjects(commonDir, 'sha1').read(head)).toBeNull();
  });

  it('a loose object with a header git would refuse is left to git', () => {
    const dir = makeRepo();
    const local = new LocalObjects(path.join(dir, '.git'), 'sha1');
    const oid = 'ab'.repeat(20);
    const file = path.join(dir, '.git', 'objects', oid.slice(0, 2), oid.slice(2));
    mkdirSync(path.dirname(file), { recursive: true });
    for (const header of ['blob 05', 'blob ', 'blob 5 junk', 'blob 0x5', 'bolb 5']) {
      rmSync(file, { force: true });
      writeFileSync(file, deflateSync(Buffer.from(`${header}\0hello`)));
      expect(local.read(oid), header).toBeNull();
    }
    rmSync(file, { force: true });
    writeFileSync(file, deflateSync(Buffer.from('blob 5\0hello')));
    expect(local.read(oid)?.data.toString()).toBe('hello');
  });

  it('a damaged loose object is left to git (null), never read wrong', () => {
    const dir = makeRepo();
    const oid = git(dir, 'hash-object', '-w', '--stdin');
    const file = path.join(dir, '.git', 'objects', oid.slice(0, 2), oid.slice(2));
    const local = new LocalObjects(path.join(dir, '.git'), 'sha1');
    expect(local.read(oid)?.type).toBe('blob');
    const bytes = readFileSync(file);
    execFileSync('chmod', ['u+w', file]);
    writeFileSync(file, Buffer.concat([bytes.subarray(0, 6), Buffer.from('garbage')]));
    expect(new LocalObjects(path.join(dir, '.git'), 'sha1').read(oid)).toBeNull();
  });

  it('reads refs loose and packed; symbolic, absent and reftable ones are left to git', () => {
    const dir = makeRepo();
    const local = new LocalObjects(path.join(dir, '.git'), 'sha1');
    const head = git(dir, 'rev-parse', 'HEAD');
    git(dir, 'update-ref', 'refs/agentv/runs/v1', head);
    expect(local.ref('refs/agentv/runs/v1')).toBe(head);
    git(dir, 'pack-refs', '--all');
    expect(git(dir, 'for-each-ref', '--format=%(refname)', 'refs/agentv')).toBe('refs/agentv/runs/v1');
    expect(local.ref('refs/agentv/runs/v1')).toBe(head);
    git(dir, 'symbolic-ref', 'refs/agentv/sym', 'refs/agentv/runs/v1');
    expect(local.ref('refs/agentv/sym')).toBeNull();
    expect(local.ref('refs/agentv/none')).toBeNull();
    expect(local.ref('refs/../config')).toBeNull();
    mkdirSync(path.join(dir, '.git', 'reftable'));
    expect(local.ref('refs/agentv/runs/v1')).toBeNull();
  });

  it('applies deltas as git does, and refuses malformed ones', () => {
    const base = Buffer.from('hello, world');
    // source size 12, target size 11: copy "hello" (offset 0, 5 bytes), insert " you!!".
    const delta = Buffer.from([12, 11, 0x90, 5, 6, ...Buffer.from(' you!!')]);
    expect(applyDelta(base, delta).toString()).toBe('hello you!!');
    expect(() => applyDelta(base, Buffer.from([13, 5, 0x90, 5]))).toThrow();
    expect(() => applyDelta(base, Buffer.from([12, 5, 0x91, 10, 5]))).toThrow();
    expect(() => applyDelta(base, Buffer.from([12, 5, 0]))).toThrow();
  });
});
