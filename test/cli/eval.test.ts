import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupRepos, git, makeRepo, tempDir } from '../helpers/repo.js';
import { CLI, ROOT, isAlive, waitExit } from '../helpers/proc.js';
import { runCli, startCli, waitForStderr } from '../helpers/cli.js';

afterEach(cleanupRepos);

const AGENT = path.join(ROOT, 'fixtures/agents/sleepy.mjs');

/** A repo with a suite of `n` tests; test i's prompt is `sleep:<ms(i)>`. */
function setup(n: number, ms: (i: number) => string, extra = '') {
  const dir = makeRepo();
  const pids = tempDir();
  const tests = Array.from({ length: n }, (_, i) => `  - id: t${i + 1}\n    vars: { input: "sleep:${ms(i)}" }\n    assert: [{ type: contains, value: "done" }]\n`).join('');
  writeFileSync(path.join(dir, 'suite.yaml'), `name: sleepy\n${extra}tests:\n${tests}`);
  mkdirSync(path.join(dir, '.agentv'));
  writeFileSync(
    path.join(dir, '.agentv/targets.yaml'),
    `targets:\n  - name: sleepy\n    provider: cli\n    command: node ${AGENT} {PROMPT}\ndefaults:\n  target: sleepy\n`,
  );
  return { dir, pids, env: { AGENTV_PIDS_DIR: pids } };
}

function recordedPids(dir: string): number[] {
  try {
    return readFileSync(path.join(dir, 'pids'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function show(dir: string, runId: string) {
  const r = await runCli(['runs', 'show', runId, '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('agentv eval', () => {
  it('--events writes the run as typed NDJSON events (to a file, or to stdout with -), counted like the manifest', async () => {
    const { dir, env } = setup(3, (i) => String(5 + i));
    writeFileSync(path.join(dir, 'suite.yaml'), readFileSync(path.join(dir, 'suite.yaml'), 'utf8').replace('value: "done" }]\n', 'value: "nope" }]\n'));
    const r = await runCli(['eval', 'suite.yaml', '--events', 'ev.ndjson', '--json'], { cwd: dir, env });
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout);
    const { RunEvent } = await import('../../src/schemas/events.js');
    const events = readFileSync(path.join(dir, 'ev.ndjson'), 'utf8').trim().split('\n').map((l) => RunEvent.parse(JSON.parse(l)));
    expect(events.map((e) => e.type)).toEqual(['started', 'planned', 'test_finished', 'test_finished', 'test_finished', 'completed']);
    expect(events.every((e) => e.run_id === summary.run_id)).toBe(true);
    const end = events.at(-1)!;
    expect(end).toMatchObject({ type: 'completed', outcome: 'failed', counts: { planned_test_count: 3, completed_count: 3, passed: 2, failed: 1 } });
    expect(summary).toMatchObject({ outcome: 'failed', passed: 2, failed: 1 });
    const failed = events.find((e) => e.type === 'test_finished' && !e.passed);
    expect(failed).toMatchObject({ status: 'quality_failure', reason: expect.any(String) });

    // `-`: the events are stdout, one per line; the human lines stay on stderr.
    const resumeOut = await runCli(['eval', 'suite.yaml', '--rerun-failed', summary.run_id, '--events', '-'], { cwd: dir, env });
    expect(resumeOut.code).toBe(1);
    const again = resumeOut.stdout.trim().split('\n').map((l) => RunEvent.parse(JSON.parse(l)));
    expect(again.map((e) => e.type)).toEqual(['resumed', 'planned', 'test_finished', 'completed']);
    expect(again[1]).toMatchObject({ planned: 3, to_execute: 1 });
    expect(again.at(-1)).toMatchObject({ executed: 1, outcome: 'failed', counts: { completed_count: 3, failed: 1 } });
    expect(resumeOut.stderr).toContain('[1/1] FAIL');

    const both = await runCli(['eval', 'suite.yaml', '--events', '-', '--json'], { cwd: dir, env });
    expect(both.code).toBe(2);
  });

  it('runs a suite, prints one line per test off a terminal and a JSON summary, exit 1 on failures', async () => {
    const { dir, env } = setup(4, (i) => String(10 + i));
    writeFileSync(path.join(dir, 'suite.yaml'), readFileSync(path.join(dir, 'suite.yaml'), 'utf8').replace('value: "done" }]\n', 'value: "nope" }]\n'));
    const r = await runCli(['eval', 'suite.yaml', '--json', '--workers', '2'], { cwd: dir, env });
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ status: 'completed', planned_test_count: 4, completed_count: 4, passed: 3, failed: 1, errored: 0, pass_rate: 0.75 });
    expect(Object.keys(summary).sort()).toEqual(
      ['completed_count', 'errored', 'failed', 'outcome', 'pass_rate', 'passed', 'planned_test_count', 'resume_command', 'run_id', 'status'].sort(),
    );
    expect(r.stderr.match(/^\[\d\/4\] (PASS|FAIL) t\d/gm)).toHaveLength(4);
    // Named metrics are aggregated in the human view.
    const human = await runCli(['runs', 'show', summary.run_id], { cwd: dir });
    expect(human.stdout).not.toContain('metric ');
    const detail = await show(dir, summary.run_id);
    expect(detail.run.planned_tests).toHaveLength(4);
    expect(detail.results.map((x: { test_id: string }) => x.test_id)).toEqual(['t1', 't2', 't3', 't4']);
    expect(git(dir, 'status', '--porcelain')).toBe('?? .agentv/\n?? suite.yaml');
  });

  it('a run whose target spawns nothing (echo) starts no watchdog; one that spawns registers its groups with one', async () => {
    const { dir, env } = setup(2, () => '5');
    const echo = await runCli(['eval', 'suite.yaml', '--target', 'echo', '--json'], { cwd: dir, env });
    expect(echo.code, echo.stderr).toBe(1); // echo answers the prompt, not "done"
    expect(existsSync(path.join(dir, '.git/agentv/pgids'))).toBe(false);
    const cli = await runCli(['eval', 'suite.yaml', '--json'], { cwd: dir, env });
    expect(cli.code, cli.stderr).toBe(0);
    expect(existsSync(path.join(dir, '.git/agentv/pgids'))).toBe(true);
  });

  it('exits 0 when every test passes, and records source commit, argv and target hash', async () => {
    const { dir, env } = setup(2, () => '5');
    const r = await runCli(['eval', 'suite.yaml', '--json', '--run-id', 'my-run'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const detail = await show(dir, 'my-run');
    expect(detail.run.source_commit).toBe(git(dir, 'rev-parse', 'HEAD'));
    expect(detail.run.source_dirty).toBe(false);
    expect(detail.run.argv).toEqual(['eval', 'suite.yaml', '--json', '--run-id', 'my-run']);
    expect(detail.run.target).toMatchObject({ name: 'sleepy', provider: 'cli' });
    expect(detail.run.target.config_hash).toMatch(/^[0-9a-f]{64}$/);
    // Its rows are committed with the final manifest: a run this small is its creation and one more commit.
    expect(git(dir, 'log', '--format=%s', 'refs/agentv/runs/v1').split('\n')).toEqual(['run my-run: completed', 'run my-run: start (2 tests)']);
    expect(git(dir, 'show', '--name-only', '--format=', 'refs/agentv/runs/v1')).toMatch(/rows\/000001\.jsonl/);
  });

  it('SIGINT after k finished tests: exit 130, k..k+workers rows, stopped, resume command, no process left', async () => {
    const { dir, pids, env } = setup(12, () => '150');
    const child = startCli(['eval', 'suite.yaml', '--workers', '2', '--json', '--run-id', 'int-run'], { cwd: dir, env });
    let printed = '';
    child.stderr!.on('data', (d) => (printed += d));
    const k = 3;
    await waitForStderr(child, /^\[\d+\/12\] PASS/, k);
    child.kill('SIGINT');
    const r = await waitExit(child);
    // On a busy machine the child may have printed more lines than we had read
    // when the signal left: bound by what it printed, not by what we saw.
    const passLines = printed.split('\n').filter((l) => /^\[\d+\/12\] PASS/.test(l)).length;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Stopped: \d+\/12 done\. Resume with: agentv eval suite\.yaml --target sleepy --resume int-run/);
    const summary = JSON.parse(r.stdout);
    expect(summary.status).toBe('stopped');
    const detail = await show(dir, 'int-run');
    expect(detail.run.status).toBe('stopped');
    expect(detail.results.length).toBeGreaterThanOrEqual(k);
    // Every finished test was printed after it was durable, and none beyond them was kept.
    expect(detail.results.length).toBe(passLines);
    expect(detail.results.length).toBeLessThan(12);
    expect(detail.is_resumable).toBe(true);
    expect(detail.resume_reason).toBe('stopped');
    // The human view of a stopped run names the tests that never ran.
    const human = await runCli(['runs', 'show', 'int-run'], { cwd: dir });
    expect(human.stdout).toMatch(/Not run \(\d+\): t\d+/);
    expect(human.stdout.match(/Not run \((\d+)\)/)![1]).toBe(String(detail.missing_test_ids.length));
    for (const pid of recordedPids(pids)) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  });

  it('SIGTERM exits 143; a second signal during a hung test ends it at once, and nothing it started survives', async () => {
    const { dir, pids, env } = setup(3, (i) => (i === 0 ? '5' : 'hang'));
    const child = startCli(['eval', 'suite.yaml', '--workers', '3', '--run-id', 'term-run', '--stop-grace', '600'], { cwd: dir, env });
    await waitForStderr(child, /PASS t1/);
    // Both hung tests have started (each recorded 2 pids) before we signal.
    while (recordedPids(pids).length < 6) await new Promise((res) => setImmediate(res));
    child.kill('SIGTERM');
    await waitForStderr(child, /^Stopping/);
    const t0 = Date.now();
    child.kill('SIGTERM');
    const r = await waitExit(child);
    expect(r.code).toBe(143);
    // Far below the 600 s grace: the second signal did not wait.
    expect(Date.now() - t0).toBeLessThan(30_000);
    const detail = await show(dir, 'term-run');
    expect(detail.run.status).toBe('stopped');
    expect(detail.results.map((x: { test_id: string }) => x.test_id)).toEqual(['t1']);
    for (const pid of recordedPids(pids)) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  });

  it('the grace period ends hung tests by itself after the first signal', async () => {
    const { dir, pids, env } = setup(1, () => 'hang');
    const child = startCli(['eval', 'suite.yaml', '--stop-grace', '0.2', '--run-id', 'grace-run'], { cwd: dir, env });
    while (recordedPids(pids).length < 2) await new Promise((res) => setImmediate(res));
    child.kill('SIGINT');
    const r = await waitExit(child);
    expect(r.code).toBe(130);
    expect((await show(dir, 'grace-run')).results).toEqual([]);
    for (const pid of recordedPids(pids)) expect(isAlive(pid)).toBe(false);
  });

  it('--tag runs only the tests that carry one of the tags, and --test-id narrows by id', async () => {
    const { dir, env } = setup(1, () => '1');
    writeFileSync(
      path.join(dir, 'suite.yaml'),
      'tests:\n  - { id: a, tags: [smoke], vars: { input: "sleep:1" } }\n  - { id: b, tags: [slow], vars: { input: "sleep:1" } }\n  - { id: c, tags: [smoke, api], vars: { input: "sleep:1" } }\n',
    );
    const r = await runCli(['eval', 'suite.yaml', '--tag', 'smoke', '--run-id', 'tagged', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const d = await show(dir, 'tagged');
    expect(d.run.planned_tests.map((p: { test_id: string }) => p.test_id)).toEqual(['a', 'c']);
    expect(d.run.tags).toEqual(['smoke']);
    const one = await runCli(['eval', 'suite.yaml', '--tag', 'smoke', '--test-id', 'c', '--run-id', 'one'], { cwd: dir, env });
    expect(one.code, one.stderr).toBe(0);
    expect((await show(dir, 'one')).run.planned_test_count).toBe(1);
    expect((await runCli(['eval', 'suite.yaml', '--tag', 'nope'], { cwd: dir, env })).code).toBe(2);
  });

  it('refuses a --run-id that already exists before anything is printed or written', async () => {
    const { dir, env } = setup(1, () => '1');
    expect((await runCli(['eval', 'suite.yaml', '--run-id', 'taken'], { cwd: dir, env })).code).toBe(0);
    const tip = git(dir, 'rev-parse', 'refs/agentv/runs/v1');
    const r = await runCli(['eval', 'suite.yaml', '--run-id', 'taken'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('run id taken already exists');
    expect(r.stderr).not.toMatch(/^run taken:/m);
    expect(git(dir, 'rev-parse', 'refs/agentv/runs/v1')).toBe(tip);
    expect((await show(dir, 'taken')).run.status).toBe('completed');
  });

  it('a closed output pipe does not kill the run', async () => {
    const { dir, env } = setup(6, () => '30');
    const { spawn } = await import('node:child_process');
    // `agentv eval ... 2>&1 | head -1`: the reader goes away after one line.
    const sh = spawn('sh', ['-c', `node ${JSON.stringify(CLI)} eval suite.yaml --run-id piped 2>&1 | head -1`], { cwd: dir, env: { ...process.env, ...env } });
    // sh waits for every command of the pipeline, so the eval has ended too.
    await waitExit(sh);
    expect((await show(dir, 'piped')).run.status).toBe('completed');
  });

  it('kill -9 of the runner: its watchdog ends every process the targets started', async () => {
    const { dir, pids, env } = setup(2, () => 'hang');
    const child = startCli(['eval', 'suite.yaml', '--workers', '2', '--run-id', 'killed'], { cwd: dir, env });
    while (recordedPids(pids).length < 4) await new Promise((res) => setImmediate(res));
    child.kill('SIGKILL');
    await waitExit(child);
    // The watchdog polls every 200 ms; give it a bounded while, checking without sleeping.
    const deadline = Date.now() + 10_000;
    while (recordedPids(pids).some(isAlive) && Date.now() < deadline) await new Promise((res) => setImmediate(res));
    for (const pid of recordedPids(pids)) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect((await show(dir, 'killed')).run.status).toBe('interrupted');
  });

  it('a target failure is an execution_error row, not a crash', async () => {
    const { dir, env } = setup(2, (i) => (i === 0 ? '5 fail-exit' : '5'));
    const r = await runCli(['eval', 'suite.yaml', '--json', '--run-id', 'err-run'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ errored: 1, passed: 1, resume_command: expect.stringContaining('--resume err-run') });
    const detail = await show(dir, 'err-run');
    expect(detail.results[0]).toMatchObject({ test_id: 't1', execution_status: 'execution_error', passed: false });
    expect(detail.resume_reason).toBe('execution_errors');
  });
});

describe('bad input: exit 2 and nothing written to the ref', () => {
  const cases: [string, (dir: string) => string[]][] = [
    ['a suite with bad YAML', (dir) => (writeFileSync(path.join(dir, 'suite.yaml'), 'tests: [\n  - id: a\n   bad'), ['eval', 'suite.yaml'])],
    ['a duplicate test id', (dir) => (writeFileSync(path.join(dir, 'suite.yaml'), 'tests:\n  - id: a\n  - id: a\n'), ['eval', 'suite.yaml'])],
    ['an unknown assertion kind', (dir) => (writeFileSync(path.join(dir, 'suite.yaml'), 'tests:\n  - id: a\n    assert: [{type: telepathy}]\n'), ['eval', 'suite.yaml'])],
    ['a missing suite file', () => ['eval', 'nope.yaml']],
    ['llm-rubric without a grader', (dir) => (writeFileSync(path.join(dir, 'suite.yaml'), 'tests:\n  - id: a\n    assert: ["is polite"]\n'), ['eval', 'suite.yaml', '--target', 'echo'])],
    ['a bad targets file', (dir) => (writeFileSync(path.join(dir, '.agentv/targets.yaml'), 'targets:\n  - name: x\n    provider: nope\n'), ['eval', 'suite.yaml'])],
    ['an unknown target', () => ['eval', 'suite.yaml', '--target', 'nope']],
    ['an unknown --test-id', () => ['eval', 'suite.yaml', '--test-id', 'zzz']],
    ['a bad --workers', () => ['eval', 'suite.yaml', '--workers', 'many']],
    ['an invalid --run-id', () => ['eval', 'suite.yaml', '--run-id', '../x']],
    ['combined resume modes', () => ['eval', 'suite.yaml', '--resume', '--retry-errors', 'x']],
    ['--run-id with --resume', () => ['eval', 'suite.yaml', '--resume', 'x', '--run-id', 'y']],
    ['an unknown flag', () => ['eval', 'suite.yaml', '--frobnicate']],
    ['a suite outside the repository', () => ['eval', '../../../etc/passwd.yaml']],
  ];
  for (const [name, arrange] of cases) {
    it(name, async () => {
      const { dir, env } = setup(1, () => '1');
      const args = arrange(dir);
      const r = await runCli(args, { cwd: dir, env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/agentv: |error: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(git(dir, 'for-each-ref', 'refs/agentv')).toBe('');
    });
  }
});

describe('runs show', () => {
  it('aggregates named metrics over the current rows', async () => {
    const dir = makeRepo();
    writeFileSync(
      path.join(dir, 'suite.yaml'),
      'name: m\ntests:\n  - id: a\n    vars: { input: "yes" }\n    assert: [{ type: contains, value: "yes", metric: accuracy }]\n  - id: b\n    vars: { input: "no" }\n    assert: [{ type: contains, value: "yes", metric: accuracy }]\n',
    );
    await runCli(['eval', 'suite.yaml', '--target', 'echo', '--run-id', 'metrics'], { cwd: dir });
    const r = await runCli(['runs', 'show', 'metrics'], { cwd: dir });
    expect(r.stdout).toContain('metric   accuracy: 1/2 passed (50%), avg score 0.50');
  });
});

describe('several agentv eval processes on one repository', () => {
  it('lose no row and no run; fsck is clean and the index equals reindex', async () => {
    const dir = makeRepo();
    const tests = Array.from({ length: 40 }, (_, i) => `  - id: t${i}\n    vars: { input: "q${i}" }\n    assert: [{ type: contains, value: "q" }]\n`).join('');
    writeFileSync(path.join(dir, 'suite.yaml'), `name: busy\ntests:\n${tests}`);
    const runs = Array.from({ length: 6 }, (_, i) => `busy-${i}`);
    const results = await Promise.all(runs.map((id) => runCli(['eval', 'suite.yaml', '--target', 'echo', '--run-id', id, '--workers', '2', '--json'], { cwd: dir })));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const listed = JSON.parse((await runCli(['runs', 'list', '--json'], { cwd: dir })).stdout);
    expect(listed.runs.map((r: { run_id: string }) => r.run_id).sort()).toEqual(runs);
    for (const id of runs) {
      const d = await show(dir, id);
      expect(d.run.status).toBe('completed');
      expect(d.results).toHaveLength(40);
    }
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
    expect((await runCli(['results', 'reindex', '--check'], { cwd: dir })).code).toBe(0);
  });
});
