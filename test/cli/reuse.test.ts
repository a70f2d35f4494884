// `agentv eval --reuse` (SPEC 3.9) through the CLI on real repositories, with
// a target that logs every call: earlier outputs of the same call are graded
// again instead of calling the target, found through the call index on the ref.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../../src/store/index.js';
import { runCli } from '../helpers/cli.js';
import { cliOk } from '../helpers/expect.js';
import { cleanupRepos, git, makeRepo, tempDir, shTarget } from '../helpers/repo.js';

afterEach(cleanupRepos);

type Test = { id: string; input: string; expect?: string };

/** Each repository's call log, passed to its target as $REUSE_LOG (so the target's configuration, and its call keys, are the same on every clone). */
const logs = new Map<string, string>();
const envOf = (dir: string) => ({ REUSE_LOG: logs.get(dir)! });

/** A `sh` target that appends each call's test id to `log`, fails for inputs containing "fail" until `heal()`, else echoes its prompt. */
function targets(dir: string, log: string) {
  logs.set(dir, log);
  shTarget(dir, 'echo {TEST_ID} >> $REUSE_LOG; case {PROMPT} in *fail*) [ -f $REUSE_LOG.healed ] || exit 1;; esac; echo {PROMPT}');
  return () => writeFileSync(`${log}.healed`, '');
}

function writeSuite(dir: string, tests: Test[]) {
  const body = tests.map((t) => `  - id: ${t.id}\n    vars: { input: "${t.input}" }\n    assert: [{ type: contains, value: "${t.expect ?? t.input}" }]\n`).join('');
  writeFileSync(path.join(dir, 'suite.yaml'), `name: reusable\ntests:\n${body}`);
}

function setup(tests: Test[]) {
  const dir = makeRepo();
  const log = path.join(tempDir(), 'calls.log');
  const heal = targets(dir, log);
  writeSuite(dir, tests);
  return { dir, log, heal };
}

/** Test ids the target was called for, in order. */
function calls(log: string): string[] {
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
}

async function evalJson(dir: string, ...args: string[]) {
  const r = await runCli(['eval', 'suite.yaml', '--json', ...args], { cwd: dir, env: envOf(dir) });
  expect([0, 1], r.stderr).toContain(r.code);
  return { ...r, json: JSON.parse(r.stdout) };
}

async function results(dir: string, runId: string): Promise<Record<string, Record<string, unknown>>> {
  const r = await cliOk(dir, 'runs', 'show', runId, '--json');
  return Object.fromEntries((JSON.parse(r.stdout).results as { test_id: string }[]).map((x) => [x.test_id, x]));
}

async function reindexCheck(dir: string) {
  const r = await runCli(['results', 'reindex', '--check', '--json'], { cwd: dir });
  return { code: r.code, doc: JSON.parse(r.stdout) };
}

describe('eval --reuse', () => {
  it('an unchanged suite calls the target zero times and marks every row carried; a changed prompt calls once; a changed assertion re-grades', async () => {
    const { dir, log } = setup([
      { id: 'a', input: 'alpha' },
      { id: 'b', input: 'bravo' },
      { id: 'c', input: 'charlie' },
      { id: 'd', input: 'delta' },
    ]);
    const first = await evalJson(dir);
    expect(first.json).toMatchObject({ passed: 4 });
    expect(first.json.reused_count).toBeUndefined();
    expect(calls(log).sort()).toEqual(['a', 'b', 'c', 'd']);

    const again = await evalJson(dir, '--reuse');
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ passed: 4, reused_count: 4 });
    expect(again.stderr).toContain(`run ${again.json.run_id}: 4 tests, 4 reused, 0 to run`);
    expect(calls(log)).toHaveLength(4);
    const carried = await results(dir, again.json.run_id);
    for (const [id, row] of Object.entries(carried)) {
      expect(row.carried_from, id).toBe(first.json.run_id);
      expect(row.output).toContain({ a: 'alpha', b: 'bravo', c: 'charlie', d: 'delta' }[id]);
    }

    // b's prompt changes (one call); c's assertion changes (graded again from its stored output).
    writeSuite(dir, [
      { id: 'a', input: 'alpha' },
      { id: 'b', input: 'bravo two' },
      { id: 'c', input: 'charlie', expect: 'zulu' },
      { id: 'd', input: 'delta' },
    ]);
    const changed = await evalJson(dir, '--reuse');
    expect(calls(log).slice(4)).toEqual(['b']);
    expect(changed.json).toMatchObject({ reused_count: 3, passed: 3, failed: 1 });
    const rows = await results(dir, changed.json.run_id);
    expect(rows.b!.carried_from).toBeUndefined();
    expect(rows.b!.output).toContain('bravo two');
    expect(rows.c).toMatchObject({ carried_from: first.json.run_id, passed: false, execution_status: 'quality_failure' });
    // Reused rows are not indexed again: the index still names the run that called the target.
    expect(rows.a!.carried_from).toBe(first.json.run_id);
    expect((await reindexCheck(dir)).code).toBe(0);
  });

  it('never reuses a target-phase execution_error: that test is called again', async () => {
    const { dir, log, heal } = setup([
      { id: 'ok', input: 'fine' },
      { id: 'flaky', input: 'fail-once', expect: 'fail-once' },
    ]);
    const first = await evalJson(dir);
    expect(first.code).toBe(1);
    expect(first.json).toMatchObject({ passed: 1, errored: 1 });
    heal();
    const second = await evalJson(dir, '--reuse');
    expect(calls(log).slice(2)).toEqual(['flaky']);
    expect(second.json).toMatchObject({ passed: 2, errored: 0, reused_count: 1 });
    const rows = await results(dir, second.json.run_id);
    expect(rows.ok!.carried_from).toBe(first.json.run_id);
    expect(rows.flaky!.carried_from).toBeUndefined();
    // Now the healed output is the newest of its call, and it is reused.
    const third = await evalJson(dir, '--reuse');
    expect(calls(log)).toHaveLength(3);
    expect((await results(dir, third.json.run_id)).flaky!.carried_from).toBe(second.json.run_id);
  });

  it('eval.reuse in .agentv/config.yaml makes it the default; --no-reuse always calls; --rerun-failed refuses --reuse', async () => {
    const { dir, log } = setup([
      { id: 'a', input: 'alpha' },
      { id: 'b', input: 'bravo', expect: 'nope' },
    ]);
    writeFileSync(path.join(dir, '.agentv/config.yaml'), 'eval:\n  reuse: true\n');
    const first = await evalJson(dir);
    expect(first.json.reused_count).toBe(0);
    expect(calls(log)).toHaveLength(2);
    const second = await evalJson(dir);
    expect(second.json.reused_count).toBe(2);
    expect(calls(log)).toHaveLength(2);
    const forced = await evalJson(dir, '--no-reuse');
    expect(forced.json.reused_count).toBeUndefined();
    expect(calls(log)).toHaveLength(4);
    // The manifest records whether the run reused, and `runs show` says so.
    const manifestOf = async (id: string) => JSON.parse((await cliOk(dir, 'runs', 'show', id, '--json')).stdout).run;
    expect((await manifestOf(second.json.run_id)).options.reuse).toBe(true);
    expect((await manifestOf(forced.json.run_id)).options.reuse).toBe(false);
    expect((await cliOk(dir, 'runs', 'show', second.json.run_id)).stdout).toContain('reuse    on');
    expect((await cliOk(dir, 'runs', 'show', forced.json.run_id)).stdout).not.toContain('reuse ');
    for (const row of Object.values(await results(dir, forced.json.run_id))) expect(row.carried_from).toBeUndefined();
    // --rerun-failed exists to call again: with --reuse it is a usage error, and the config does not apply to it.
    const refused = await runCli(['eval', 'suite.yaml', '--rerun-failed', forced.json.run_id, '--reuse'], { cwd: dir, env: envOf(dir) });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--reuse does not go with --rerun-failed');
    await runCli(['eval', 'suite.yaml', '--rerun-failed', forced.json.run_id], { cwd: dir, env: envOf(dir) });
    expect(calls(log).slice(4)).toEqual(['b']);
    const badConfig = path.join(dir, '.agentv/config.yaml');
    writeFileSync(badConfig, 'eval:\n  reuse: sometimes\n');
    const bad = await runCli(['eval', 'suite.yaml'], { cwd: dir, env: envOf(dir) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('eval.reuse');
  });

  it("a suite's repeats have distinct call keys: reuse never collapses them", async () => {
    const { dir, log } = setup([]);
    const suite = (repeat: number) =>
      writeFileSync(
        path.join(dir, 'suite.yaml'),
        `description: repeats\nprompts: ["{{input}}"]\nevaluateOptions: { repeat: ${repeat} }\ntests:\n  - vars: { input: alpha }\n    assert: [{ type: contains, value: alpha }]\n  - vars: { input: bravo }\n    assert: [{ type: contains, value: bravo }]\n`,
      );
    suite(2);
    const first = await evalJson(dir, '--target', 'sh');
    expect(first.json).toMatchObject({ planned_test_count: 4, passed: 4 });
    expect(calls(log)).toHaveLength(4);
    const check = await reindexCheck(dir);
    expect(check.doc.call_index).toEqual({ entries: 4, drift: [] });
    // Each repeat is reused from its own row.
    const again = await evalJson(dir, '--target', 'sh', '--reuse');
    expect(again.json.reused_count).toBe(4);
    expect(calls(log)).toHaveLength(4);
    // A third repeat is a new call for each test; the first two are reused.
    suite(3);
    const more = await evalJson(dir, '--target', 'sh', '--reuse');
    expect(more.json).toMatchObject({ planned_test_count: 6, reused_count: 4, passed: 6 });
    const added = calls(log).slice(4);
    expect(added).toHaveLength(2);
    for (const id of added) expect(id).toMatch(/#3$/);
  });

  it('finds rows another machine wrote once they are pulled; merged indexes keep the newest entry per call and match a rebuild', async () => {
    const bare = path.join(tempDir(), 'remote.git');
    git(path.dirname(bare), 'init', '-q', '--bare', '-b', 'main', bare);
    const seed = makeRepo();
    git(seed, 'push', '-q', bare, 'main');
    const clone = (name: string) => {
      const dir = path.join(tempDir(), name);
      git(path.dirname(dir), 'clone', '-q', `file://${bare}`, dir);
      git(dir, 'config', 'user.name', 'Test');
      git(dir, 'config', 'user.email', 'test@example.com');
      const log = path.join(tempDir(), 'calls.log');
      targets(dir, log);
      writeSuite(dir, [
        { id: 'a', input: 'alpha' },
        { id: 'b', input: 'bravo' },
      ]);
      return { dir, log };
    };
    const A = clone('a');
    const B = clone('b');
    const runA = (await evalJson(A.dir)).json.run_id;
    await cliOk(A.dir, 'results', 'push');
    // B has history of its own (a different call), so the pull is a real merge of two indexes.
    writeSuite(B.dir, [{ id: 'c', input: 'charlie' }]);
    const runB = (await evalJson(B.dir)).json.run_id;
    await cliOk(B.dir, 'results', 'pull');
    writeSuite(B.dir, [
      { id: 'a', input: 'alpha' },
      { id: 'b', input: 'bravo' },
      { id: 'c', input: 'charlie' },
    ]);
    const reused = await evalJson(B.dir, '--reuse');
    expect(reused.json.reused_count).toBe(3);
    expect(calls(B.log)).toEqual(['c']);
    const rows = await results(B.dir, reused.json.run_id);
    expect([rows.a!.carried_from, rows.b!.carried_from, rows.c!.carried_from]).toEqual([runA, runA, runB]);
    expect((await reindexCheck(B.dir)).code).toBe(0);

    // Both machines call a again (no --reuse): after exchanging, each index names the later row, whichever side merged.
    await evalJson(A.dir, '--test-id', 'a');
    const lateB = (await evalJson(B.dir, '--test-id', 'a')).json.run_id;
    await cliOk(B.dir, 'results', 'push');
    await cliOk(A.dir, 'results', 'sync');
    await cliOk(B.dir, 'results', 'pull');
    for (const side of [A, B]) {
      const check = await reindexCheck(side.dir);
      expect(check.code, JSON.stringify(check.doc)).toBe(0);
      expect(check.doc.call_index.entries).toBe(3);
      const fsck = await runCli(['results', 'fsck', '--json'], { cwd: side.dir });
      expect(fsck.code, fsck.stdout).toBe(0);
      writeSuite(side.dir, [{ id: 'a', input: 'alpha' }]);
      const r = await evalJson(side.dir, '--reuse');
      expect((await results(side.dir, r.json.run_id)).a!.carried_from).toBe(lateB);
    }
  });

  it('reindex rebuilds a missing call index and --check and fsck report it; without one, reuse finds nothing and says why', async () => {
    const { dir, log } = setup([
      { id: 'a', input: 'alpha' },
      { id: 'b', input: 'bravo' },
    ]);
    const first = await evalJson(dir);
    // A store as an older agentv left it: rows with call keys, no index/calls.
    const store = await openStore({ repoDir: dir });
    try {
      await store.commit({ subject: 'drop the call index', runId: null, sourceCommit: null, change: async () => new Map([['index/calls', null]]) });
    } finally {
      store.close();
    }
    const check = await reindexCheck(dir);
    expect(check.code).toBe(1);
    expect(check.doc.call_index.drift).toHaveLength(2);
    expect(check.doc.call_index.drift.every((d: { kind: string }) => d.kind === 'missing')).toBe(true);
    const fsck = await runCli(['results', 'fsck', '--json'], { cwd: dir });
    expect(fsck.code).toBe(1);
    expect(JSON.parse(fsck.stdout).problems).toEqual([expect.objectContaining({ kind: 'call_index_drift', repairable: true })]);

    const blind = await evalJson(dir, '--reuse');
    expect(blind.json.reused_count).toBe(0);
    expect(blind.stderr).toContain('agentv results reindex');
    expect(calls(log)).toHaveLength(4);

    const rebuilt = await cliOk(dir, 'results', 'reindex');
    expect(rebuilt.stderr).toContain('2 call keys');
    expect((await reindexCheck(dir)).code).toBe(0);
    expect((await runCli(['results', 'fsck'], { cwd: dir })).code).toBe(0);
    const reused = await evalJson(dir, '--reuse');
    expect(reused.json.reused_count).toBe(2);
    expect(calls(log)).toHaveLength(4);
    // The blind run called the target, so its rows are the newest of their calls (its own commits indexed them).
    const rows = await results(dir, reused.json.run_id);
    expect(rows.a!.carried_from).toBe(blind.json.run_id);
    expect(first.json.run_id).not.toBe(blind.json.run_id);
  });
});
