// `npm run bench`: the numbers of SPEC section 5, all measured in this one run on
// this machine, printed as one markdown table on stdout (progress on stderr).
// Seeded repositories and the baseline's run folders live under os.tmpdir()
// and are removed at the end, also when a step fails.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { initRepo, runGit } from '../src/git/index.js';
import type { Manifest } from '../src/schemas/manifest.js';
import type { Row } from '../src/schemas/row.js';
import {
  IndexView,
  ROWS_DIR,
  RowWriter,
  createRun,
  finishRun,
  listRuns,
  manifestPath,
  openStore,
  runDir,
  type Store,
} from '../src/store/index.js';
import { seedRuns, syntheticRuns } from '../src/store/seed.js';
import { buildApp, type StudioApp } from '../src/server/app.js';
import { measureExtras } from './extra.js';
import { measurePush } from './push.js';
import { measureRegrade } from './regrade.js';
import { measureReuse } from './reuse.js';
import { measureBrowser } from './browser.js';
import { measureDepth } from './depth.js';
import { mark, median, n } from './stats.js';

const SIZES = [1_000, 10_000, 100_000] as const;
const BASELINE_SIZES = new Set([1_000, 10_000]);
const READS = 15;
const CLI_READS = 9;
const WALK_READS = 7; // at 10,000 runs a walk takes ~0.3 s
const PAGE = 50;
const WRITER_ROWS = 5_000;
const WRITER_REPS = 3;
const GC_RUNS = 200;
const GC_ROWS = 50;

const cli = fileURLToPath(new URL('./cli.js', import.meta.url));
const execFileP = promisify(execFile);
const log = (s: string) => void process.stderr.write(`bench: ${s}\n`);


async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const v = await fn();
  return [performance.now() - t0, v];
}

function expectPage(n: number, where: string): void {
  if (n !== PAGE) throw new Error(`${where}: expected a page of ${PAGE} runs, got ${n}`);
}

/** A run as the runner creates it: status running, no counts yet. */
function startingManifest(m: Manifest): Manifest {
  return { ...m, status: 'running', finished_at: null, counts: null, events: [{ type: 'started', at: m.started_at }] };
}

let counter = 0;
/** A fresh synthetic run (manifest at start + its rows), started "now" so it lands in the index head. */
function freshRun(rowsPerRun: number): { manifest: Manifest; rows: Row[] } {
  const [run] = [...syntheticRuns({ runs: 1, rowsPerRun, startAt: new Date(Date.now() + ++counter) })];
  return { manifest: startingManifest(run!.manifest), rows: run!.rows };
}

interface SizeResult {
  seedMs: number;
  warm: number;
  /** The warm store's first read after the ref moved (new tip: its trees and index head are new to it). */
  moved: number;
  cold: number;
  /** Part of `cold` spent in openStore (it finds the repository from the files, or asks `git rev-parse`). */
  open: number;
  cliMs: number;
  /** GET /api/runs?limit=50 through Studio's app (inject: no socket), repeated / first after the ref moved. */
  studio: number;
  studioMoved: number;
  createRun: number;
  baseline: number | null;
}

/** Write every run of the ref as plain files, <dir>/runs/<run_id>/{manifest.json,rows.jsonl}: what a directory-walking viewer reads. */
async function materialise(store: Store, dir: string): Promise<number> {
  const tip = (await store.tip())!;
  const ids = (await new IndexView(store, tip.tree).all()).map((s) => s.run_id);
  for (let i = 0; i < ids.length; i += 256) {
    await Promise.all(
      ids.slice(i, i + 256).map(async (id) => {
        const manifest = (await store.readBlob(tip.tree, manifestPath(id)))!;
        const chunks = (await store.readTree(tip.tree, `${runDir(id)}/${ROWS_DIR}`)) ?? [];
        const rows = await Promise.all(chunks.map((c) => store.readBlobOid(c.oid)));
        mkdirSync(path.join(dir, 'runs', id), { recursive: true });
        writeFileSync(path.join(dir, 'runs', id, 'manifest.json'), manifest);
        writeFileSync(path.join(dir, 'runs', id, 'rows.jsonl'), Buffer.concat(rows));
      }),
    );
  }
  return ids.length;
}

/** The approach this replaces: read every run's manifest per request, sort, slice. */
function walkFirstPage(dir: string): Manifest[] {
  const root = path.join(dir, 'runs');
  const all: Manifest[] = [];
  for (const id of readdirSync(root)) all.push(JSON.parse(readFileSync(path.join(root, id, 'manifest.json'), 'utf8')) as Manifest);
  all.sort((a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0));
  return all.slice(0, PAGE);
}

interface Subject {
  runs: number;
  repoDir: string;
  seedMs: number;
  /** Moves the ref before each cold read. */
  writer: Store;
  /** The warm reader. */
  reader: Store;
  /** Studio on its own store. */
  studio: StudioApp;
  studioStore: Store;
  walkDir: string | null;
  t: Record<'warm' | 'moved' | 'cold' | 'open' | 'cli' | 'create' | 'walk' | 'studio' | 'studioMoved', number[]>;
}

async function prepare(tmp: string, runs: number): Promise<Subject> {
  const repoDir = path.join(tmp, `repo-${runs}`);
  await initRepo({ dir: repoDir });
  log(`seeding ${n(runs)} runs x 10 rows ...`);
  const [seedMs] = await timed(() => seedRuns({ repoDir, runs, rowsPerRun: 10 }));
  log(`  seeded in ${(seedMs / 1000).toFixed(1)} s`);
  const writer = await openStore({ repoDir });
  const reader = await openStore({ repoDir });
  let walkDir: string | null = null;
  if (BASELINE_SIZES.has(runs)) {
    walkDir = path.join(tmp, `walk-${runs}`);
    log(`  materialised ${n(await materialise(reader, walkDir))} run folders for the baseline`);
  }
  const studioStore = await openStore({ repoDir });
  const studio = await buildApp({ store: studioStore, cliPath: cli, readOnly: true });
  const t = { warm: [], moved: [], cold: [], open: [], cli: [], create: [], walk: [], studio: [], studioMoved: [] };
  return { runs, repoDir, seedMs, writer, reader, studio, studioStore, walkDir, t };
}

/**
 * One sample of everything for one size. Sizes take turns sample by sample, so
 * a change in machine load (this machine is shared) hits every size alike.
 */
async function sample(x: Subject, round: number): Promise<void> {
  const record = round > 0; // round 0 warms caches and code paths
  // Cold: the ref has just moved (a real createRun), and a new store (new git
  // processes, empty caches) reads the first page, as a fresh CLI call or a
  // Studio whose view was invalidated would.
  const [create] = await timed(() => createRun({ store: x.writer, manifest: freshRun(20).manifest }));
  let open = 0;
  const [cold, page] = await timed(async () => {
    const [o, store] = await timed(() => openStore({ repoDir: x.repoDir }));
    open = o;
    try {
      return await listRuns({ store, query: { limit: PAGE } });
    } finally {
      store.close();
    }
  });
  expectPage(page.runs.length, `cold read at ${x.runs}`);
  // The long-lived store (Studio): its first read after the move, then a repeat.
  const [moved, first] = await timed(() => listRuns({ store: x.reader, query: { limit: PAGE } }));
  const [warm, again] = await timed(() => listRuns({ store: x.reader, query: { limit: PAGE } }));
  expectPage(first.runs.length, `read after the move at ${x.runs}`);
  expectPage(again.runs.length, `warm read at ${x.runs}`);
  const get = () => x.studio.app.inject({ method: 'GET', url: `/api/runs?limit=${PAGE}`, headers: { host: '127.0.0.1' } });
  const [studioMoved, r1] = await timed(get);
  const [studio, r2] = await timed(get);
  for (const r of [r1, r2]) {
    if (r.statusCode !== 200) throw new Error(`GET /api/runs at ${x.runs}: ${r.statusCode} ${r.body.slice(0, 200)}`);
  }
  expectPage((r2.json() as { runs: unknown[] }).runs.length, `GET /api/runs at ${x.runs}`);
  if (record) {
    x.t.create.push(create);
    x.t.cold.push(cold);
    x.t.open.push(open);
    x.t.moved.push(moved);
    x.t.warm.push(warm);
    x.t.studioMoved.push(studioMoved);
    x.t.studio.push(studio);
  }
  if (x.walkDir && (round <= WALK_READS || x.runs < 10_000)) {
    const [walk, top] = await timed(async () => walkFirstPage(x.walkDir!));
    expectPage(top.length, `baseline at ${x.runs}`);
    if (record) x.t.walk.push(walk);
  }
  if (round <= CLI_READS) {
    const args = [cli, 'runs', 'list', '--limit', String(PAGE), '--json', '--repo', x.repoDir];
    const [ms, out] = await timed(() => execFileP(process.execPath, args, { maxBuffer: 1 << 26 }));
    expectPage((JSON.parse(out.stdout) as { runs: unknown[] }).runs.length, `CLI at ${x.runs}`);
    if (record) x.t.cli.push(ms);
  }
}

async function measureSizes(tmp: string): Promise<Map<number, SizeResult>> {
  const subjects: Subject[] = [];
  try {
    for (const runs of SIZES) subjects.push(await prepare(tmp, runs));
    log(`reading: ${READS} rounds, sizes in turn ...`);
    for (let round = 0; round <= READS; round++) for (const x of subjects) await sample(x, round);
    const out = new Map<number, SizeResult>();
    for (const x of subjects) {
      const r: SizeResult = {
        seedMs: x.seedMs,
        warm: median(x.t.warm),
        moved: median(x.t.moved),
        cold: median(x.t.cold),
        open: median(x.t.open),
        cliMs: median(x.t.cli),
        studio: median(x.t.studio),
        studioMoved: median(x.t.studioMoved),
        createRun: median(x.t.create),
        baseline: x.t.walk.length ? median(x.t.walk) : null,
      };
      log(
        `  ${n(x.runs)}: warm ${fmtMs(r.warm)} ms, cold ${fmtMs(r.cold)} ms, cli ${fmtMs(r.cliMs)} ms, createRun ${fmtMs(r.createRun)} ms` +
          (r.baseline === null ? '' : `, baseline ${fmtMs(r.baseline)} ms`),
      );
      out.set(x.runs, r);
    }
    return out;
  } finally {
    for (const x of subjects) {
      await x.studio.app.close();
      x.studioStore.close();
      x.writer.close();
      x.reader.close();
      rmSync(x.repoDir, { recursive: true, force: true });
      if (x.walkDir) rmSync(x.walkDir, { recursive: true, force: true });
    }
  }
}

/** RowWriter throughput: `adders` concurrent producers (the runner's workers) add rows, then drain. */
async function measureWriter(tmp: string, adders: number): Promise<{ rowsPerSec: number; commits: number }> {
  const repoDir = path.join(tmp, `writer-${adders}`);
  await initRepo({ dir: repoDir });
  const store = await openStore({ repoDir });
  const { manifest, rows } = freshRun(WRITER_ROWS);
  await createRun({ store, manifest });
  const commitsBefore = store.stats.commits;
  const writer = new RowWriter({ store, runId: manifest.run_id });
  let next = 0;
  const [ms] = await timed(async () => {
    await Promise.all(
      Array.from({ length: adders }, async () => {
        while (next < rows.length) await writer.add(rows[next++]!);
      }),
    );
    await writer.drain();
  });
  const commits = store.stats.commits - commitsBefore;
  await finishRun({ store, runId: manifest.run_id, status: 'completed' });
  writer.finish();
  store.close();
  rmSync(repoDir, { recursive: true, force: true });
  return { rowsPerSec: (rows.length / ms) * 1000, commits };
}

/** Pack bytes per row after gc, for runs written by the real write path. */
async function measureGrowth(tmp: string): Promise<{ packBytes: number; rawBytes: number; rows: number }> {
  const repoDir = path.join(tmp, 'growth');
  await initRepo({ dir: repoDir });
  const store = await openStore({ repoDir });
  let rawBytes = 0;
  let rowCount = 0;
  for (const run of syntheticRuns({ runs: GC_RUNS, rowsPerRun: GC_ROWS, startAt: new Date(Date.now() - GC_RUNS * 60_000) })) {
    const manifest = startingManifest(run.manifest);
    await createRun({ store, manifest });
    const writer = new RowWriter({ store, runId: manifest.run_id });
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < run.rows.length) await writer.add(run.rows[next++]!);
      }),
    );
    await writer.drain();
    await finishRun({ store, runId: manifest.run_id, status: 'completed' });
    writer.finish();
    for (const r of run.rows) rawBytes += Buffer.byteLength(`${JSON.stringify(r)}\n`);
    rowCount += run.rows.length;
  }
  store.close();
  await runGit({ cwd: repoDir, args: ['gc', '-q', '--prune=now'] });
  const counts = await runGit({ cwd: repoDir, args: ['count-objects', '-v'] });
  const kib = (key: string) => Number(new RegExp(`^${key}: (\\d+)$`, 'm').exec(counts.stdout)?.[1] ?? 0);
  const packBytes = (kib('size-pack') + kib('size')) * 1024;
  rmSync(repoDir, { recursive: true, force: true });
  return { packBytes, rawBytes, rows: rowCount };
}

const fmtMs = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0));
const fmtX = (x: number) => `${x < 10 ? x.toFixed(2) : x.toFixed(0)}x`;

async function main(): Promise<void> {
  const started = performance.now();
  const git = (await runGit({ cwd: os.tmpdir(), args: ['--version'] })).stdout.trim().replace(/^git version /, '');
  const cpus = os.cpus();
  const facts = `${cpus.length} cpus (${cpus[0]?.model.trim() ?? '?'}), node ${process.version}, git ${git}, ${os.platform()} ${os.release()}, load average ${os.loadavg()[0]!.toFixed(2)} at start`;
  log(facts);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'agentv-bench-'));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  // `--only regrade`: just bench/regrade.ts. `--only extras`: just the rows of bench/extra.ts (eval, planning, Studio, git access, bundle).
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
  if (only === 'extras' || only === 'browser' || only === 'regrade' || only === 'depth' || only === 'reuse') {
    try {
      const rows =
        only === 'browser'
          ? await measureBrowser({ tmp, cli })
          : only === 'regrade'
            ? await measureRegrade({ tmp, cli })
            : only === 'depth'
              ? await measureDepth({ tmp, cli })
              : only === 'reuse'
                ? await measureReuse({ tmp, cli })
                : await measureExtras({ tmp, cli });
      const line = (cs: string[]) => `| ${cs.join(' | ')} |`;
      process.stdout.write([`Machine: ${facts}.`, '', line(['measurement', '', '', '', 'result', 'target']), line(Array(6).fill('---')), ...rows.map(line), ''].join('\n'));
    } finally {
      cleanup();
    }
    return;
  }
  try {
    const bySize = await measureSizes(tmp);
    const writerRuns = async (adders: number) => {
      log(`RowWriter, ${adders} adder(s), ${WRITER_REPS} times ...`);
      const all: { rowsPerSec: number; commits: number }[] = [];
      for (let i = 0; i < WRITER_REPS; i++) all.push(await measureWriter(tmp, adders));
      return { rowsPerSec: median(all.map((w) => w.rowsPerSec)), commits: median(all.map((w) => w.commits)) };
    };
    const w4 = await writerRuns(4);
    const w1 = await writerRuns(1);
    log(`growth: ${GC_RUNS} runs x ${GC_ROWS} rows through createRun + RowWriter + finishRun, then git gc ...`);
    const growth = await measureGrowth(tmp);
    const extras = await measureExtras({ tmp, cli });

    const at = (size: number) => bySize.get(size)!;
    const [k1, k10, k100] = [at(1_000), at(10_000), at(100_000)];
    const cells = (f: (r: SizeResult) => string) => SIZES.map((s) => f(at(s)));
    const flat = (f: (r: SizeResult) => number) => f(k100) / f(k1);
    const rows: string[][] = [
      ['first page of 50, warm: same store, repeated (ms, median of 15)', ...cells((r) => fmtMs(r.warm)), `100k/1k = ${fmtX(flat((r) => r.warm))}`, `≤ 1.5x ${mark(flat((r) => r.warm) <= 1.5)}`],
      [
        'first page of 50, same store, first read after the ref moved (ms, median of 15)',
        ...cells((r) => fmtMs(r.moved)),
        `100k/1k = ${fmtX(flat((r) => r.moved))}`,
        `≤ 1.5x ${mark(flat((r) => r.moved) <= 1.5)}`,
      ],
      [
        'first page of 50, cold: fresh openStore (new readers, empty caches) after the ref moved (ms, median of 15; in brackets the openStore part)',
        ...cells((r) => `${fmtMs(r.cold)} (${fmtMs(r.open)})`), `100k/1k = ${fmtX(flat((r) => r.cold))}`, `≤ 1.5x ${mark(flat((r) => r.cold) <= 1.5)}`,
      ],
      ['`GET /api/runs?limit=50` (Studio app, inject), repeated (ms, median of 15)', ...cells((r) => fmtMs(r.studio)), `100k/1k = ${fmtX(flat((r) => r.studio))}`, `≤ 1.5x ${mark(flat((r) => r.studio) <= 1.5)}`],
      [
        '`GET /api/runs?limit=50`, first request after the ref moved (ms, median of 15)',
        ...cells((r) => fmtMs(r.studioMoved)),
        `100k/1k = ${fmtX(flat((r) => r.studioMoved))}`,
        `≤ 1.5x ${mark(flat((r) => r.studioMoved) <= 1.5)}`,
      ],
      ['`agentv runs list --limit 50 --json`, wall incl. node start (ms, median of 9)', ...cells((r) => fmtMs(r.cliMs)), `100k/1k = ${fmtX(flat((r) => r.cliMs))}`, `≤ 1.5x ${mark(flat((r) => r.cliMs) <= 1.5)}`],
      ['baseline: walk one folder per run, parse every manifest, sort, slice 50 (ms, median of 15 / 7)', ...cells((r) => (r.baseline === null ? '–' : fmtMs(r.baseline))), '', ''],
      // Like for like: both in-process with warm caches (the walk has the page cache, ours a running cat-file).
      ['baseline / ours at 10,000 runs, warm (both in-process, caches warm)', '', '', '', fmtX(k10.baseline! / k10.warm), `≥ 100x ${mark(k10.baseline! / k10.warm >= 100)}`],
      [
        'baseline / `GET /api/runs` at 10,000 runs: repeated; first request after the ref moved',
        '',
        '',
        '',
        `${fmtX(k10.baseline! / k10.studio)}; ${fmtX(k10.baseline! / k10.studioMoved)}`,
        `≥ 100x ${mark(k10.baseline! / k10.studio >= 100)} (repeated); info (after a move)`,
      ],
      [
        'baseline / ours at 10,000 runs, cold',
        '',
        '',
        '',
        fmtX(k10.baseline! / k10.cold),
        `info: a fresh store reads the index from the files (openStore ${fmtMs(k10.open)} ms, no git process); the walk reads every manifest`,
      ],
      ['`createRun` (manifest + index row, one CAS commit), per run (ms, median of 15)', ...cells((r) => fmtMs(r.createRun)), `100k/1k = ${fmtX(flat((r) => r.createRun))}`, 'flat'],
      ['seeding with one `git fast-import`, 10 rows per run (s)', ...cells((r) => (r.seedMs / 1000).toFixed(1)), `${n(100_000 / (k100.seedMs / 1000))} runs/s at 100k`, `100k well under 60 s ${mark(k100.seedMs < 60_000)}`],
      [`RowWriter: ${n(WRITER_ROWS)} rows from 4 concurrent adders, then drain() (fsync'd journal + group commit; median of ${WRITER_REPS})`, '', '', '', `${n(w4.rowsPerSec)} rows/s (${w4.commits} commits)`, `≥ 2,000 ${mark(w4.rowsPerSec >= 2000)}`],
      [`RowWriter: ${n(WRITER_ROWS)} rows from 1 adder, each add awaits its own fsync, then drain() (median of ${WRITER_REPS})`, '', '', '', `${n(w1.rowsPerSec)} rows/s (${w1.commits} commits)`, 'info'],
      [
        `repository bytes per row after \`git gc\` (${GC_RUNS} runs x ${GC_ROWS} rows via the real write path)`,
        '',
        '',
        '',
        `${n(growth.packBytes / growth.rows)} B/row vs ${n(growth.rawBytes / growth.rows)} B/row of JSONL = ${fmtX(growth.packBytes / growth.rawBytes)}`,
        `close to the rows' size ${mark(growth.packBytes / growth.rawBytes <= 1.5)}`,
      ],
      ...extras,
      ...(await measureRegrade({ tmp, cli })),
      ...(await measureReuse({ tmp, cli })),
      ...(await measurePush({ tmp, cli })),
      ...(await measureBrowser({ tmp, cli })),
      ...(await measureDepth({ tmp, cli })),
    ];
    const header = ['measurement', '1,000 runs', '10,000 runs', '100,000 runs', 'result', 'target'];
    const line = (cs: string[]) => `| ${cs.join(' | ')} |`;
    const total = (performance.now() - started) / 1000;
    process.stdout.write(
      [`Machine: ${facts}. Bench took ${total.toFixed(0)} s.`, '', line(header), line(header.map(() => '---')), ...rows.map(line), ''].join('\n'),
    );
  } finally {
    cleanup();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
