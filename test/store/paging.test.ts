import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupRepos, git, makeRepo } from '../helpers/repo.js';
import { bulkCreateRuns, makeManifest } from '../helpers/runs.js';
import { SEAL, createRun, listRuns, openStore, reindex, type Store } from '../../src/store/index.js';

let dir: string;
let store: Store;
// With this many runs buildIndexFiles leaves 250 rows in the head: a few more
// through createRun reach 2*SEAL and seal a new chunk.
const N = 3 * SEAL + 122;
const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();

beforeAll(async () => {
  dir = makeRepo();
  store = await openStore({ repoDir: dir });
  // Enough runs to seal several index chunks, in one commit; the tests below
  // then add runs one by one through createRun, which seals the head again.
  await bulkCreateRuns(store, Array.from({ length: N }, (_, i) => makeManifest(`r${i}`, { started_at: at(i) })));
});
afterAll(() => {
  store.close();
  cleanupRepos();
});

async function listAll(limit: number, between?: (page: number) => Promise<void>, sort?: string) {
  const ids: string[] = [];
  let cursor: string | undefined;
  let page = 0;
  do {
    const res = await listRuns({ store, query: { limit, cursor, ...(sort && { sort }) } });
    ids.push(...res.runs.map((r) => r.run_id));
    cursor = res.next_cursor ?? undefined;
    if (between) await between(page++);
  } while (cursor);
  return ids;
}

describe('paging the run index', () => {
  it('seals the index into chunks and returns every run exactly once, newest first', async () => {
    expect(git(dir, 'ls-tree', '-r', '--name-only', 'refs/agentv/runs/v1', 'index/sealed').split('\n').length).toBeGreaterThanOrEqual(2);
    const ids = await listAll(50);
    const expected = Array.from({ length: N }, (_, i) => `r${i}`).reverse();
    expect(ids).toEqual(expected);
  });

  it('never repeats or skips a run while new runs are being added between pages', async () => {
    const before = await listAll(500);
    const sealed = () => git(dir, 'ls-tree', '-r', '--name-only', 'refs/agentv/runs/v1', 'index/sealed').split('\n').length;
    const sealedBefore = sealed();
    let n = 0;
    const ids = await listAll(37, async () => {
      // Newer runs arrive, enough of them to push head rows into a new sealed chunk.
      for (let k = 0; k < 2; k++, n++) await createRun({ store, manifest: makeManifest(`new${n}`, { started_at: at(10_000 + n) }) });
    });
    expect(sealed()).toBeGreaterThan(sealedBefore);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !id.startsWith('new'))).toEqual(before);
  });

  it('oldest first (sort=started_at): every run once, in key order, while new runs seal the head between pages', async () => {
    const newestFirst = await listAll(500);
    let n = 0;
    const ids = await listAll(
      41,
      async () => {
        for (let k = 0; k < 2; k++, n++) await createRun({ store, manifest: makeManifest(`asc${n}`, { started_at: at(20_000 + n) }) });
      },
      'started_at',
    );
    expect(new Set(ids).size).toBe(ids.length);
    // Every run listed before is there in the reverse order, and the runs added meanwhile come last, in order.
    expect(ids.filter((id) => !id.startsWith('asc'))).toEqual([...newestFirst].reverse());
    const added = ids.filter((id) => id.startsWith('asc'));
    expect(added.length).toBeGreaterThan(0);
    expect(added).toEqual(Array.from({ length: added.length }, (_, i) => `asc${i}`));
    // A cursor continues only the order it came from.
    const page = await listRuns({ store, query: { limit: 5 } });
    await expect(listRuns({ store, query: { limit: 5, cursor: page.next_cursor!, sort: 'started_at' } })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(listRuns({ store, query: { limit: 5, sort: 'oldest' } })).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('oldest first: a cursor from the head still continues after the head has been sealed into a chunk', async () => {
    const all = await listAll(500, undefined, 'started_at');
    // Page up to a few rows before the end: that cursor points into the head.
    const seen: string[] = [];
    let first = await listRuns({ store, query: { limit: Math.min(500, all.length - 3), sort: 'started_at' } });
    seen.push(...first.runs.map((r) => r.run_id));
    while (seen.length < all.length - 3) {
      first = await listRuns({ store, query: { limit: Math.min(500, all.length - 3 - seen.length), cursor: first.next_cursor!, sort: 'started_at' } });
      seen.push(...first.runs.map((r) => r.run_id));
    }
    expect(seen).toEqual(all.slice(0, -3));
    // Enough newer runs to seal the head (it holds fewer than 2 * SEAL rows).
    for (let k = 0; k < 2 * SEAL; k++) await createRun({ store, manifest: makeManifest(`seal${k}`, { started_at: at(30_000 + k) }) });
    const rest: string[] = [];
    let cursor: string | null = first.next_cursor;
    while (cursor) {
      const res = await listRuns({ store, query: { limit: 100, cursor, sort: 'started_at' } });
      rest.push(...res.runs.map((r) => r.run_id));
      cursor = res.next_cursor;
    }
    expect(rest).toEqual([...all.slice(-3), ...Array.from({ length: 2 * SEAL }, (_, k) => `seal${k}`)]);
  });

  it('places a run with an older timestamp into the sealed chunk that covers it', async () => {
    await createRun({ store, manifest: makeManifest('late', { started_at: new Date(Date.UTC(2026, 0, 1) + 5.5 * 60_000).toISOString() }) });
    const ids = await listAll(50);
    expect(ids.indexOf('late')).toBe(ids.indexOf('r5') - 1);
    expect(ids.filter((i) => i === 'late')).toHaveLength(1);
    expect((await reindex({ store, check: true })).drift).toEqual([]);
  });

  it('filters by suite, target and status across chunks', async () => {
    await createRun({ store, manifest: makeManifest('other-suite', { started_at: at(3), suite: { name: 'rare', path: 'x.yaml' }, status: 'completed' }) });
    const res = await listRuns({ store, query: { limit: 5, suite: 'rare' } });
    expect(res.runs.map((r) => r.run_id)).toEqual(['other-suite']);
    expect(res.next_cursor).toBeNull();
    const byStatus = await listRuns({ store, query: { limit: 500, status: 'completed' } });
    expect(byStatus.runs.map((r) => r.run_id)).toEqual(['other-suite']);
    // Every other run says running but has no live owner: it reads as interrupted.
    const interrupted = await listRuns({ store, query: { limit: 3, status: 'interrupted' } });
    expect(interrupted.runs).toHaveLength(3);
  });

  it('rejects a forged cursor with a usage error', async () => {
    await expect(listRuns({ store, query: { limit: 5, cursor: 'not-a-cursor' } })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
