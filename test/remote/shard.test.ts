// Sharded runs across machines (SPEC 3.9): N clones each execute one slice of
// one run and push at the same moment; after a pull the run is whole,
// complete, every test executed once; a killed slice resumed alone completes it.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, startCli, waitForStderr } from '../helpers/cli.js';
import { cliOk } from '../helpers/expect.js';
import { waitExit } from '../helpers/proc.js';
import { cleanupRepos, git, makeRepo, tempDir } from '../helpers/repo.js';
import { selectSlice } from '../../src/eval/shard.js';

afterEach(cleanupRepos);

const REF = 'refs/agentv/runs/v1';

/**
 * A bare remote whose main holds a suite of `tests` tests and an `sh` target
 * that appends each executed test id to one log shared by every clone. While
 * the `hold` file exists, every call after the first blocks (a kill then
 * lands inside the run, however slow the machine).
 */
function project(tests: number): { bare: string; log: string; ids: string[]; hold: string } {
  const scratch = tempDir();
  const log = path.join(scratch, 'executions.log');
  const hold = path.join(scratch, 'hold');
  const src = makeRepo();
  const ids = Array.from({ length: tests }, (_, i) => `case-${String(i + 1).padStart(2, '0')}`);
  writeFileSync(
    path.join(src, 'suite.yaml'),
    `name: sharded\ntests:\n${ids.map((id) => `  - id: ${id}\n    vars: { input: "0.2" }\n    assert: [{ type: contains, value: done }]\n`).join('')}`,
  );
  mkdirSync(path.join(src, '.agentv'));
  writeFileSync(
    path.join(src, '.agentv/targets.yaml'),
    ['targets:', '  - name: sh', '    provider: cli', `    command: "echo {TEST_ID} >> ${log}; if [ -f ${hold} ] && [ $(wc -l < ${log}) -gt 1 ]; then sleep 600; fi; sleep {PROMPT}; echo done"`, '  - name: other', '    provider: cli', '    command: "echo done"', 'defaults:', '  target: sh', ''].join('\n'),
  );
  git(src, 'add', '.');
  git(src, 'commit', '-q', '-m', 'suite');
  const bare = path.join(tempDir(), 'remote.git');
  git(path.dirname(bare), 'init', '-q', '--bare', '-b', 'main', bare);
  git(bare, 'config', 'core.logAllRefUpdates', 'always');
  git(src, 'push', '-q', bare, 'main');
  return { bare, log, ids, hold };
}

function cloneOf(bare: string): string {
  const dir = path.join(tempDir(), 'clone');
  git(path.dirname(dir), 'clone', '-q', `file://${bare}`, dir);
  git(dir, 'config', 'user.name', 'Test');
  git(dir, 'config', 'user.email', 'test@example.com');
  return dir;
}

function executions(log: string): Map<string, number> {
  const counts = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return counts;
  }
  for (const id of text.split('\n').filter(Boolean)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

async function show(dir: string, runId: string) {
  return JSON.parse((await cliOk(dir, 'runs', 'show', runId, '--json')).stdout);
}

/** Each value the remote's results ref took descends from the one before: no update was forced. */
function expectFastForwardsOnly(bare: string): void {
  const history = git(bare, 'reflog', 'show', '--format=%H', REF).split('\n').filter(Boolean).reverse();
  for (let i = 1; i < history.length; i++) git(bare, 'merge-base', '--is-ancestor', history[i - 1]!, history[i]!);
}

describe('sharded runs', () => {
  it('4 clones each run one slice of one run and push at once: after a pull, one complete run with every test exactly once', async () => {
    const { bare, log, ids } = project(20);
    const clones = [cloneOf(bare), cloneOf(bare), cloneOf(bare), cloneOf(bare)];
    const results = await Promise.all(
      clones.map(async (c, i) => {
        const ev = await runCli(['eval', 'suite.yaml', '--shard', `${i + 1}/4`, '--run-id', 'ci-77', '--json'], { cwd: c });
        const push = await runCli(['results', 'push', '--json'], { cwd: c });
        return { ev, push };
      }),
    );
    for (const [i, { ev, push }] of results.entries()) {
      expect(ev.code, ev.stderr).toBe(0);
      const doc = JSON.parse(ev.stdout);
      // Each slice reports the whole run: its planned set is every test.
      expect(doc).toMatchObject({ run_id: 'ci-77', planned_test_count: 20 });
      expect(ev.stderr).toContain(`Slice ${i + 1}/4 of run ci-77 completed`);
      expect(push.code, push.stderr).toBe(0);
    }
    // Every test was executed exactly once, across the four machines.
    expect([...executions(log).entries()].sort()).toEqual(ids.map((id) => [id, 1]));

    const fresh = cloneOf(bare);
    await cliOk(fresh, 'results', 'pull');
    const run = await show(fresh, 'ci-77');
    expect(run.run.status).toBe('completed');
    expect(run.run.outcome).toBe('passed');
    expect(run.planned_test_count).toBe(20);
    expect(run.results.map((r: { test_id: string }) => r.test_id).sort()).toEqual(ids);
    expect(run.missing_test_ids).toEqual([]);
    expect(run.run.slices.arrived.map((a: { index: number; status: string }) => [a.index, a.status])).toEqual([
      [1, 'completed'],
      [2, 'completed'],
      [3, 'completed'],
      [4, 'completed'],
    ]);
    // Each slice's events are kept, naming their slice.
    for (let i = 1; i <= 4; i++) expect(run.events.some((e: { type: string; detail?: string }) => e.type === 'completed' && e.detail?.startsWith(`slice ${i}/4`))).toBe(true);
    const listed = JSON.parse((await cliOk(fresh, 'runs', 'list', '--json')).stdout).runs;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ run_id: 'ci-77', status: 'completed', planned_test_count: 20, passed: 20 });
    await cliOk(fresh, 'results', 'reindex', '--check');
    await cliOk(fresh, 'results', 'fsck');
    // The next writer folds what landed on incoming refs into the remote's ref: still one whole run there.
    await cliOk(fresh, 'results', 'push');
    expectFastForwardsOnly(bare);
    git(bare, 'fsck', '--strict', '--no-progress');
    await cliOk(bare, 'results', 'reindex', '--check');
    expect((await show(bare, 'ci-77')).run.status).toBe('completed');
  }, 900_000);

  it('a slice killed mid-run (SIGKILL) and resumed alone with --resume ID --shard I/N completes the run', async () => {
    const { bare, log, ids, hold } = project(12);
    const [a, b] = [cloneOf(bare), cloneOf(bare)];
    const sliceOne = selectSlice(ids.map((id) => ({ id })), { index: 1, count: 2 }).map((t) => t.id);
    expect(sliceOne.length).toBeGreaterThan(1);

    writeFileSync(hold, '');
    const child = startCli(['eval', 'suite.yaml', '--shard', '1/2', '--run-id', 'ci-9', '--workers', '1'], { cwd: a });
    // The first test passes; the second blocks until the kill.
    await waitForStderr(child, /PASS/);
    // While its owner lives, the run reads running.
    expect(JSON.parse((await cliOk(a, 'runs', 'list', '--json')).stdout).runs[0]).toMatchObject({ run_id: 'ci-9', status: 'running' });
    child.kill('SIGKILL');
    await waitExit(child);
    rmSync(hold);

    await cliOk(b, 'eval', 'suite.yaml', '--shard', '2/2', '--run-id', 'ci-9');
    await cliOk(b, 'results', 'push');
    await cliOk(a, 'results', 'pull');

    // Slice 2 arrived, slice 1's owner is dead: resumable, because the run is incomplete.
    const before = await show(a, 'ci-9');
    expect(before.run.status).not.toBe('running');
    expect(before.run.status).not.toBe('completed');
    expect(before.is_resumable).toBe(true);
    expect(before.resume_reason).toBe('incomplete');
    expect(before.planned_test_count).toBe(12);
    const doneBefore = before.results.length;
    expect(doneBefore).toBe(ids.length - sliceOne.length + 1);

    const resumed = await cliOk(a, 'eval', 'suite.yaml', '--resume', 'ci-9', '--shard', '1/2', '--json');
    expect(resumed.stderr).toMatch(/run ci-9 slice 1\/2: \d+ done, \d+ to run/);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ run_id: 'ci-9', status: 'completed', outcome: 'passed', completed_count: 12, planned_test_count: 12 });
    const after = await show(a, 'ci-9');
    expect(after.run.status).toBe('completed');
    expect(after.results.map((r: { test_id: string }) => r.test_id).sort()).toEqual(ids);
    // Only tests in flight at the kill ran twice; a finished test never did.
    const counts = executions(log);
    expect([...counts.keys()].sort()).toEqual(ids);
    expect([...counts.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(1);
    await cliOk(a, 'results', 'push');
    await cliOk(a, 'results', 'fsck');
    await cliOk(a, 'results', 'reindex', '--check');
    const fresh = cloneOf(bare);
    await cliOk(fresh, 'results', 'pull');
    expect((await show(fresh, 'ci-9')).run.status).toBe('completed');
    await cliOk(fresh, 'results', 'reindex', '--check');
  }, 900_000);

  it('slices of one run with a different suite, target or slice count are refused (exit 2), and nothing is written', async () => {
    const { bare } = project(6);
    const dir = cloneOf(bare);
    await cliOk(dir, 'eval', 'suite.yaml', '--shard', '1/2', '--run-id', 'ci-1');
    const tipBefore = git(dir, 'rev-parse', REF);

    const otherTarget = await runCli(['eval', 'suite.yaml', '--shard', '2/2', '--run-id', 'ci-1', '--target', 'other'], { cwd: dir });
    expect(otherTarget.code, otherTarget.stderr).toBe(2);
    expect(otherTarget.stderr).toMatch(/different target/);

    const otherCount = await runCli(['eval', 'suite.yaml', '--shard', '2/3', '--run-id', 'ci-1'], { cwd: dir });
    expect(otherCount.code, otherCount.stderr).toBe(2);
    expect(otherCount.stderr).toMatch(/split into 2 slices/);

    const again = await runCli(['eval', 'suite.yaml', '--shard', '1/2', '--run-id', 'ci-1'], { cwd: dir });
    expect(again.code, again.stderr).toBe(2);
    expect(again.stderr).toMatch(/--resume ci-1 --shard 1\/2/);

    const noId = await runCli(['eval', 'suite.yaml', '--shard', '2/2'], { cwd: dir });
    expect(noId.code, noId.stderr).toBe(2);
    expect(noId.stderr).toMatch(/needs --run-id/);

    const wholeResume = await runCli(['eval', 'suite.yaml', '--resume', 'ci-1'], { cwd: dir });
    expect(wholeResume.code, wholeResume.stderr).toBe(2);
    expect(wholeResume.stderr).toMatch(/--shard/);

    // An edited suite (a changed assertion) has another suite_hash.
    const suite = path.join(dir, 'suite.yaml');
    writeFileSync(suite, readFileSync(suite, 'utf8').replace('value: done', 'value: dome'));
    const otherSuite = await runCli(['eval', 'suite.yaml', '--shard', '2/2', '--run-id', 'ci-1'], { cwd: dir });
    expect(otherSuite.code, otherSuite.stderr).toBe(2);
    expect(otherSuite.stderr).toMatch(/different suite/);

    expect(git(dir, 'rev-parse', REF)).toBe(tipBefore);
  }, 600_000);
});
