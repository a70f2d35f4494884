// Commands that open the store at depth (issue 11, SPEC 3.5 and 5): `agentv
// runs list --limit 50` and Studio's first request, at 1,000 runs and (with
// AGENTV_BENCH_1M=1, since seeding a million runs takes many minutes on two
// cores) at 1,000,000, each measured right after the three kinds of commit
// that cover many runs: the seed, a `reindex` that rewrites the whole index,
// and a two-parent merge. Beside them: the tip commit object's size (bounded
// trailers keep it small however many runs it covers) and `node -e 0`; and the
// start-up of one-shot commands (runs list, runs show, --help, --version) beside it.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { initRepo, runGit } from '../src/git/index.js';
import { buildApp } from '../src/server/app.js';
import { createRun, mergeRuns, openStore, reindex, type Store } from '../src/store/index.js';
import { seedRuns, syntheticRuns } from '../src/store/seed.js';
import { median, n, timeEach } from './stats.js';

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

/**
 * A CommonJS preload that prints the process's own CPU time (all its threads; not
 * git children) at exit. Not an `--import` hook:
 * that starts Node's ES module loader, which `node -e 0` would not otherwise pay
 * (~30 ms here), flattering every ratio against it.
 */
const CPU_AT_EXIT = "process.on('exit',()=>{const u=process.cpuUsage();process.stderr.write('\\nagentv-bench-cpu '+(u.user+u.system)/1000+'\\n')});\n";

/** Wall and the Node process's CPU (ms) of one spawn of `node args`, with the preload at `cpuAtExit`. */
async function spawnCost(args: string[], cwd: string, cpuAtExit: string): Promise<{ wall: number; cpu: number }> {
  const t0 = performance.now();
  const r = await execFileP(process.execPath, ['--require', cpuAtExit, ...args], { cwd, maxBuffer: 1 << 26 });
  return { wall: performance.now() - t0, cpu: Number(/agentv-bench-cpu (\S+)/.exec(r.stderr)?.[1]) };
}

/**
 * One-shot commands beside starting Node (issue 11: within ~1.5x of `node -e 0`),
 * in the 1,000-run repository: wall and the Node process's CPU, median of 9 each.
 * The commands and `node -e 0` take turns, one spawn each per round: this machine's
 * speed drifts from minute to minute, and a ratio of medians taken minutes apart
 * measured the drift.
 */
async function startupRows(dir: string, cli: string): Promise<string[][]> {
  const cpuAtExit = path.join(dir, '..', 'cpu-at-exit.cjs');
  writeFileSync(cpuAtExit, CPU_AT_EXIT);
  const list = await execFileP(process.execPath, [cli, 'runs', 'list', '--limit', '1', '--json'], { cwd: dir });
  const runId = (JSON.parse(list.stdout) as { runs: { run_id: string }[] }).runs[0]!.run_id;
  const commands: [string, string[]][] = [
    ['node -e 0', ['-e', '0']],
    ['runs list --limit 50 --json', [cli, 'runs', 'list', '--limit', '50', '--json']],
    ['runs list --limit 50', [cli, 'runs', 'list', '--limit', '50']],
    ['runs show <id>', [cli, 'runs', 'show', runId]],
    ['--help', [cli, '--help']],
    ['--version', [cli, '--version']],
  ];
  const walls = commands.map(() => [] as number[]);
  const cpus = commands.map(() => [] as number[]);
  for (let round = 0; round < 9; round++) {
    for (const [i, [, args]] of commands.entries()) {
      const c = await spawnCost(args, dir, cpuAtExit);
      walls[i]!.push(c.wall);
      cpus[i]!.push(c.cpu);
    }
  }
  const base = { wall: median(walls[0]!), cpu: median(cpus[0]!) };
  const rows: string[][] = [[`CLI start-up: \`node -e 0\` (wall / CPU ms, median of 9, taking turns with the rows below)`, `${ms(base.wall)} / ${ms(base.cpu)}`, '', '', '', '']];
  for (const [i, [name]] of commands.entries()) {
    if (i === 0) continue;
    const c = { wall: median(walls[i]!), cpu: median(cpus[i]!) };
    rows.push([
      `CLI start-up: \`agentv ${name}\`, 1k runs (wall / CPU ms, median of 9)`,
      `${ms(c.wall)} / ${ms(c.cpu)}`,
      '',
      '',
      `${(c.wall / base.wall).toFixed(2)}x node -e 0 wall, ${(c.cpu / base.cpu).toFixed(2)}x CPU`,
      '≤ ~1.5x node -e 0',
    ]);
  }
  return rows;
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
  rows.push(...(await startupRows(path.join(tmp, 'depth-1000'), cli)));
  return rows;
}
