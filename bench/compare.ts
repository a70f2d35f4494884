// Bench rows for comparing runs (SPEC 3.8, issue 10): `runs diff` of two
// 10,000-test runs, the first page of GET /api/compare for 100 vs 10,000
// tests, and what stored inputs add to the repository per row after `git gc`.
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { initRepo, runGit } from '../src/git/index.js';
import type { StoredInput } from '../src/schemas/input.js';
import type { Row } from '../src/schemas/row.js';
import { buildApp } from '../src/server/app.js';
import { RowWriter, compareRuns, createRun, finishRun, inputRefOf, openStore, type Store } from '../src/store/index.js';
import { syntheticRuns } from '../src/store/seed.js';
import { mark, median, n } from './stats.js';

const execFileP = promisify(execFile);
const log = (s: string) => void process.stderr.write(`bench: ${s}\n`);
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));
const row = (label: string, result: string, target: string) => [label, '', '', '', result, target];

const inputOf = (i: number): StoredInput => ({ prompt: `question ${i}: what is ${i} + ${i}?`, messages: null, vars: { input: `question ${i}`, n: i }, expected_output: String(2 * i) });

function rowOf(i: number, passed: boolean, withInput: boolean): Row {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)).toISOString();
  return {
    test_id: `t${i}`,
    input_hash: `h${i}`,
    execution_status: passed ? 'ok' : 'quality_failure',
    passed,
    score: passed ? 1 : 0,
    assertions: [{ type: 'equals', passed, score: passed ? 1 : 0, reason: passed ? `output equals "${2 * i}"` : `expected "${2 * i}", got "x"` }],
    output: passed ? String(2 * i) : 'x',
    error: null,
    duration_ms: 5,
    started_at: at,
    finished_at: at,
    attempt: 1,
    token_usage: null,
    cost_usd: null,
    ...(withInput ? { input_ref: inputRefOf(inputOf(i)) } : {}),
  };
}

/** A completed run of `tests` tests written through the real write path (RowWriter group commits). */
export async function writeRun(store: Store, runId: string, tests: number, { fail = () => false, inputs = true }: { fail?: (i: number) => boolean; inputs?: boolean } = {}) {
  const [m] = [...syntheticRuns({ runs: 1, rowsPerRun: 1, startAt: new Date(Date.UTC(2026, 0, 1)) })];
  const planned = Array.from({ length: tests }, (_, i) => ({ test_id: `t${i}`, input_hash: `h${i}` }));
  await createRun({
    store,
    manifest: { ...m!.manifest, run_id: runId, planned_tests: planned, planned_test_count: tests, status: 'running', finished_at: null, counts: null, events: [] },
  });
  const writer = new RowWriter({ store, runId, sourceCommit: null, maxBatch: 1000 });
  await Promise.all(Array.from({ length: tests }, (_, i) => writer.add(rowOf(i, !fail(i), inputs), inputs ? inputOf(i) : undefined)));
  await writer.drain();
  await finishRun({ store, runId, status: 'completed' });
  writer.finish();
}

async function packBytes(dir: string): Promise<number> {
  await runGit({ cwd: dir, args: ['gc', '-q', '--prune=now'] });
  const pack = path.join(dir, '.git', 'objects', 'pack');
  return readdirSync(pack).reduce((s, f) => s + statSync(path.join(pack, f)).size, 0);
}

async function diffRows(tmp: string, cli: string): Promise<string[][]> {
  const dir = path.join(tmp, 'compare-diff');
  await initRepo({ dir });
  const store = await openStore({ repoDir: dir });
  try {
    log('runs diff: writing two runs of 10,000 tests and two of 100 ...');
    await writeRun(store, 'big-base', 10_000, { fail: (i) => i % 10 === 0 });
    await writeRun(store, 'big-head', 10_000, { fail: (i) => i % 10 === 0 || i % 97 === 0 });
    await writeRun(store, 'small-base', 100, { fail: (i) => i % 10 === 0 });
    await writeRun(store, 'small-head', 100, { fail: (i) => i % 10 === 0 || i % 97 === 0 });
    const inProc: number[] = [];
    const inProcCpu: number[] = [];
    const withInputs: number[] = [];
    for (let i = 0; i < 5; i++) {
      for (const inputs of [false, true]) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const doc = await compareRuns({ store, base: 'big-base', head: 'big-head', inputs });
        const cpu = process.cpuUsage(c0);
        if (!inputs) inProcCpu.push((cpu.user + cpu.system) / 1000);
        (inputs ? withInputs : inProc).push(performance.now() - t0);
        if (doc.tests.length !== 10_000) throw new Error(`runs diff: expected 10,000 tests, got ${doc.tests.length}`);
      }
    }
    const wall: number[] = [];
    const wallJson: number[] = [];
    for (let i = 0; i < 3; i++) {
      for (const json of [false, true]) {
        const t0 = performance.now();
        await execFileP(process.execPath, [cli, 'runs', 'diff', 'big-base', 'big-head', ...(json ? ['--json'] : [])], { cwd: dir, maxBuffer: 1 << 30 });
        (json ? wallJson : wall).push(performance.now() - t0);
      }
    }
    const { app } = await buildApp({ store, cliPath: cli });
    const page = async (base: string, head: string, fresh: boolean) => {
      const times: number[] = [];
      for (let i = 0; i < 9; i++) {
        const a = fresh ? (await buildApp({ store, cliPath: cli })).app : app;
        const t0 = performance.now();
        const r = await a.inject({ url: `/api/compare?base=${base}&head=${head}&limit=100` });
        times.push(performance.now() - t0);
        if (r.statusCode !== 200) throw new Error(`/api/compare: ${r.statusCode} ${r.body.slice(0, 200)}`);
        if (fresh) await a.close();
      }
      return median(times);
    };
    const small = await page('small-base', 'small-head', false);
    const big = await page('big-base', 'big-head', false);
    const smallCold = await page('small-base', 'small-head', true);
    const bigCold = await page('big-base', 'big-head', true);
    await app.close();
    return [
      row(
        '`runs diff` of two 10,000-test runs, in-process `compareRuns` (wall ms, and this process\'s CPU ms: on a loaded machine wall is mostly waiting; median of 5)',
        `${ms(median(inProc))} ms (CPU ${ms(median(inProcCpu))} ms)`,
        `< 1 s ${mark(median(inProc) < 1000)}`,
      ),
      row('the same with every row\'s stored input attached (10,000 input blobs, as the write path stores them) (ms, median of 5)', `${ms(median(withInputs))} ms`, 'info'),
      row('`agentv runs diff` of two 10,000-test runs, wall incl. node start and printing (ms, median of 3)', `${ms(median(wall))} ms`, `< 1 s ${mark(median(wall) < 1000)}`),
      row('`agentv runs diff --json` (inputs included), wall (ms, median of 3)', `${ms(median(wallJson))} ms`, 'info'),
      row(
        '`GET /api/compare?limit=100` first page, 100 vs 10,000 tests per run, Studio paging the same comparison (ms, median of 9)',
        `${ms(small)} vs ${ms(big)} ms (${(big / small).toFixed(1)}x)`,
        `≤ 2x ${mark(big / small <= 2)}`,
      ),
      row(
        '`GET /api/compare?limit=100` first request of a fresh Studio (reads both runs), 100 vs 10,000 tests (ms, median of 9)',
        `${ms(smallCold)} vs ${ms(bigCold)} ms`,
        'info',
      ),
    ];
  } finally {
    store.close();
  }
}

async function inputBytes(tmp: string): Promise<string[]> {
  const RUNS = 100;
  const TESTS = 100;
  const sizes: Record<string, number> = {};
  for (const inputs of [false, true]) {
    const dir = path.join(tmp, `compare-inputs-${inputs}`);
    await initRepo({ dir });
    const store = await openStore({ repoDir: dir });
    try {
      log(`stored inputs: ${RUNS} runs x ${TESTS} tests with the same inputs, ${inputs ? 'with' : 'without'} stored inputs ...`);
      for (let r = 0; r < RUNS; r++) await writeRun(store, `run-${String(r).padStart(4, '0')}`, TESTS, { inputs });
    } finally {
      store.close();
    }
    sizes[String(inputs)] = await packBytes(dir);
  }
  const perRow = (sizes.true! - sizes.false!) / (RUNS * TESTS);
  return row(
    `stored inputs: repository bytes per row after \`git gc\`, ${RUNS} runs x ${TESTS} tests with repeated inputs (with − without, per row)`,
    `${perRow.toFixed(1)} B/row (${n(sizes.true!)} vs ${n(sizes.false!)} B)`,
    `a few bytes ${mark(perRow <= 16)}`,
  );
}

export async function measureCompare({ tmp, cli }: { tmp: string; cli: string }): Promise<string[][]> {
  return [...(await diffRows(tmp, cli)), await inputBytes(tmp)];
}
