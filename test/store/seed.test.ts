import { afterEach, describe, expect, it } from 'vitest';
import { cleanupRepos, git, makeRepo } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';
import { Manifest } from '../../src/schemas/manifest.js';
import { Row } from '../../src/schemas/row.js';
import {
  RESULTS_REF,
  RowWriter,
  createRun,
  finishRun,
  fsck,
  listRuns,
  openStore,
  reindex,
  runDir,
  serializeManifest,
  showRun,
  type Store,
} from '../../src/store/index.js';
import { seedRuns } from '../../src/store/seed.js';

afterEach(cleanupRepos);

async function realRun(store: Store, runId: string): Promise<void> {
  await createRun({ store, manifest: makeManifest(runId, { tests: 3 }) });
  const writer = new RowWriter({ store, runId });
  for (const t of ['t1', 't2', 't3']) await writer.add(makeRow(t, { passed: t !== 't2', score: t === 't2' ? 0 : 1 }));
  await writer.drain();
  await finishRun({ store, runId, status: 'completed' });
  writer.finish();
}

async function allPages(store: Store): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listRuns({ store, query: { limit: 50, ...(cursor ? { cursor } : {}) } });
    ids.push(...page.runs.map((r) => r.run_id));
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return ids;
}

/** Files of a run directory, relative to it. */
function runFiles(dir: string, runId: string): string[] {
  const base = `${runDir(runId)}/`;
  return git(dir, 'ls-tree', '-r', '--name-only', RESULTS_REF, base)
    .split('\n')
    .map((p) => p.slice(base.length));
}

function blob(dir: string, file: string): string {
  return git(dir, 'cat-file', 'blob', `${RESULTS_REF}:${file}`);
}

describe('seedRuns', () => {
  it('adds runs on top of real ones: every run listed once, fsck and reindex --check clean, the same layout', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    await realRun(store, 'run-1');
    await realRun(store, 'run-2');
    const before = git(dir, 'rev-parse', RESULTS_REF);

    const seeded = await seedRuns({ repoDir: dir, runs: 300, rowsPerRun: 5, startAt: new Date(Date.UTC(2025, 5, 1)) });
    expect(seeded.runIds).toHaveLength(300);
    expect(seeded.totalRuns).toBe(302);
    expect(git(dir, 'rev-parse', RESULTS_REF)).toBe(seeded.commit);
    // One commit on top of the old tip, which it contains.
    expect(git(dir, 'rev-parse', `${RESULTS_REF}^`)).toBe(before);
    expect(git(dir, 'log', '-1', '--format=%(trailers:key=Agentv-Source-Commit,valueonly)', RESULTS_REF)).toBe(git(dir, 'rev-parse', 'HEAD'));

    const fresh = await openStore({ repoDir: dir });
    const ids = await allPages(fresh);
    expect(ids).toHaveLength(302);
    expect(new Set(ids).size).toBe(302);
    expect(new Set(ids)).toEqual(new Set(['run-1', 'run-2', ...seeded.runIds]));
    // Newest first: the real runs (2026) precede the seeded ones (June 2025, one per minute).
    expect(ids.slice(0, 2)).toEqual(['run-2', 'run-1']);
    expect(ids.slice(2)).toEqual([...seeded.runIds].reverse());

    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
    const check = await reindex({ store: fresh, check: true });
    expect(check).toMatchObject({ runs: 302, drift: [], broken: [], damaged: 0 });

    // Same files in the run directory, same manifest bytes after a schema round trip, rows that parse.
    const id = seeded.runIds[123]!;
    expect(runDir(id)).toMatch(/^runs\/[0-9a-f]{2}\/[0-9a-f]{2}\/\d{8}-\d{6}-[a-z2-9]{6}$/);
    // The same files as a run the write path made, results digest included.
    expect(runFiles(dir, 'run-1')).toEqual(runFiles(dir, id));
    expect(runFiles(dir, id)).toEqual(['digest.json', 'manifest.json', 'rows/000001.jsonl']);
    // Every seeded digest is what the write path derives from the rows.
    expect((await fsck({ store: fresh })).problems.filter((p) => p.kind === 'bad_digest')).toEqual([]);
    const text = `${blob(dir, `${runDir(id)}/manifest.json`)}\n`;
    const manifest = Manifest.parse(JSON.parse(text));
    expect(serializeManifest(manifest)).toBe(text);
    const real = JSON.parse(blob(dir, `${runDir('run-1')}/manifest.json`)) as Record<string, unknown>;
    expect(Object.keys(JSON.parse(text) as object)).toEqual(Object.keys(real));
    const rows = blob(dir, `${runDir(id)}/rows/000001.jsonl`).split('\n');
    expect(rows).toHaveLength(5);
    for (const line of rows) expect(Row.safeParse(JSON.parse(line)).success).toBe(true);

    const detail = await showRun({ store: fresh, runId: id });
    expect(detail.run.status).toBe('completed');
    expect(detail.results).toHaveLength(5);
    expect(detail.run.counts?.completed_count).toBe(5);

    // Varied enough to look like a project's history.
    const runs = (await listRuns({ store: fresh, query: { limit: 500 } })).runs.filter((r) => r.run_id.startsWith('2025'));
    expect(new Set(runs.map((r) => r.suite)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(runs.map((r) => r.target)).size).toBeGreaterThanOrEqual(3);
    expect(runs.every((r) => r.status === 'completed' && r.passed + r.failed + r.errored === 5)).toBe(true);
    expect(runs.some((r) => r.errored > 0)).toBe(true);
    expect(runs.some((r) => r.failed > 0)).toBe(true);
    expect(new Set(runs.map((r) => r.started_at)).size).toBe(300);
    store.close();
    fresh.close();
  });

  it('seeds an empty repository, and twice in a row', async () => {
    const dir = makeRepo({ commit: false });
    const a = await seedRuns({ repoDir: dir, runs: 200, rowsPerRun: 2 });
    const b = await seedRuns({ repoDir: dir, runs: 60, rowsPerRun: 3 });
    expect(b.totalRuns).toBe(260);
    expect(git(dir, 'rev-list', '--count', RESULTS_REF)).toBe('2');
    const store = await openStore({ repoDir: dir });
    const ids = await allPages(store);
    expect(new Set(ids)).toEqual(new Set([...a.runIds, ...b.runIds]));
    expect(await reindex({ store, check: true })).toMatchObject({ runs: 260, drift: [], damaged: 0 });
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
    store.close();
  });

  it('fails, changing nothing, when the ref moves while it seeds', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    await realRun(store, 'run-1');
    const seeding = seedRuns({
      repoDir: dir,
      runs: 50,
      rowsPerRun: 2,
      // Another writer commits after the runs are streamed, before the commit lands.
      onProgress: async (done) => {
        if (done === 50) await createRun({ store, manifest: makeManifest('run-2') });
      },
    });
    await expect(seeding).rejects.toMatchObject({ code: 'CAS_EXHAUSTED' });
    const ids = await allPages(store);
    expect(ids).toEqual(['run-2', 'run-1']);
    expect(git(dir, 'log', '--format=%s', RESULTS_REF)).not.toContain('seed:');
    store.close();
  });

  it('refuses nonsense sizes', async () => {
    const dir = makeRepo();
    await expect(seedRuns({ repoDir: dir, runs: 0 })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(seedRuns({ repoDir: dir, runs: 5, rowsPerRun: 1.5 })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
