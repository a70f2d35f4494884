// The bench rows beyond the store's list and write paths: `agentv eval` end to
// end, resume planning, Studio under concurrent pollers while a run writes,
// the git access choices (isomorphic-git, simple-git, spawned git, our
// long-lived reader and in-process writer), and the viewer's size.
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs, { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import git from 'isomorphic-git';
import { simpleGit } from 'simple-git';
import { EvalSession } from '../src/eval/session.js';
import { CatFile, LocalObjects, initRepo, writeObject } from '../src/git/index.js';
import { buildApp } from '../src/server/app.js';
import { RowWriter, createRun, openStore } from '../src/store/index.js';
import { seedRuns, syntheticRuns } from '../src/store/seed.js';
import { answeredRow, commitPlannedRun } from './planned-run.js';
import { measureCompare } from './compare.js';
import { mark, n, percentile, timeEach } from './stats.js';

const execFileP = promisify(execFile);
const log = (s: string) => void process.stderr.write(`bench: ${s}\n`);

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));
const row = (label: string, result: string, target: string) => [label, '', '', '', result, target];

async function suiteRepo(dir: string, tests: number): Promise<string> {
  await initRepo({ dir });
  const lines = Array.from({ length: tests }, (_, i) => JSON.stringify({ id: `t${i}`, vars: { input: `question ${i}` }, assert: [{ type: 'contains', value: 'question' }] }));
  writeFileSync(path.join(dir, 'cases.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(path.join(dir, 'suite.yaml'), 'name: bench\ntests: ./cases.jsonl\n');
  return dir;
}

async function evalRate(tmp: string, cli: string): Promise<string[]> {
  const TESTS = 5_000;
  const dir = await suiteRepo(path.join(tmp, 'eval-rate'), TESTS);
  log(`agentv eval, ${TESTS} tests against echo, 3 times ...`);
  const wall = await timeEach(3, () => execFileP(process.execPath, [cli, 'eval', 'suite.yaml', '--target', 'echo', '--json'], { cwd: dir, maxBuffer: 1 << 26 }));
  const rate = TESTS / (wall / 1000);
  return row(
    `\`agentv eval\` end to end: ${n(TESTS)} tests, echo target, default 4 workers; wall incl. node start, planning, journal fsyncs, group commits (rows/s, median of 3)`,
    `${n(rate)} rows/s (${ms(wall)} ms)`,
    `≥ 2,000 ${mark(rate >= 2000)}`,
  );
}

async function planning(tmp: string): Promise<string[]> {
  const dir = await suiteRepo(path.join(tmp, 'plan'), 10_000);
  const store = await openStore({ repoDir: dir });
  try {
    const suitePath = path.join(dir, 'suite.yaml');
    const first = await EvalSession.prepare({ store, repoDir: dir, suitePath, target: 'echo', runId: 'plan' });
    const now = new Date().toISOString();
    const done = first.plan.planned.slice(0, 9_000).map((p) => answeredRow(p, 'question', 1, now));
    await commitPlannedRun({ store, plan: first.plan, runId: 'plan', suiteName: 'bench', status: 'stopped', rows: done });
    log('resume planning, 10,000 tests with 9,000 done, 5 times ...');
    let summary = '';
    const t = await timeEach(5, async () => {
      summary = (await EvalSession.prepare({ store, repoDir: dir, suitePath, mode: 'resume', fromRunId: 'plan' })).plan.summary;
    });
    if (!summary.includes('1000 to run')) throw new Error(`unexpected plan: ${summary}`);
    return row('resume planning: 10,000-test suite, 9,000 rows done (load suite, read the run, hash, diff; ms, median of 5)', `${ms(t)} ms`, `< 1 s ${mark(t < 1000)}`);
  } finally {
    store.close();
  }
}

/** Keep-alive clients polling a route; prints {latencies (ms), wall (ms)} as JSON. */
const POLLER = `
const [base, route, clients, each] = process.argv.slice(1);
const latencies = [];
const t0 = performance.now();
await Promise.all(Array.from({ length: Number(clients) }, async () => {
  for (let i = 0; i < Number(each); i++) {
    const t = performance.now();
    const res = await fetch(base + route);
    await res.json();
    if (res.status !== 200) throw new Error('status ' + res.status);
    latencies.push(performance.now() - t);
  }
}));
process.stdout.write(JSON.stringify({ latencies, wall: performance.now() - t0 }));
`;

async function poll(base: string, route: string): Promise<{ p50: number; p99: number; rps: number; count: number }> {
  const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', POLLER, base, route, '50', '40'], { maxBuffer: 1 << 24 });
  const { latencies, wall } = JSON.parse(stdout) as { latencies: number[]; wall: number };
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), rps: latencies.length / (wall / 1000), count: latencies.length };
}

async function pollers(tmp: string, cli: string): Promise<string[]> {
  const dir = path.join(tmp, 'pollers');
  await initRepo({ dir });
  await seedRuns({ repoDir: dir, runs: 10_000, rowsPerRun: 5 });
  const store = await openStore({ repoDir: dir });
  const { app } = await buildApp({ store, cliPath: cli });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const writerStore = await openStore({ repoDir: dir });
  try {
    const [run] = [...syntheticRuns({ runs: 1, rowsPerRun: 4_000, startAt: new Date() })];
    await createRun({ store: writerStore, manifest: { ...run!.manifest, status: 'running', finished_at: null, counts: null } });
    const writer = new RowWriter({ store: writerStore, runId: run!.manifest.run_id, maxDelayMs: 50, maxBatch: 64 });
    let writing = true;
    const writes = (async () => {
      for (const r of run!.rows) {
        if (!writing) break;
        await writer.add(r);
        await new Promise((res) => setImmediate(res));
      }
      await writer.drain();
    })();
    log('Studio: 50 concurrent pollers x 40 requests (from another process) while a run writes, over 10,000 runs ...');
    const before = writerStore.stats.commits;
    // The load comes from a separate process, so the client's work does not share the server's event loop.
    const runs = await poll(base, '/api/runs?limit=50');
    const commits = writerStore.stats.commits - before;
    // The HTTP floor on this machine: the cheapest route under the same load.
    const floor = await poll(base, '/api/config');
    writing = false;
    await writes;
    writer.finish();
    return row(
      'Studio over HTTP: 50 concurrent pollers x 40 `GET /api/runs?limit=50` at 10,000 runs while a run writes (the pollers run in another process)',
      `p50 ${ms(runs.p50)} ms, p99 ${ms(runs.p99)} ms, ${n(runs.rps)} req/s (${n(runs.count)} requests, ${commits} ref moves meanwhile); ` +
        `HTTP floor, \`GET /api/config\` under the same load: p50 ${ms(floor.p50)} ms, ${n(floor.rps)} req/s`,
      'info: latency = pollers / throughput on 2 cores',
    );
  } finally {
    await app.close();
    store.close();
    writerStore.close();
  }
}

async function gitAccess(tmp: string): Promise<string[][]> {
  const dir = path.join(tmp, 'git-access');
  const repo = await initRepo({ dir });
  const gitdir = repo.commonDir;
  const small = Buffer.from(JSON.stringify({ test_id: 't', output: 'x'.repeat(800) }));
  const big = randomBytes(8 * 1024 * 1024);
  const smallOid = await writeObject({ commonDir: gitdir, type: 'blob', body: small });
  const bigOid = await writeObject({ commonDir: gitdir, type: 'blob', body: big });
  const reader = new CatFile(dir);
  const files = new LocalObjects(gitdir, repo.objectFormat);
  const sg = simpleGit(dir);
  log('git access: isomorphic-git, simple-git, spawned git, long-lived cat-file, in-process reader and writer ...');
  try {
    const read = async (oid: string, reps: number) => ({
      iso: await timeEach(reps, () => git.readBlob({ fs, dir, gitdir, oid })),
      simple: await timeEach(reps, () => sg.raw(['cat-file', '-p', oid])),
      spawn: await timeEach(reps, () => spawnSync('git', ['cat-file', 'blob', oid], { cwd: dir, maxBuffer: 1 << 30 })),
      batch: await timeEach(reps, () => reader.read(oid)),
      local: await timeEach(reps, async () => files.read(oid)),
    });
    const s = await read(smallOid, 40);
    const b = await read(bigOid, 5);
    let k = 0;
    const fresh = () => Buffer.from(`${small.toString()}${++k}${Math.random()}`);
    const w = {
      iso: await timeEach(40, () => git.writeBlob({ fs, dir, gitdir, blob: fresh() })),
      simple: await timeEach(20, () => sg.raw(['hash-object', '-w', path.join(dir, '.git', 'HEAD')])),
      spawn: await timeEach(20, () => spawnSync('git', ['hash-object', '-w', '--stdin'], { cwd: dir, input: fresh() })),
      ours: await timeEach(40, () => writeObject({ commonDir: gitdir, type: 'blob', body: fresh() })),
    };
    const fmt = (r: { iso: number; simple: number; spawn: number; batch: number; local: number }) =>
      `isomorphic-git ${ms(r.iso)} · simple-git ${ms(r.simple)} · spawn ${ms(r.spawn)} · long-lived cat-file ${ms(r.batch)} · **in-process from the files ${ms(r.local)}**`;
    const use = 'reads come from the files in-process (no process start); cat-file for what they leave to git';
    return [
      row('read a ~1 KB blob (ms, median of 40)', fmt(s), use),
      row('read an 8 MB blob (ms, median of 5)', fmt(b), use),
      row(
        'write a ~1 KB blob (ms, median)',
        `isomorphic-git ${ms(w.iso)} · simple-git hash-object ${ms(w.simple)} · spawn hash-object ${ms(w.spawn)} · **in-process loose writer ${ms(w.ours)}**`,
        'writes use the in-process writer',
      ),
    ];
  } finally {
    reader.close();
    files.close();
  }
}

function bundle(distDir: string): string[] {
  const gz = gzipSync(readFileSync(path.join(distDir, 'web/app.js'))).length;
  return row('Studio viewer JavaScript, gzipped (KB)', `${(gz / 1024).toFixed(1)} KB`, `< 30 KB ${mark(gz < 30 * 1024)}`);
}

export async function measureExtras({ tmp, cli }: { tmp: string; cli: string }): Promise<string[][]> {
  return [
    await evalRate(tmp, cli),
    await planning(tmp),
    await pollers(tmp, cli),
    ...(await gitAccess(tmp)),
    bundle(path.dirname(cli)),
    ...(await measureCompare({ tmp, cli })),
  ];
}
