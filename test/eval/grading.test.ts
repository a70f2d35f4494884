// assertScoringFunction, and the sweep of scratch folders left by a killed run.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { evaluateAssertions } from '../../src/eval/assertions.js';
import { sweepScratch } from '../../src/eval/process/scratch.js';
import type { AssertionSpec, SuiteTest } from '../../src/eval/types.js';
import { cleanupRepos, tempDir } from '../helpers/repo.js';

afterAll(() => cleanupRepos());

const test: SuiteTest = { id: 't', vars: {}, prompt: 'p', assertions: [], metadata: {}, tags: [] };
const spec = (s: Partial<AssertionSpec> & { type: string }): AssertionSpec => ({ negate: false, weight: 1, required: false, ...s });

describe('assertScoringFunction', () => {
  it('replaces the weighted mean with the suite function, given named scores', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'scoring.js'), 'exports.strict = (scores, ctx) => ({ pass: scores.city === 1 && ctx.componentResults.length === 2, score: scores.city, reason: "city decides" });\n');
    const assertions = [spec({ type: 'contains', value: 'Paris', metric: 'city' }), spec({ type: 'contains', value: 'France', metric: 'country' })];
    const run = (output: string) => evaluateAssertions({ assertions, output, test, grader: null, signal: new AbortController().signal, cwd: dir, scoringFunction: 'file://scoring.js:strict' });
    expect(await run('Paris')).toMatchObject({ passed: true, score: 1 });
    expect(await run('France')).toMatchObject({ passed: false, score: 0 });
  });

  it('a scoring function that throws is a grading error', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'bad.js'), 'module.exports = () => { throw new Error("nope"); };\n');
    const out = await evaluateAssertions({ assertions: [spec({ type: 'contains', value: 'x' })], output: 'x', test, grader: null, signal: new AbortController().signal, cwd: dir, scoringFunction: 'file://bad.js' });
    expect(out.error).toMatch(/nope/);
  });
});

describe('scratch sweep', () => {
  it('removes folders of processes that are gone and keeps its own', () => {
    const root = tempDir();
    const dead = path.join(root, '2147483646-cli-abc');
    const mine = path.join(root, `${process.pid}-cli-def`);
    mkdirSync(dead);
    mkdirSync(mine);
    writeFileSync(path.join(dead, 'prompt.txt'), 'secret prompt');
    expect(sweepScratch({ root })).toBe(1);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(mine)).toBe(true);
  });
});

describe('levenshtein on long outputs', () => {
  it('the banded distance equals the full one up to the limit', async () => {
    const { boundedEditDistance } = await import('../../src/eval/assertions/deterministic.js');
    const { editDistance } = await import('../../src/schemas/assertion.js');
    const words = ['', 'a', 'kitten', 'sitting', 'flaw', 'lawn', 'intention', 'execution'];
    for (const a of words) for (const b of words) for (let k = 0; k < 6; k++) {
      const d = editDistance(a, b);
      expect(boundedEditDistance(a, b, k), `${a}/${b}/${k}`).toBe(d <= k ? d : k + 1);
    }
    const big = 'x'.repeat(200_000);
    expect(boundedEditDistance(big, `${big}yy`, 5)).toBe(2);
  });
});

describe('javascript in its worker', () => {
  it('process.exit() in an assertion ends only its worker: a grading error, and the next assertion still runs', async () => {
    const signal = new AbortController().signal;
    const js = (value: string): AssertionSpec => spec({ type: 'javascript', value });
    const out = await evaluateAssertions({ assertions: [js('process.exit(3)')], output: 'x', test, grader: null, signal, timeoutMs: 20_000 });
    expect(out.error).toMatch(/exit code 3/);
    expect(await evaluateAssertions({ assertions: [js('output === "x"')], output: 'x', test, grader: null, signal })).toMatchObject({ passed: true });
  });
});
