import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { cleanupRepos, git, makeRepo } from '../helpers/repo.js';
import { isAlive } from '../helpers/proc.js';
import { CatFile, encodeTree, parseTree, writeObject, MODE_DIR, MODE_FILE } from '../../src/git/index.js';

afterEach(cleanupRepos);

describe('the long-lived cat-file reader', () => {
  it('reads small and large blobs in order through one process and sees ref moves', async () => {
    const dir = makeRepo();
    const reader = new CatFile(dir);
    const big = randomBytes(5 * 1024 * 1024);
    const commonDir = `${dir}/.git`;
    const oids = await Promise.all([Buffer.from('a'), big, Buffer.from('')].map((body) => writeObject({ commonDir, type: 'blob', body })));
    const reads = await Promise.all([...oids, 'f'.repeat(40)].map((o) => reader.read(o)));
    expect(reads[0]!.data.toString()).toBe('a');
    expect(reads[1]!.data.equals(big)).toBe(true);
    expect(reads[2]!.data.length).toBe(0);
    expect(reads[3]).toBeNull();
    expect(await reader.info('refs/agentv/x')).toBeNull();
    git(dir, 'update-ref', 'refs/agentv/x', 'HEAD');
    expect((await reader.info('refs/agentv/x'))!.oid).toBe(git(dir, 'rev-parse', 'HEAD'));
    expect(reader.spawned).toBe(1);
    reader.close();
  });

  it('restarts after its process dies and leaves no process behind when closed', async () => {
    const dir = makeRepo();
    const reader = new CatFile(dir);
    await reader.info('HEAD');
    const first = reader.pid!;
    process.kill(first, 'SIGKILL');
    // A request racing the death fails cleanly, or succeeds on a new process.
    await reader.info('HEAD').catch((e) => expect(e.code).toBe('GIT'));
    expect((await reader.info('HEAD'))!.type).toBe('commit');
    expect(reader.spawned).toBe(2);
    const second = reader.pid!;
    reader.close();
    await new Promise<void>((resolve) => {
      const poll = () => (isAlive(second) ? setImmediate(poll) : resolve());
      poll();
    });
    expect(isAlive(first)).toBe(false);
  });

  it('writes trees git accepts, sorted the way git sorts them', async () => {
    const dir = makeRepo();
    const commonDir = `${dir}/.git`;
    const blob = await writeObject({ commonDir, type: 'blob', body: Buffer.from('x') });
    const sub = await writeObject({ commonDir, type: 'tree', body: encodeTree([{ mode: MODE_FILE, name: 'f', oid: blob }]) });
    // "a.b" sorts before the directory "a" (compared as "a/"), which sorts before "a0".
    const entries = [
      { mode: MODE_FILE, name: 'a0', oid: blob },
      { mode: MODE_DIR, name: 'a', oid: sub },
      { mode: MODE_FILE, name: 'a.b', oid: blob },
    ];
    const tree = await writeObject({ commonDir, type: 'tree', body: encodeTree(entries) });
    expect(git(dir, 'ls-tree', '--name-only', tree).split('\n')).toEqual(['a.b', 'a', 'a0']);
    const reader = new CatFile(dir);
    expect(parseTree((await reader.read(tree))!.data).map((e) => e.name)).toEqual(['a.b', 'a', 'a0']);
    reader.close();
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
  });
});
