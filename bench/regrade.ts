// `agentv regrade` of a 10,000-test run (SPEC 5: under 2 s, no target call).
// The run is written once through createRun with real rows (outputs, call and
// grading keys as the planner computes them for a target that logs every call);
// then one assertion changes in the suite and `agentv regrade` runs as a child
// process, node start included. The target's log must stay empty.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EvalSession } from '../src/eval/session.js';
import { initRepo } from '../src/git/index.js';
import { storedInputOf } from '../src/eval/input.js';
import type { StoredInput } from '../src/schemas/input.js';
import { inputEdits, inputRefOf, openStore } from '../src/store/index.js';
import { answeredRow, commitPlannedRun } from './planned-run.js';
import { mark, median, n } from './stats.js';

const execFileP = promisify(execFile);
const log = (s: string) => void process.stderr.write(`bench: ${s}\n`);
const TESTS = 10_000;
const REPS = 3;

function writeSuite(dir: string, value: string, tests = TESTS): void {
  const lines = Array.from({ length: tests }, (_, i) => JSON.stringify({ id: `t${i}`, vars: { input: `question ${i}` }, assert: [{ type: 'contains', value }] }));
  writeFileSync(path.join(dir, 'cases.jsonl'), `${lines.join('\n')}\n`);
}

/** A repository whose run `regrade` has `tests` rows with outputs, and whose suite's assertion has changed since. */
export async function regradeRepo({ dir, calls, tests = TESTS, storedInputs = true }: { dir: string; calls: string; tests?: number; storedInputs?: boolean }): Promise<void> {
  await initRepo({ dir });
  mkdirSync(path.join(dir, '.agentv'), { recursive: true });
  writeFileSync(path.join(dir, '.agentv/targets.yaml'), `targets:\n  - name: logged\n    provider: cli\n    command: "echo {TEST_ID} >> ${calls}; echo {PROMPT}"\n`);
  writeFileSync(path.join(dir, 'suite.yaml'), 'name: bench-regrade\ntests: ./cases.jsonl\n');
  writeSuite(dir, 'question', tests);
  const store = await openStore({ repoDir: dir });
  try {
    const suitePath = path.join(dir, 'suite.yaml');
    const first = await EvalSession.prepare({ store, repoDir: dir, suitePath, target: 'logged', runId: 'regrade' });
    const now = new Date().toISOString();
    // As `agentv eval` writes a run: each row names its stored input, and the inputs are on the ref.
    const tests = new Map(first.plan.suite.tests.map((t) => [t.id, t]));
    const inputs = new Map<string, StoredInput>();
    const rows = first.plan.planned.map((p, i) => {
      const input = storedInputOf(tests.get(p.test_id)!);
      const ref = inputRefOf(input);
      inputs.set(ref, input);
      return { ...answeredRow(p, `question ${i}`, 50, now), target_ms: 50, ...(storedInputs && { input_ref: ref }) };
    });
    await commitPlannedRun({ store, plan: first.plan, runId: 'regrade', suiteName: 'bench-regrade', status: 'completed', rows });
    if (storedInputs) await store.commit({ subject: 'run regrade: inputs', runId: 'regrade', sourceCommit: null, change: async () => inputEdits(inputs) });
  } finally {
    store.close();
  }
  // One assertion changes: most outputs now fail it.
  writeSuite(dir, 'question 1', tests);
}

export async function measureRegrade({ tmp, cli }: { tmp: string; cli: string }): Promise<string[][]> {
  const prepared = path.join(tmp, 'regrade-prepared');
  const calls = path.join(tmp, 'regrade-target-calls.log');
  await regradeRepo({ dir: prepared, calls });
  log(`agentv regrade, ${n(TESTS)}-test run, ${REPS} times, each on a fresh copy of the repository ...`);
  let last: { regraded_count: number; failed: number } | null = null;
  // Each re-grade gets its own copy (made before the clock starts): a second re-grade of the same run would
  // also read the first one's 10,000 rows, so the median would measure a run with 20,000 rows of history.
  let dir = prepared;
  const walls: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    dir = path.join(tmp, `regrade-${rep}`);
    cpSync(prepared, dir, { recursive: true });
    const t0 = performance.now();
    const { stdout } = await execFileP(process.execPath, [cli, 'regrade', 'regrade', '--json'], { cwd: dir, maxBuffer: 1 << 26 }).catch((e: { code?: number; stdout?: string }) => {
      if (e.code === 1 && e.stdout) return { stdout: e.stdout }; // exit 1: tests now fail, as intended
      throw e;
    });
    walls.push(performance.now() - t0);
    last = JSON.parse(stdout);
  }
  const wall = median(walls);
  dir = path.join(tmp, 'regrade-in-process');
  cpSync(prepared, dir, { recursive: true });
  if (last!.regraded_count !== TESTS) throw new Error(`regrade re-graded ${last!.regraded_count} of ${TESTS}`);
  // In-process, with this process's CPU time beside the wall time: on a loaded machine
  // the CPU time says what the re-grade itself costs.
  const store = await openStore({ repoDir: dir });
  let inProcess: { wall: number; cpu: number };
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const session = await EvalSession.prepareRegrade({ store, repoDir: dir, runId: 'regrade' });
    await session.run();
    const cpu = process.cpuUsage(cpu0);
    inProcess = { wall: performance.now() - t0, cpu: (cpu.user + cpu.system) / 1000 };
  } finally {
    store.close();
  }
  // A run written before rows named stored inputs: its first re-grade also stores 10,000 inputs.
  const legacy = path.join(tmp, 'regrade-legacy');
  await regradeRepo({ dir: legacy, calls, storedInputs: false });
  log('agentv regrade of a run written before stored inputs, once ...');
  const t0 = performance.now();
  await execFileP(process.execPath, [cli, 'regrade', 'regrade', '--json'], { cwd: legacy, maxBuffer: 1 << 26 }).catch((e: { code?: number }) => {
    if (e.code !== 1) throw e;
  });
  const legacyWall = performance.now() - t0;
  const targetCalls = existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter(Boolean).length : 0;
  return [
    [
      `\`agentv regrade\` of a ${n(TESTS)}-test run after an assertion change: wall incl. node start, loading the suite, reading the run, grading, journal, group commits (median of ${REPS}, each on a fresh copy of the run); target calls`,
      '',
      '',
      '',
      `${wall.toFixed(0)} ms, ${n(targetCalls)} target calls (${n(last!.failed)} now failing); in-process ${inProcess.wall.toFixed(0)} ms wall, ${inProcess.cpu.toFixed(0)} ms CPU`,
      `< 2 s, 0 calls ${mark(wall < 2000 && targetCalls === 0)}`,
    ],
    [
      `the same for a ${n(TESTS)}-test run written before rows named stored inputs (its first re-grade also stores ${n(TESTS)} inputs; once)`,
      '',
      '',
      '',
      `${legacyWall.toFixed(0)} ms`,
      'info',
    ],
  ];
}
