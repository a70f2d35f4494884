import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupRepos, git, makeRepo, tempDir, shTarget } from '../helpers/repo.js';
import { waitExit } from '../helpers/proc.js';
import { runCli, startCli, waitForStderr } from '../helpers/cli.js';

afterEach(cleanupRepos);

/** fail: the target exits 1 until the test calls heal() (its input stays the same). */
type Test = { id: string; sleep?: string; expect?: string; fail?: boolean };

/** A repo whose `sh` target sleeps per test and logs every execution to $LOG. */
function setup(tests: Test[]) {
  const dir = makeRepo();
  const scratch = tempDir();
  const log = path.join(scratch, 'executions.log');
  const heal = () => writeFileSync(path.join(scratch, 'healed'), '');
  writeSuite(dir, tests);
  shTarget(dir, `echo {TEST_ID} >> ${log}; case {PROMPT} in *fail*) [ -f ${scratch}/healed ] || exit 1;; *) sleep {PROMPT};; esac; echo done`);
  return { dir, log, heal };
}

function writeSuite(dir: string, tests: Test[]) {
  const body = tests
    .map((t) => `  - id: ${t.id}\n    vars: { input: "${t.fail ? 'fail' : (t.sleep ?? '0')}" }\n    assert: [{ type: contains, value: "${t.expect ?? 'done'}" }]\n`)
    .join('');
  writeFileSync(path.join(dir, 'suite.yaml'), `name: resumable\ntests:\n${body}`);
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

async function show(dir: string, runId: string, history = false) {
  const r = await runCli(['runs', 'show', runId, '--json', ...(history ? ['--history'] : [])], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function* lcg(seed: number) {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    yield x;
  }
}

describe('fault injection: kill, resume, repeat', () => {
  // Few but sharp kill points: after N finished tests, where 0 lands in planning
  // and start-up, 1 right after the first durable row, and the others inside
  // and across group commits. 120 tests are more than the kills can finish
  // (every kill lands inside the run) and keep the test cheap on a busy machine.
  const TESTS = 120;
  for (const [signal, points, expectCode] of [
    ['SIGKILL', [0, 1, 3, 9, 5, 0, 2, 7], null],
    ['SIGINT', [1, 4, 6, 2], 130],
  ] as const) {
    it(`${signal} at ${points.length} chosen moments over a ${TESTS}-test run: one current row per test, nothing finished lost`, async () => {
      const rnd = lcg(signal === 'SIGKILL' ? 42 : 7);
      const tests = Array.from({ length: TESTS }, (_, i) => ({ id: `t${i}`, sleep: `0.0${String((rnd.next().value as number) % 40).padStart(2, '0')}` }));
      const { dir, log } = setup(tests);
      const workers = 4;
      let inFlightBound = 0;
      for (const [k, after] of points.entries()) {
        const args = k === 0 ? ['eval', 'suite.yaml', '--run-id', 'fault', '--workers', String(workers)] : ['eval', 'suite.yaml', '--resume', 'fault', '--workers', String(workers)];
        const child = startCli(args, { cwd: dir });
        if (k === 0 || after > 0) await waitForStderr(child, /^\[\d+\/\d+\] PASS/, Math.max(1, after)).catch(() => {});
        child.kill(signal);
        const r = await waitExit(child);
        if (expectCode !== null && r.code !== 0) expect([expectCode, 2]).toContain(r.code);
        inFlightBound += workers;
      }
      // Finish: resume until nothing is left.
      for (;;) {
        const r = await runCli(['eval', 'suite.yaml', '--resume', 'fault', '--workers', String(workers)], { cwd: dir });
        if (r.code === 2) {
          expect(r.stderr).toMatch(/is complete/);
          break;
        }
        expect(r.code, r.stderr).toBe(0);
      }
      const detail = await show(dir, 'fault', true);
      expect(detail.run.status).toBe('completed');
      expect(detail.results).toHaveLength(TESTS);
      expect(new Set(detail.results.map((r: { test_id: string }) => r.test_id)).size).toBe(TESTS);
      expect(detail.results.every((r: { execution_status: string }) => r.execution_status === 'ok')).toBe(true);
      // A finished test is never executed again: no superseded rows at all.
      expect(detail.history).toEqual([]);
      const counts = executions(log);
      const reexecuted = [...counts.values()].reduce((a, c) => a + (c - 1), 0);
      expect(counts.size).toBe(TESTS);
      expect(reexecuted).toBeLessThanOrEqual(inFlightBound);
      const resumed = detail.events.filter((e: { type: string }) => e.type === 'resumed');
      expect(resumed.length).toBeGreaterThan(0);
      expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
      const check = await runCli(['results', 'reindex', '--check'], { cwd: dir });
      expect(check.code, check.stderr).toBe(0);
    });
  }
});

describe('resume, rerun-failed, retry-errors', () => {
  it('resume executes only missing and errored tests, records a resumed event, then refuses a complete run', async () => {
    const { dir, log, heal } = setup([{ id: 'a' }, { id: 'b', fail: true }, { id: 'c', expect: 'nope' }, { id: 'd' }]);
    let r = await runCli(['eval', 'suite.yaml', '--run-id', 'r1', '--test-id', 'a', '--test-id', 'b', '--test-id', 'c'], { cwd: dir });
    expect(r.code).toBe(1);
    // The run was limited to a, b, c; d is not part of its plan. b's target recovers.
    heal();
    r = await runCli(['eval', 'suite.yaml', '--resume', 'r1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('resuming run r1: 2 done, 1 to run (1 errored)');
    const detail = await show(dir, 'r1', true);
    expect(detail.results.map((x: { test_id: string; attempt: number }) => [x.test_id, x.attempt])).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 1],
    ]);
    expect(detail.history.map((x: { test_id: string }) => x.test_id)).toEqual(['b']);
    expect(detail.events.find((e: { type: string }) => e.type === 'resumed')).toMatchObject({ mode: 'resume', planned: 1, executed: 1 });
    expect(executions(log).get('a')).toBe(1);
    // c failed on quality, which resume leaves alone: nothing to do.
    r = await runCli(['eval', 'suite.yaml', '--resume', 'r1'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('run r1 is complete; start a new run with: agentv eval suite.yaml');
    // rerun-failed executes c.
    r = await runCli(['eval', 'suite.yaml', '--rerun-failed', 'r1'], { cwd: dir });
    expect(r.stderr).toContain('rerunning failed in run r1: 2 done, 1 to run (1 failed)');
    expect(executions(log).get('c')).toBe(2);
    const runsShow = await runCli(['runs', 'show', 'r1', '--history'], { cwd: dir });
    expect(runsShow.stdout).toMatch(/resumed \(rerun_failed\): 1 of 1 executed/);
    // --history without --json: superseded rows follow the current ones.
    expect(runsShow.stdout).toMatch(/Superseded rows[\s\S]*\nb +execution_error/);
  });

  it('refuses a run whose owner is alive, naming the owner', async () => {
    const { dir } = setup([{ id: 'slow', sleep: '30' }]);
    const child = startCli(['eval', 'suite.yaml', '--run-id', 'live'], { cwd: dir });
    await waitForStderr(child, /^run live: 1 tests/);
    // The manifest is committed right after that line; wait for it.
    for (;;) {
      const r = await runCli(['runs', 'show', 'live', '--json'], { cwd: dir });
      if (r.code === 0) break;
    }
    const r = await runCli(['eval', 'suite.yaml', '--resume', 'live'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`process ${child.pid}`);
    child.kill('SIGKILL');
    await waitExit(child);
    // Once the owner is dead the same run resumes (and is reported interrupted first).
    expect((await show(dir, 'live')).run.status).toBe('interrupted');
  });

  it('refuses changed inputs with the list and both ways on; --accept-changed re-executes them in place', async () => {
    const { dir, log } = setup([{ id: 'a' }, { id: 'b', fail: true }, { id: 'c' }]);
    await runCli(['eval', 'suite.yaml', '--run-id', 'ch'], { cwd: dir });
    // A changed input is what the target sees (here its vars); an assertion-only change is re-graded instead (test/cli/regrade.test.ts).
    writeSuite(dir, [{ id: 'a', sleep: '0.0' }, { id: 'b', fail: true }, { id: 'c' }]);
    let r = await runCli(['eval', 'suite.yaml', '--resume', 'ch'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/1 test\(s\) changed since their rows were written .*: a/);
    expect(r.stderr).toContain('start a new run');
    expect(r.stderr).toContain('--accept-changed');
    expect(executions(log).get('a')).toBe(1);
    r = await runCli(['eval', 'suite.yaml', '--resume', 'ch', '--accept-changed'], { cwd: dir });
    expect(r.stderr).toContain('2 to run (1 errored, 1 changed)');
    const detail = await show(dir, 'ch');
    expect(detail.results.find((x: { test_id: string }) => x.test_id === 'a').attempt).toBe(2);
    expect(detail.events.at(-2)).toMatchObject({ type: 'resumed', mode: 'accept_changed' });
  });

  it('tests added since the run are executed; removed tests keep their rows but do not count', async () => {
    const { dir, log } = setup([{ id: 'a' }, { id: 'b' }]);
    await runCli(['eval', 'suite.yaml', '--run-id', 'ar'], { cwd: dir });
    writeSuite(dir, [{ id: 'a' }, { id: 'new1' }]);
    const r = await runCli(['eval', 'suite.yaml', '--resume', 'ar', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('1 done, 1 to run (1 missing); 1 test(s) no longer in the suite keep their rows');
    expect(JSON.parse(r.stdout)).toMatchObject({ planned_test_count: 2, completed_count: 2, passed: 2 });
    const detail = await show(dir, 'ar');
    expect(detail.results.map((x: { test_id: string }) => x.test_id)).toEqual(['a', 'new1', 'b']);
    expect(detail.planned_test_count).toBe(2);
    expect(executions(log).get('a')).toBe(1);
  });

  it('retry-errors starts a new run carrying over non-error rows and executing errored and missing tests', async () => {
    const { dir, log, heal } = setup([{ id: 'a' }, { id: 'b', fail: true }, { id: 'c', expect: 'nope' }]);
    await runCli(['eval', 'suite.yaml', '--run-id', 'src'], { cwd: dir });
    heal();
    const r = await runCli(['eval', 'suite.yaml', '--retry-errors', 'src', '--run-id', 'dst', '--json'], { cwd: dir });
    expect(r.stderr).toContain('retrying errors of src as run dst: 2 done, 1 to run (1 errored), 2 carried over');
    expect(JSON.parse(r.stdout)).toMatchObject({ run_id: 'dst', passed: 2, failed: 1, errored: 0 });
    const detail = await show(dir, 'dst');
    expect(detail.run.retry_of).toBe('src');
    const byId = Object.fromEntries(detail.results.map((x: { test_id: string }) => [x.test_id, x]));
    expect(byId.a.carried_from).toBe('src');
    expect(byId.c.carried_from).toBe('src');
    expect(byId.b.carried_from).toBeUndefined();
    expect(executions(log).get('a')).toBe(1);
    expect(executions(log).get('b')).toBe(2);
    // The source run is untouched.
    expect((await show(dir, 'src')).results.find((x: { test_id: string }) => x.test_id === 'b').execution_status).toBe('execution_error');
  });

  it('--resume without an id picks the newest resumable run of the suite and target; agentv resume reuses the manifest', async () => {
    const { dir } = setup([{ id: 'a' }, { id: 'b', fail: true }]);
    await runCli(['eval', 'suite.yaml', '--run-id', 'older'], { cwd: dir });
    await runCli(['eval', 'suite.yaml', '--run-id', 'newer', '--workers', '1'], { cwd: dir });
    let r = await runCli(['eval', 'suite.yaml', '--resume'], { cwd: dir });
    expect(r.stderr).toContain('resuming run newer:');
    r = await runCli(['resume', 'older'], { cwd: dir });
    expect(r.stderr).toContain('resuming run older: 1 done, 1 to run (1 errored) (suite resumable, target sh');
    r = await runCli(['resume', 'nope'], { cwd: dir });
    expect(r.code).toBe(2);
    // --rerun-failed without an id: the newest run with anything not ok.
    r = await runCli(['eval', 'suite.yaml', '--rerun-failed'], { cwd: dir });
    expect(r.stderr).toMatch(/rerunning failed in run (newer|older):/);
  });

  it('says which runs are resumable and why', async () => {
    const { dir, heal } = setup([{ id: 'a' }, { id: 'b', fail: true }]);
    await runCli(['eval', 'suite.yaml', '--run-id', 'errs'], { cwd: dir });
    expect(await show(dir, 'errs')).toMatchObject({ is_resumable: true, resume_reason: 'execution_errors' });
    heal();
    await runCli(['eval', 'suite.yaml', '--run-id', 'ok'], { cwd: dir });
    expect(await show(dir, 'ok')).toMatchObject({ is_resumable: false, resume_reason: null });
  });
});
