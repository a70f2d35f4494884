// Bench rows for `eval --reuse` (SPEC 3.9, section 5): planning a 10,000-test
// suite against a history of 1,000 runs through the call index, the same
// reuse end to end through the CLI (no target call), and the wall time a
// reuse saves against a target with 50 ms latency.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EvalSession } from '../src/eval/session.js';
import { MODE_DIR, initRepo, type TreeEntry } from '../src/git/index.js';
import { BUCKET_MAX, CALLS_DIR, openStore, readCallIndex, type Store } from '../src/store/index.js';
import { seedRuns } from '../src/store/seed.js';
import { mark, n, timeEach } from './stats.js';

const execFileP = promisify(execFile);
const log = (s: string) => void process.stderr.write(`bench: ${s}\n`);
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));
const row = (label: string, result: string, target: string) => [label, '', '', '', result, target];

async function suiteRepo(dir: string, tests: number, target?: string): Promise<string> {
  await initRepo({ dir });
  const lines = Array.from({ length: tests }, (_, i) => JSON.stringify({ id: `t${i}`, vars: { input: `question ${i}` }, assert: [{ type: 'contains', value: 'question' }] }));
  writeFileSync(path.join(dir, 'cases.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(path.join(dir, 'suite.yaml'), 'name: bench\ntests: ./cases.jsonl\n');
  if (target) {
    mkdirSync(path.join(dir, '.agentv'), { recursive: true });
    writeFileSync(path.join(dir, '.agentv/targets.yaml'), target);
  }
  return dir;
}

/** Objects in the repository, loose and in packs, and the number of packs (`git count-objects -v`). */
async function objectCounts(dir: string): Promise<{ loose: number; packed: number; packs: number }> {
  const { stdout } = await execFileP('git', ['count-objects', '-v'], { cwd: dir });
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(stdout)?.[1] ?? 0);
  return { loose: field('count'), packed: field('in-pack'), packs: field('packs') };
}

/** How many keys and buckets the call index at the tip holds. */
async function callIndexShape(store: Store): Promise<{ keys: number; buckets: number }> {
  const tip = (await store.tip())!;
  let buckets = 0;
  const visit = async (entries: TreeEntry[]): Promise<void> => {
    for (const e of entries) {
      if (e.mode === MODE_DIR) await visit(await store.treeEntries(e.oid));
      else buckets++;
    }
  };
  await visit((await store.readTree(tip.tree, CALLS_DIR)) ?? []);
  return { keys: (await readCallIndex(store, tip.tree)).size, buckets };
}

async function evalCli(cli: string, dir: string, args: string[]): Promise<{ wall: number; json: { reused_count?: number; passed: number } }> {
  const t0 = performance.now();
  const { stdout } = await execFileP(process.execPath, [cli, 'eval', 'suite.yaml', '--json', ...args], { cwd: dir, maxBuffer: 1 << 26 });
  return { wall: performance.now() - t0, json: JSON.parse(stdout) };
}

async function planning(tmp: string, cli: string): Promise<string[][]> {
  const TESTS = 10_000;
  const dir = await suiteRepo(path.join(tmp, 'reuse-plan'), TESTS);
  log('reuse: seeding 999 runs of history, then a real 10,000-test run against echo ...');
  await seedRuns({ repoDir: dir, runs: 999, rowsPerRun: 10 });
  const before = await objectCounts(dir);
  const source = await evalCli(cli, dir, ['--target', 'echo']);
  const after = await objectCounts(dir);
  const written = after.loose + after.packed - before.loose - before.packed;
  if (source.json.passed !== TESTS) throw new Error(`source run: expected ${TESTS} passed, got ${source.json.passed}`);
  const store = await openStore({ repoDir: dir });
  const suitePath = path.join(dir, 'suite.yaml');
  try {
    log('reuse planning, 10,000 tests against 1,000 runs, 5 times (and plain planning beside it) ...');
    let summary = '';
    let stored = 0;
    const withReuse = await timeEach(5, async () => {
      const s = await EvalSession.prepare({ store, repoDir: dir, suitePath, target: 'echo', reuse: true });
      summary = s.plan.summary;
      stored = s.plan.items.filter((i) => i.stored).length;
    });
    if (stored !== TESTS || !summary.includes(`${TESTS} reused, 0 to run`)) throw new Error(`unexpected reuse plan: ${summary}`);
    const plain = await timeEach(5, () => EvalSession.prepare({ store, repoDir: dir, suitePath, target: 'echo', reuse: false }));
    log('reuse end to end: agentv eval --reuse of the unchanged 10,000-test suite ...');
    const e2e = await evalCli(cli, dir, ['--target', 'echo', '--reuse']);
    if (e2e.json.reused_count !== TESTS) throw new Error(`eval --reuse reused ${e2e.json.reused_count} of ${TESTS}`);
    const shape = await callIndexShape(store);
    return [
      row(
        'write path: objects one `agentv eval` of 10,000 tests against echo wrote (rows, inputs, call index, manifest and index trees), and how: a group commit is one pack, rolled up geometrically, so loose objects and pack files stay few',
        `${n(written)} objects = ${(written / TESTS).toFixed(2)} per row, ${n(after.loose - before.loose)} of them loose; ${n(after.packs)} pack files after; call index: ${n(shape.keys)} keys in ${n(shape.buckets)} buckets of ≤ ${BUCKET_MAX}`,
        'info',
      ),
      row(
        '`--reuse` planning: 10,000-test suite against a history of 1,000 runs (load suite, hash, look up 10,000 call keys in the call index, read their rows; ms, median of 5)',
        `${ms(withReuse)} ms (planning without reuse: ${ms(plain)} ms; all 10,000 found, 0 target calls planned)`,
        `< 1 s ${mark(withReuse < 1000)}`,
      ),
      row(
        '`agentv eval --reuse` of the unchanged 10,000-test suite end to end (node start, planning, grading 10,000 stored outputs, journal, group commits)',
        `${ms(e2e.wall)} ms, reused_count ${n(e2e.json.reused_count ?? 0)}: no target called (the source run, calling echo: ${ms(source.wall)} ms)`,
        `calls no target ${mark(e2e.json.reused_count === TESTS)}`,
      ),
    ];
  } finally {
    store.close();
  }
}

async function saved(tmp: string, cli: string): Promise<string[]> {
  const TESTS = 1_000;
  const dir = await suiteRepo(path.join(tmp, 'reuse-saved'), TESTS, 'targets:\n  - name: slow\n    provider: echo\n    delay_ms: 50\ndefaults:\n  target: slow\n');
  log(`reuse: ${TESTS} tests against a target with 50 ms latency, without and then with --reuse ...`);
  const without = await evalCli(cli, dir, ['--no-reuse']);
  const withReuse = await evalCli(cli, dir, ['--reuse']);
  if (withReuse.json.reused_count !== TESTS) throw new Error(`--reuse reused ${withReuse.json.reused_count} of ${TESTS}`);
  return row(
    `time saved by \`--reuse\`: ${n(TESTS)} unchanged tests, target with 50 ms latency (echo with delay_ms: 50), default 4 workers, \`agentv eval\` wall time`,
    `without reuse ${ms(without.wall)} ms → with reuse ${ms(withReuse.wall)} ms: ${ms(without.wall - withReuse.wall)} ms saved (${(without.wall / withReuse.wall).toFixed(1)}x), ${n(TESTS)} target calls avoided`,
    'info',
  );
}

export async function measureReuse({ tmp, cli }: { tmp: string; cli: string }): Promise<string[][]> {
  return [...(await planning(tmp, cli)), await saved(tmp, cli)];
}
