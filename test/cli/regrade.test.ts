// Re-grading stored outputs (SPEC 3.4, 3.9) through the CLI on real
// repositories, with a target that logs every call: `agentv regrade` and a
// resume after a grading-only change judge the stored outputs again and never
// call the target; earlier verdicts stay as history.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupRepos, makeRepo, tempDir, shTarget } from '../helpers/repo.js';
import { waitExit } from '../helpers/proc.js';
import { runCli, startCli, waitForStderr } from '../helpers/cli.js';

afterEach(cleanupRepos);

/** `fail`: the target exits 1 for this test (a target-phase error); `assert`: YAML of the test's assertions. */
type Test = { id: string; input?: string; assert?: string; fail?: boolean };

function setup(tests: Test[]) {
  const dir = makeRepo();
  const log = path.join(tempDir(), 'calls.log');
  shTarget(dir, `echo {TEST_ID} >> ${log}; case {PROMPT} in *fail*) exit 1;; *sleep*) sleep 30;; esac; echo hello {PROMPT}`);
  writeSuite(dir, tests);
  // Sorted: tests run side by side, so which target process appends first is a race.
  return { dir, calls: () => readLog(log).sort() };
}

function writeSuite(dir: string, tests: Test[]) {
  const body = tests
    .map((t) => `  - id: ${t.id}\n    vars: { input: "${t.fail ? 'fail' : (t.input ?? t.id)}" }\n    assert: ${t.assert ?? '[{ type: contains, value: hello }]'}\n`)
    .join('');
  writeFileSync(path.join(dir, 'suite.yaml'), `name: regradable\ntests:\n${body}`);
}

function readLog(log: string): string[] {
  try {
    return readFileSync(log, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

type Row = { test_id: string; execution_status: string; passed: boolean; attempt: number; grade_seq?: number; error_phase?: string; output: string | null; input_ref?: string };

async function show(dir: string, runId: string) {
  const r = await runCli(['runs', 'show', runId, '--json', '--history'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const detail = JSON.parse(r.stdout);
  const byId = (rows: Row[]) => Object.fromEntries(rows.map((x) => [x.test_id, x])) as Record<string, Row>;
  return { ...detail, cur: byId(detail.results), old: detail.history as Row[] };
}

describe('agentv regrade', () => {
  it('changing only an assertion: regrade calls the target zero times, changes the verdict and keeps the old one as history', async () => {
    const { dir, calls } = setup([{ id: 'a' }, { id: 'b' }, { id: 'c', fail: true }]);
    let r = await runCli(['eval', 'suite.yaml', '--run-id', 'r1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(calls()).toHaveLength(3);
    writeSuite(dir, [{ id: 'a' }, { id: 'b', assert: '[{ type: contains, value: goodbye }]' }, { id: 'c', fail: true }]);

    r = await runCli(['regrade', 'r1', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(calls()).toHaveLength(3);
    expect(r.stderr).toContain('re-grading run r1: 2 to re-grade; 1 target error(s) stay as they are');
    expect(JSON.parse(r.stdout)).toMatchObject({ run_id: 'r1', status: 'completed', outcome: 'failed', passed: 1, failed: 1, errored: 1, regraded_count: 2 });

    const d = await show(dir, 'r1');
    expect(d.cur.b).toMatchObject({ execution_status: 'quality_failure', passed: false, attempt: 1, grade_seq: 1, output: expect.stringContaining('hello') });
    expect(d.cur.a).toMatchObject({ passed: true, grade_seq: 1 });
    // The target error has no output to grade: it stays as it was.
    expect(d.cur.c).toMatchObject({ execution_status: 'execution_error', error_phase: 'target' });
    expect(d.cur.c.grade_seq).toBeUndefined();
    expect(d.old.filter((x: Row) => x.test_id === 'b')).toMatchObject([{ passed: true, attempt: 1 }]);
    // The re-graded row names the input its output answered (not hashed again: the call key is the same).
    const first = d.old.find((x: Row) => x.test_id === 'b')!;
    expect(first.input_ref).toMatch(/^[0-9a-f]{64}$/);
    expect(d.cur.b.input_ref).toBe(first.input_ref);
    expect(d.run.status).toBe('completed');
    expect(d.events.at(-1)).toMatchObject({ type: 'regraded', executed: 2, planned: 2 });
    expect(d.run.counts).toMatchObject({ passed: 1, failed: 1, errored: 1 });

    // Again, with the assertion fixed: grade_seq 2, and every test passes but the target error.
    writeSuite(dir, [{ id: 'a' }, { id: 'b', assert: '[{ type: contains, value: hello }]' }, { id: 'c', fail: true }]);
    r = await runCli(['regrade', 'r1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect((await show(dir, 'r1')).cur.b).toMatchObject({ passed: true, grade_seq: 2 });
    expect(calls()).toHaveLength(3);
  });

  it('exits 0 when every test passes after the re-grade; the runs list shows the new counts', async () => {
    const { dir, calls } = setup([{ id: 'a' }, { id: 'b', assert: '[{ type: contains, value: goodbye }]' }]);
    expect((await runCli(['eval', 'suite.yaml', '--run-id', 'r2'], { cwd: dir })).code).toBe(1);
    writeSuite(dir, [{ id: 'a' }, { id: 'b' }]);
    const r = await runCli(['regrade', 'r2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(calls()).toHaveLength(2);
    const list = JSON.parse((await runCli(['runs', 'list', '--json'], { cwd: dir })).stdout);
    expect(list.runs[0]).toMatchObject({ run_id: 'r2', passed: 2, failed: 0, outcome: 'passed' });
  });

  it('an unknown run, an invalid id and a running run are refused with exit 2', async () => {
    const { dir, calls } = setup([{ id: 'slow', input: 'sleep' }]);
    let r = await runCli(['regrade', '20990101-000000-nope00'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not found/);
    r = await runCli(['regrade', '../x'], { cwd: dir });
    expect(r.code).toBe(2);
    const child = startCli(['eval', 'suite.yaml', '--run-id', 'live'], { cwd: dir });
    await waitForStderr(child, /^run live: 1 tests/);
    for (;;) {
      if ((await runCli(['runs', 'show', 'live', '--json'], { cwd: dir })).code === 0) break;
    }
    r = await runCli(['regrade', 'live'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`process ${child.pid}`);
    child.kill('SIGKILL');
    await waitExit(child);
    expect([...calls()].sort()).toEqual(['slow']);
  });

  it('a stopped run is re-graded where it has rows and keeps its status; nothing to grade is exit 2', async () => {
    const { dir } = setup([{ id: 'a' }, { id: 'b', fail: true }]);
    await runCli(['eval', 'suite.yaml', '--run-id', 'r3', '--test-id', 'b'], { cwd: dir });
    let r = await runCli(['regrade', 'r3'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('run r3 has no stored output to re-grade (1 target error(s))');
    const { dir: dir2, calls } = setup([{ id: 'a' }, { id: 'slow', input: 'sleep' }]);
    const child = startCli(['eval', 'suite.yaml', '--run-id', 'st', '--workers', '2', '--stop-grace', '0'], { cwd: dir2 });
    await waitForStderr(child, /PASS a/);
    child.kill('SIGTERM');
    expect((await waitExit(child)).code).toBe(143);
    writeSuite(dir2, [{ id: 'a', assert: '[{ type: contains, value: nope }]' }, { id: 'slow', input: 'sleep' }]);
    r = await runCli(['regrade', 'st', '--json'], { cwd: dir2 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('1 test(s) without a row are not run');
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'stopped', outcome: 'incomplete', failed: 1, regraded_count: 1, resume_command: expect.stringContaining('--resume st') });
    expect([...calls()].sort()).toEqual(['a', 'slow']);
  });
});

describe('resume after a grading-only change', () => {
  it('--resume re-grades instead of refusing: no target call, and the plan line counts the re-grades', async () => {
    const { dir, calls } = setup([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    await runCli(['eval', 'suite.yaml', '--run-id', 'r4', '--test-id', 'a', '--test-id', 'b'], { cwd: dir });
    expect([...calls()].sort()).toEqual(['a', 'b']);
    writeSuite(dir, [{ id: 'a' }, { id: 'b', assert: '[{ type: contains, value: goodbye }]' }, { id: 'c' }]);
    let r = await runCli(['eval', 'suite.yaml', '--resume', 'r4', '--test-id', 'a', '--test-id', 'b', '--test-id', 'c'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('resuming run r4: 1 done, 1 to re-grade, 1 to run (1 missing)');
    expect([...calls()].sort()).toEqual(['a', 'b', 'c']);
    const d = await show(dir, 'r4');
    expect(d.cur.b).toMatchObject({ passed: false, attempt: 1, grade_seq: 1 });
    expect(d.cur.c).toMatchObject({ passed: true, attempt: 1 });
    expect(d.events.slice(-3).map((e: { type: string }) => e.type)).toEqual(['resumed', 'regraded', 'completed']);
    expect(d.events.at(-2)).toMatchObject({ executed: 1 });
    // The manifest records the current keys.
    const b = d.run.planned_tests.find((p: { test_id: string }) => p.test_id === 'b');
    expect(b.grading_key).toBe(d.cur.b.grading_key);

    // --rerun-failed with another grading-only change re-grades the failed test too, no call.
    writeSuite(dir, [{ id: 'a' }, { id: 'b', assert: '[{ type: icontains, value: HELLO }]' }, { id: 'c' }]);
    r = await runCli(['eval', 'suite.yaml', '--rerun-failed', 'r4', '--test-id', 'a', '--test-id', 'b', '--test-id', 'c', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('rerunning failed in run r4: 2 done, 1 to re-grade, 0 to run');
    expect([...calls()].sort()).toEqual(['a', 'b', 'c']);
    expect((await show(dir, 'r4')).cur.b).toMatchObject({ passed: true, grade_seq: 2 });
  });

  it('a grading-phase error (a javascript assertion that throws) is re-graded on resume once fixed', async () => {
    const { dir, calls } = setup([{ id: 'js', assert: `[{ type: javascript, value: "(() => { throw new Error('boom') })()" }]` }, { id: 'ok' }]);
    let r = await runCli(['eval', 'suite.yaml', '--run-id', 'r5'], { cwd: dir });
    expect(r.code).toBe(1);
    expect((await show(dir, 'r5')).cur.js).toMatchObject({ execution_status: 'execution_error', error_phase: 'grading' });
    writeSuite(dir, [{ id: 'js', assert: `[{ type: javascript, value: "output.includes('hello')" }]` }, { id: 'ok' }]);
    r = await runCli(['eval', 'suite.yaml', '--resume', 'r5'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('resuming run r5: 1 done, 1 to re-grade, 0 to run');
    expect([...calls()].sort()).toEqual(['js', 'ok']);
    expect((await show(dir, 'r5')).cur.js).toMatchObject({ execution_status: 'ok', passed: true, attempt: 1, grade_seq: 1 });
  });

  it('a changed prompt is still a changed input; retry-errors carries a re-graded output over', async () => {
    const { dir, calls } = setup([{ id: 'a' }, { id: 'b' }]);
    await runCli(['eval', 'suite.yaml', '--run-id', 'r6'], { cwd: dir });
    writeSuite(dir, [{ id: 'a', input: 'other' }, { id: 'b', assert: '[{ type: contains, value: goodbye }]' }]);
    let r = await runCli(['eval', 'suite.yaml', '--resume', 'r6'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/1 test\(s\) changed since their rows were written .*: a$/m);
    writeSuite(dir, [{ id: 'a' }, { id: 'b', assert: '[{ type: contains, value: goodbye }]' }]);
    r = await runCli(['eval', 'suite.yaml', '--retry-errors', 'r6', '--run-id', 'r7'], { cwd: dir });
    expect(r.stderr).toContain('retrying errors of r6 as run r7: 1 done, 1 to re-grade, 0 to run, 2 carried over');
    expect([...calls()].sort()).toEqual(['a', 'b']);
    const d = await show(dir, 'r7');
    expect(d.cur.b).toMatchObject({ passed: false, grade_seq: 1, carried_from: 'r6' });
    expect(d.cur.a).toMatchObject({ passed: true, carried_from: 'r6' });
  });
});
