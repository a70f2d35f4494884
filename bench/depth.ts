// Commands that open the store at depth (issue 11, SPEC 3.5 and 5): `agentv
// runs list --limit 50` and Studio's first request, at 1,000 runs and (with
// AGENTV_BENCH_1M=1, since seeding a million runs takes many minutes on two
// cores) at 1,000,000, each measured right after the three kinds of commit
// that cover many runs: the seed, a `reindex` that rewrites the whole index,
// and a two-parent merge. Beside them: the tip commit object's size (bounded
// trailers keep it small however many runs it covers) and `node -e 0`.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { initRepo, runGit } from '../src/git/index.js';
import { buildApp } from '../src/server/app.js';
import { createRun, mergeRuns, openStore, reindex, type Store } from '../src/store/index.js';
import { seedRuns, syntheticRuns } from '../src/store/seed.js';
import { n, timeEach } from './stats.js';

const execFileP = promisify(execFile);
const log = (s: string) => void process.stderr.write(`bench: ${s}\n`);
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));

export const MILLION = process.env.AGENTV_BENCH_1M === '1';

interface Point {
  cliMs: number;
  studioMs: number;
  commitBytes: number;
}

/** One new run on the ref, written the normal way. */
async function oneRun(store: Store, runId: string): Promise<void> {
  const [gen] = syntheticRuns({ runs: 1, rowsPerRun: 1, startAt: new Date(), sourceCommit: null });
  await createRun({ store, manifest: { ...gen!.manifest, run_id: runId } });
}

async function measure(dir: string, cli: string): Promise<Point> {
  const cliMs = await timeEach(5, () => execFileP(process.execPath, [cli, 'runs', 'list', '--limit', '50', '--json'], { cwd: dir, maxBuffer: 1 << 26 }));
  // Studio's first request after start: a fresh store and app, the first GET /api/runs.
  const studio: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const store = await openStore({ repoDir: dir });
    const { app } = await buildApp({ store, cliPath: cli });
    const r = await app.inject('/api/runs?limit=50');
    if (r.statusCode !== 200) throw new Error(`GET /api/runs: ${r.statusCode} ${r.body.slice(0, 200)}`);
    studio.push(performance.now() - t0);
    await app.close();
    store.close();
  }
  studio.sort((a, b) => a - b);
  const size = await runGit({ cwd: dir, args: ['cat-file', '-s', 'refs/agentv/runs/v1'] });
  return { cliMs, studioMs: studio[1]!, commitBytes: Number(size.stdout.trim()) };
}

async function atSize(tmp: string, cli: string, runs: number): Promise<Record<'seed' | 'reindex' | 'merge', Point>> {
  const dir = path.join(tmp, `depth-${runs}`);
  await initRepo({ dir });
  log(`depth: seeding ${n(runs)} runs (1 row each) ...`);
  let t0 = performance.now();
  await seedRuns({ repoDir: dir, runs, rowsPerRun: 1, onProgress: (d) => (d % 100_000 === 0 ? log(`depth:   ${n(d)} streamed`) : undefined) });
  log(`depth: seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s; measuring after the seed ...`);
  const seed = await measure(dir, cli);

  // A reindex that rewrites the index of every run: drop the index, then rebuild it.
  const store = await openStore({ repoDir: dir });
  try {
    await store.commit({ subject: 'bench: drop the index', runId: [], sourceCommit: null, change: async () => new Map([['index', null]]) });
    log(`depth: reindex of ${n(runs)} runs ...`);
    t0 = performance.now();
    const r = await reindex({ store });
    if (!r.rewritten || r.runs !== runs) throw new Error(`reindex: expected ${runs} runs rewritten, got ${r.runs} (rewritten ${r.rewritten})`);
    log(`depth: reindexed in ${((performance.now() - t0) / 1000).toFixed(0)} s; measuring ...`);
  } finally {
    store.close();
  }
  const afterReindex = await measure(dir, cli);

  // A two-parent merge: one run on a side ref (as a fetched remote would bring), one on ours.
  const side = 'refs/agentv/bench/side';
  await runGit({ cwd: dir, args: ['update-ref', side, 'refs/agentv/runs/v1'] });
  const theirs = await openStore({ repoDir: dir, ref: side });
  const ours = await openStore({ repoDir: dir });
  try {
    await oneRun(theirs, 'bench-theirs-1');
    await oneRun(ours, 'bench-ours-1');
    const tip = (await theirs.tip())!.commit;
    const m = await mergeRuns({ store: ours, theirs: tip, subject: 'bench: merge a side ref' });
    if (m.kind !== 'merged') throw new Error(`merge: expected a merge commit, got ${m.kind}`);
  } finally {
    theirs.close();
    ours.close();
  }
  const afterMerge = await measure(dir, cli);
  return { seed, reindex: afterReindex, merge: afterMerge };
}

/** Rows for the bench table (the size columns are 1,000 and 1,000,000 here; see the labels). */
export async function measureDepth({ tmp, cli }: { tmp: string; cli: string }): Promise<string[][]> {
  const nodeE0 = await timeEach(5, () => execFileP(process.execPath, ['-e', '0']));
  const sizes = MILLION ? [1_000, 1_000_000] : [1_000];
  const by = new Map<number, Awaited<ReturnType<typeof atSize>>>();
  for (const s of sizes) by.set(s, await atSize(tmp, cli, s));
  const k1 = by.get(1_000)!;
  const m1 = by.get(1_000_000);
  const rows: string[][] = [];
  for (const when of ['seed', 'reindex', 'merge'] as const) {
    const label = { seed: 'right after the seed', reindex: 'right after a reindex of every run', merge: 'right after a merge' }[when];
    const a = k1[when];
    const b = m1?.[when];
    rows.push([
      `\`agentv runs list --limit 50 --json\` ${label}, 1k / 1M runs (wall ms, median of 5)`,
      ms(a.cliMs),
      '',
      b ? ms(b.cliMs) : 'set AGENTV_BENCH_1M=1',
      b ? `1M/1k = ${(b.cliMs / a.cliMs).toFixed(2)}x; node -e 0: ${ms(nodeE0)} ms` : `node -e 0: ${ms(nodeE0)} ms`,
      'flat',
    ]);
    rows.push([
      `Studio's first \`GET /api/runs?limit=50\` after start ${label}, 1k / 1M runs (ms, median of 3)`,
      ms(a.studioMs),
      '',
      b ? ms(b.studioMs) : '',
      b ? `1M/1k = ${(b.studioMs / a.studioMs).toFixed(2)}x` : '',
      'flat',
    ]);
    rows.push([`tip commit object ${label} (bytes)`, n(a.commitBytes), '', b ? n(b.commitBytes) : '', '', 'small, bounded']);
  }
  return rows;
}
