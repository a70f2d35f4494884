import { afterEach, describe, expect, it } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { parse as parseCsv } from 'csv-parse/sync';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CompareDocument, EvalBaseline } from '../../src/schemas/compare.js';
import { RunCsvRecord } from '../../src/schemas/export.js';
import { runCli } from '../helpers/cli.js';
import { cliOk } from '../helpers/expect.js';
import { ANSWERS, compareRepo, evalRun, runCount, setAnswers } from '../helpers/compare-repo.js';
import { cleanupRepos, git } from '../helpers/repo.js';

afterEach(cleanupRepos);

describe('stored inputs, runs diff and exports', () => {
  it('rows show their input; a changed answer is exactly one regression with its reason; exports parse', async () => {
    const dir = compareRepo();
    const base = await evalRun(dir);
    expect(base.code).toBe(1); // c is a known failure
    setAnswers(dir, { ...ANSWERS, b: 'BRAVO?' }, 'b now answers wrong');
    const head = await evalRun(dir);

    const shown = JSON.parse((await cliOk(dir, 'runs', 'show', head.summary.run_id, '--json')).stdout);
    const b = shown.results.find((r: { test_id: string }) => r.test_id === 'b');
    expect(b.input).toEqual({ prompt: 'b', messages: null, vars: { input: 'b', expected_output: 'bravo' }, expected_output: 'bravo' });
    expect(b.input_ref).toMatch(/^[0-9a-f]{64}$/);
    // Identical inputs across the two runs are one blob on the ref.
    const inputs = git(dir, 'ls-tree', '-r', '--name-only', 'refs/agentv/runs/v1', 'inputs').split('\n');
    expect(inputs).toHaveLength(4);

    const diff = await cliOk(dir, 'runs', 'diff', base.summary.run_id, head.summary.run_id, '--json');
    const doc = CompareDocument.parse(JSON.parse(diff.stdout));
    expect(doc.summary).toMatchObject({ regressed: 1, new_error: 0, fixed: 0, still_failing: 1, unchanged: 2, added: 0, removed: 0, changed_input: 0, paired: 4 });
    expect(doc.summary.pass_rate_delta).toBeCloseTo(-0.25);
    const [lo, hi] = doc.summary.pass_rate_delta_ci!;
    expect(lo).toBeLessThan(-0.25);
    expect(hi).toBeGreaterThan(-0.25);
    expect(doc.tests[0]).toMatchObject({ test_id: 'b', change: 'regressed', score_delta: -1 });
    expect(doc.tests[0]!.head!.input!.expected_output).toBe('bravo');

    // Human output: regressions first, with the reason, not double-escaped.
    const human = await cliOk(dir, 'runs', 'diff', base.summary.run_id, head.summary.run_id);
    const lines = human.stdout.split('\n').filter((l) => /^\s+(REGRESSED|STILL FAILING)/.test(l));
    expect(lines[0]).toMatch(/REGRESSED\s+b\s+1\.00 → 0\.00\s+equals: expected "bravo", got "BRAVO\?"/);
    expect(human.stdout).not.toContain('\\"');
    const gate = await runCli(['runs', 'diff', base.summary.run_id, head.summary.run_id, '--fail-on-regression'], { cwd: dir });
    expect(gate.code).toBe(1);

    const md = (await cliOk(dir, 'runs', 'diff', base.summary.run_id, head.summary.run_id, '--format', 'markdown')).stdout;
    expect(md).toContain('### Regressions (1)');
    expect(md).toMatch(/\| b \| 1\.00 → 0\.00 \|/);

    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });
    const dj = xml.parse((await cliOk(dir, 'runs', 'diff', base.summary.run_id, head.summary.run_id, '--format', 'junit')).stdout);
    expect(dj.testsuites).toMatchObject({ tests: '4', failures: '1', errors: '0' });

    const rj = xml.parse((await cliOk(dir, 'runs', 'show', head.summary.run_id, '--format', 'junit')).stdout);
    const cases = [rj.testsuites.testsuite.testcase].flat();
    expect(cases).toHaveLength(4);
    expect(cases.filter((c: Record<string, unknown>) => c.failure !== undefined).map((c: { name: string }) => c.name).sort()).toEqual(['b', 'c']);
    expect(rj.testsuites.failures).toBe('2');

    const csv = parseCsv((await cliOk(dir, 'runs', 'show', head.summary.run_id, '--format', 'csv')).stdout, { columns: true }) as Record<string, string>[];
    expect(csv).toHaveLength(4);
    expect(Object.keys(csv[0]!)).toEqual(Object.keys(RunCsvRecord.shape));
    expect(csv.find((r) => r.test_id === 'b')).toMatchObject({ status: 'failed', output: 'BRAVO?', expected_output: 'bravo', prompt: 'b' });

    // The human view says what a failed test was asked, expected and got.
    const human2 = (await cliOk(dir, 'runs', 'show', head.summary.run_id)).stdout;
    expect(human2).toMatch(/Not passed \(2\):\n  b  failed  score 0\.00\n    asked     b\n    expected  bravo\n    got       BRAVO\?\n    ✗ equals: expected "bravo", got "BRAVO\?"/);
    const mdRun = (await cliOk(dir, 'runs', 'show', head.summary.run_id, '--format', 'markdown')).stdout;
    expect(mdRun).toContain('2 of 4 run passed');
    const json = JSON.parse((await cliOk(dir, 'runs', 'show', head.summary.run_id, '--format', 'json')).stdout);
    expect(json.results).toHaveLength(4);
  });

  it('runs of different suites compare with a warning; bad ids exit 2', async () => {
    const dir = compareRepo();
    const first = await evalRun(dir);
    writeFileSync(path.join(dir, 'suite.yaml'), readFileSync(path.join(dir, 'suite.yaml'), 'utf8').replace('name: quiz', 'name: other').replace('id: d\n', 'id: e\n'));
    const second = await evalRun(dir);
    const r = await cliOk(dir, 'runs', 'diff', first.summary.run_id, second.summary.run_id, '--json');
    expect(r.stderr).toMatch(/warning: comparing runs of different suites \(quiz and other\)/);
    const doc = CompareDocument.parse(JSON.parse(r.stdout));
    expect(doc.summary).toMatchObject({ added: 1, removed: 1 });
    expect(doc.warnings).toHaveLength(1);

    expect((await runCli(['runs', 'diff', first.summary.run_id, 'no-such-run'], { cwd: dir })).code).toBe(2);
    expect((await runCli(['runs', 'diff', '../x', first.summary.run_id], { cwd: dir })).code).toBe(2);
    expect((await runCli(['runs', 'show', first.summary.run_id, '--format', 'xml'], { cwd: dir })).code).toBe(2);
    const out = path.join(dir, 'r.html');
    expect((await runCli(['report', 'no-such-run', '-o', out], { cwd: dir })).code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});

describe('eval --baseline', () => {
  it('known failures pass the gate, a new one fails it; baselines at REV and its nearest ancestor; none: a warning', async () => {
    const dir = compareRepo();
    const c1 = git(dir, 'rev-parse', 'HEAD');
    const base = await evalRun(dir);

    // Same commit again: c still fails, but it is a known failure.
    const same = await evalRun(dir, '--baseline', 'HEAD', '--fail-on-regression');
    expect(same.code, same.stderr).toBe(0);
    const bl = EvalBaseline.parse(same.summary.baseline);
    expect(bl).toMatchObject({ distance: 0, summary: { still_failing: 1, unchanged: 3, regressed: 0 } });
    expect(bl.base.run_id).toBe(base.summary.run_id);
    expect(same.stderr).toMatch(/STILL FAILING\s+c/);
    // Without the gate flag, failures exit 1 as usual.
    expect((await evalRun(dir, '--baseline', 'HEAD')).code).toBe(1);

    // Two commits on, nothing run at the middle one: the baseline is c1's newest run (distance 2).
    setAnswers(dir, ANSWERS, 'docs only');
    setAnswers(dir, { ...ANSWERS, d: 'DELTA!' }, 'd breaks');
    const newest = JSON.parse((await cliOk(dir, 'runs', 'list', '--json')).stdout).runs[0].run_id;
    const broke = await evalRun(dir, '--baseline', 'HEAD', '--fail-on-regression');
    expect(broke.code).toBe(1);
    expect(broke.summary.baseline).toMatchObject({ distance: 2, regressions: [{ test_id: 'd', change: 'regressed' }] });
    expect(broke.summary.baseline.base.run_id).toBe(newest);
    expect(broke.summary.baseline.base.source_commit).toBe(c1);
    expect(broke.stderr).toMatch(/REGRESSED\s+d/);

    // Bad input: exit 2 and nothing written.
    const before = runCount(dir);
    const required = await runCli(['eval', 'suite.yaml', '--target', 'echo', '--baseline', 'HEAD', '--require-baseline'], { cwd: dir });
    expect(required.code).toBe(2);
    expect(required.stderr).toMatch(/no baseline: .*suite quiz with target echo at HEAD/);
    const badRev = await runCli(['eval', 'suite.yaml', '--baseline', 'no-such-branch'], { cwd: dir });
    expect(badRev.code).toBe(2);
    expect(badRev.stderr).toMatch(/--baseline no-such-branch does not resolve/);
    expect((await runCli(['eval', 'suite.yaml', '--fail-on-regression'], { cwd: dir })).code).toBe(2);
    expect(runCount(dir)).toBe(before);

    // No run of this target anywhere: a warning, and the gate has nothing to fail on.
    const none = await evalRun(dir, '--target', 'echo', '--baseline', 'HEAD', '--fail-on-regression');
    expect(none.stderr).toMatch(/warning: no baseline: found no completed run of suite quiz with target echo/);
    expect(none.code).toBe(0);
    expect(none.summary.baseline).toBeNull();
  });
});
