// The suites users already have (fixtures/compat/: agentv's own files, promptfoo configs,
// agentv CLI eval files) run through `agentv eval` as written, with the statuses and
// scores their authors expect; bad input stops with exit 2 and writes nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/proc.js';
import { cleanupRepos, git, makeRepo } from '../helpers/repo.js';

afterEach(cleanupRepos);

function corpus(): string {
  const dir = makeRepo();
  cpSync(path.join(ROOT, 'fixtures/compat'), dir, { recursive: true });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'corpus');
  return dir;
}

const ref = (dir: string) => {
  try {
    return git(dir, 'rev-parse', '-q', '--verify', 'refs/agentv/runs/v1');
  } catch {
    return null;
  }
};

async function evalJson(dir: string, ...args: string[]) {
  const r = await runCli(['eval', ...args, '--json'], { cwd: dir });
  if (r.code !== 0 && r.code !== 1) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return { ...r, json: JSON.parse(r.stdout) };
}

async function rows(dir: string, runId: string) {
  const r = await runCli(['runs', 'show', runId, '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as { results: { test_id: string; execution_status: string; score: number; output: string }[] };
  return Object.fromEntries(doc.results.map((x) => [x.test_id, x]));
}

async function dryRun(dir: string, suite: string, ...args: string[]) {
  const r = await runCli(['eval', suite, '--dry-run', '--json', ...args], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { runs: { target: string; suite: { name: string; path: string }; tests: { test_id: string; input: { prompt: string; messages: unknown; vars: Record<string, unknown>; expected_output: unknown }; assertions: { type: string; value?: unknown; weight?: number }[]; input_hash: string }[] }[] };
}

describe('promptfoo configs', () => {
  it('reads prompts from files (a bare path, --- separated prompts, chat .json, {id, label}), never the path as text', async () => {
    const dir = corpus();
    const doc = await dryRun(dir, 'promptfoo/prompt-files/promptfooconfig.yaml');
    const [run] = doc.runs;
    expect(run!.tests.map((t) => t.input.prompt)).toEqual([
      'Write a haiku about bananas.',
      'Tell me one fact about BANANAS.',
      'system: You are terse.\nuser: Explain bananas.',
    ]);
    expect(run!.tests[2]!.input.messages).toEqual([
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Explain bananas.' },
    ]);
    const { json } = await evalJson(dir, 'promptfoo/prompt-files/promptfooconfig.yaml');
    expect(json).toMatchObject({ passed: 3, failed: 0, errored: 0 });
  });

  it('reads tests from CSV with __expected, __expectedN, __description, __metadata and __config columns', async () => {
    const dir = corpus();
    const doc = await dryRun(dir, 'promptfoo/csv/promptfooconfig.yaml');
    const tests = doc.runs[0]!.tests;
    expect(tests.map((t) => t.test_id)).toEqual([expect.stringMatching(/^fruit-one-[0-9a-f]{8}$/), expect.stringMatching(/^fruit-two-/), expect.stringMatching(/^a-failing-row-/)]);
    expect(tests[0]!.assertions).toEqual([
      { type: 'contains', value: 'apple', weight: 1 },
      { type: 'icontains', value: 'ECHO', weight: 2 },
    ]);
    expect(tests[1]!.input.vars).toEqual({ word: 'pear, ripe' });
    const { json } = await evalJson(dir, 'promptfoo/csv/promptfooconfig.yaml');
    expect(json).toMatchObject({ planned_test_count: 3, passed: 2, failed: 1 });
    const byId = await rows(dir, json.run_id);
    // contains fails (weight 1), starts-with passes (weight 3): score 0.75.
    expect(byId[tests[2]!.test_id]).toMatchObject({ execution_status: 'quality_failure', score: 0.75 });
  });

  it('makes one run per provider, started and reported together (--json prints an array)', async () => {
    const dir = corpus();
    const { json } = await evalJson(dir, 'promptfoo/matrix/promptfooconfig.yaml');
    expect(json).toHaveLength(2);
    expect(json.map((s: { passed: number }) => s.passed)).toEqual([1, 1]);
    const list = JSON.parse((await runCli(['runs', 'list', '--json'], { cwd: dir })).stdout);
    expect(list.runs.map((r: { target: string }) => r.target).sort()).toEqual(['canned', 'echo']);
    // --target replaces every provider of the suite: one run.
    const one = await evalJson(dir, 'promptfoo/matrix/promptfooconfig.yaml', '--target', 'echo');
    expect(one.json).toMatchObject({ passed: 1 });
  });

  it('expands vars arrays (cartesian product), scenarios, repeat and $ref assertion templates', async () => {
    const dir = corpus();
    const doc = await dryRun(dir, 'promptfoo/expand/promptfooconfig.yaml');
    const tests = doc.runs[0]!.tests;
    // 2 greetings x 3 names + 2 scenario configs x 1 test, each twice (repeat: 2).
    expect(tests).toHaveLength(16);
    const prompts = [...new Set(tests.map((t) => t.input.prompt))];
    expect(prompts).toEqual(['Hello, Ada!', 'Hello, Bob!', 'Hello, Cy!', 'Hi, Ada!', 'Hi, Bob!', 'Hi, Cy!', 'Hey, Dee!', 'Yo, Dee!']);
    expect(tests.filter((t) => t.test_id.endsWith('#2'))).toHaveLength(8);
    expect(tests[0]!.assertions).toEqual([{ type: 'contains', value: 'Hello', weight: 1 }]);
    const { json } = await evalJson(dir, 'promptfoo/expand/promptfooconfig.yaml');
    expect(json).toMatchObject({ planned_test_count: 16, passed: 16 });
  });

  it('grades llm-rubric with defaultTest.options.provider when --grader is not given', async () => {
    const dir = corpus();
    const { json } = await evalJson(dir, 'promptfoo/grader/promptfooconfig.yaml');
    expect(json).toMatchObject({ passed: 1, failed: 0, errored: 0 });
    const [row] = Object.values(await rows(dir, json.run_id));
    expect(row).toMatchObject({ execution_status: 'ok', score: 0.8 });
    const show = JSON.parse((await runCli(['runs', 'show', json.run_id, '--json'], { cwd: dir })).stdout);
    expect(show.run.grader).toMatchObject({ name: 'canned-judge', provider: 'mock' });
  });

  it('reads .env next to the suite for providers (set variables win) and vars from file://', async () => {
    const dir = corpus();
    const { json } = await evalJson(dir, 'promptfoo/dotenv/promptfooconfig.yaml');
    expect(json).toMatchObject({ passed: 1, failed: 0, errored: 0 });
    const r = await runCli(['eval', 'promptfoo/dotenv/promptfooconfig.yaml', '--json'], { cwd: dir, env: { GREETING: 'from-shell' } });
    expect(JSON.parse(r.stdout)).toMatchObject({ passed: 0, failed: 1 });
  });

  it('refuses what it cannot honour instead of ignoring it: per-test prompts, unknown keys (a transform and storeOutputAs are honoured)', async () => {
    const dir = corpus();
    writeFileSync(
      path.join(dir, 'refused.yaml'),
      ['providers: [echo]', 'defaultTest:', '  options:', '    transform: output.trim()', 'evaluateOptions: { cache: false }', 'tests:', '  - vars: { a: 1 }', '    options: { storeOutputAs: x }', '    prompts: [other]', 'promts: ["{{ a }}"]', ''].join('\n'),
    );
    const r = await runCli(['eval', 'refused.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/refused\.yaml:4:/);
    expect(r.stderr).not.toMatch(/refused\.yaml:8:/);
    expect(r.stderr).toMatch(/refused\.yaml:9: .*choosing prompts per test is not supported/);
    expect(r.stderr).toMatch(/refused\.yaml:10: unknown top-level key "promts" \(did you mean "prompts"\?\)/);
    expect(ref(dir)).toBeNull();
  });

  it('computes derivedMetrics after the run from the named metrics', async () => {
    const dir = corpus();
    const r = await evalJson(dir, 'promptfoo/derived/promptfooconfig.yaml');
    expect(r.json).toMatchObject({ passed: 1, failed: 1 });
    // precision 1 (both contain "a"), recall 0.5: f1 = 2 * 1 * 0.5 / 1.5.
    expect(r.stderr).toContain('derived metric f1: 0.6667');
  });

  it('keeps derived ids stable, so a promptfoo suite resumes', async () => {
    const dir = corpus();
    const a = await dryRun(dir, 'promptfoo/csv/promptfooconfig.yaml');
    const b = await dryRun(dir, 'promptfoo/csv/promptfooconfig.yaml');
    expect(b.runs[0]!.tests.map((t) => t.test_id)).toEqual(a.runs[0]!.tests.map((t) => t.test_id));
    const { json } = await evalJson(dir, 'promptfoo/csv/promptfooconfig.yaml');
    const r = await runCli(['eval', 'promptfoo/csv/promptfooconfig.yaml', '--rerun-failed', json.run_id], { cwd: dir });
    expect(r.stderr).toContain('2 done, 1 to run (1 failed)');
  });
});

describe('agentv eval files (4.x)', () => {
  it('runs input, content parts with files, expected_output and assertions against execution.target', async () => {
    const dir = corpus();
    const doc = await dryRun(dir, 'agentv-eval/basic/dataset.eval.yaml');
    expect(doc.runs[0]!.target).toBe('echo');
    const [text, parts] = doc.runs[0]!.tests;
    expect(text!.input).toMatchObject({ prompt: 'What is 2+2?', expected_output: '4', vars: { criteria: 'Echoes the question' } });
    expect(parts!.input.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Review this:\nconst x = 1; // SNIPPET-MARKER\n' },
    ]);
    const { json } = await evalJson(dir, 'agentv-eval/basic/dataset.eval.yaml');
    expect(json).toMatchObject({ passed: 2, failed: 0 });
  });
});

describe('agentv eval files (5.x)', () => {
  it('runs content parts in vars.input, negate, default_test from a file, file:// entries in tests and vars.* templates', async () => {
    const dir = corpus();
    const doc = await dryRun(dir, 'agentv-eval/v5/checks.eval.yaml');
    const [parts, plain, fromFile] = doc.runs[0]!.tests;
    expect(fromFile!.test_id).toBe('from-file'); // a `file://` entry in the tests list
    expect(parts!.input.messages).toEqual([{ role: 'user', content: 'Explain agentv using:\nNOTES-MARKER: the notes\n' }]);
    expect(parts!.assertions.map((a) => a.type)).toEqual(['not-contains', 'contains', 'not-contains']);
    expect(plain!.assertions.map((a) => a.type)).toEqual(['not-contains', 'equals']);
    const { json } = await evalJson(dir, 'agentv-eval/v5/checks.eval.yaml');
    expect(json).toMatchObject({ passed: 3, failed: 0 });
  });
});

describe("agentv's targets.yaml (4.x) and providers.yaml (5.x)", () => {
  function repoOf(sub: string): string {
    const dir = makeRepo();
    cpSync(path.join(ROOT, 'fixtures/compat', sub), dir, { recursive: true });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'suite');
    return dir;
  }

  it('4.x: a cli target with {EVAL_ID} and grader_target grades llm-rubric without --grader', async () => {
    const dir = repoOf('agentv-eval/targets-4x');
    const { json } = await evalJson(dir, 'smoke.eval.yaml');
    expect(json).toMatchObject({ passed: 1, failed: 0, errored: 0 });
    const byId = await rows(dir, json.run_id);
    expect(byId.hello).toMatchObject({ execution_status: 'ok', output: 'answer for hello: say hi' });
  });

  it('5.x: providers.yaml labels are the names suites use', async () => {
    const dir = repoOf('agentv-eval/providers-5x');
    const { json } = await evalJson(dir, 'smoke.eval.yaml');
    expect(json).toMatchObject({ passed: 1, failed: 0, errored: 0 });
  });
});

describe("agentv's own suites", () => {
  it('gives tests without ids stable derived ids, -2 for a repeat', async () => {
    const dir = corpus();
    const doc = await dryRun(dir, 'agentv/no-ids/suite.yaml', '--target', 'echo');
    const ids = doc.runs[0]!.tests.map((t) => t.test_id);
    expect(ids).toEqual([expect.stringMatching(/^greets-politely-[0-9a-f]{8}$/), expect.stringMatching(/^hello-there-[0-9a-f]{8}$/), `${ids[1]}-2`]);
    // Editing an assertion re-grades the same tests: ids do not move.
    const file = path.join(dir, 'agentv/no-ids/suite.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('value: nope', 'value: "hello there"'));
    const again = await dryRun(dir, 'agentv/no-ids/suite.yaml', '--target', 'echo');
    expect(again.runs[0]!.tests.map((t) => t.test_id)).toEqual(ids);
  });
});

describe('dry run', () => {
  it('prints the documented shape and moves nothing', async () => {
    const dir = corpus();
    const before = ref(dir);
    const doc = await dryRun(dir, 'agentv-eval/basic/dataset.eval.yaml');
    expect(doc.runs[0]!.suite).toEqual({ name: 'dataset', path: 'agentv-eval/basic/dataset.eval.yaml' });
    expect(doc.runs[0]!.tests[0]!.input_hash).toMatch(/^[0-9a-f]{32}$/);
    expect(ref(dir)).toBe(before);
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });
});

describe('bad input stops before anything runs (exit 2, nothing written)', () => {
  const cases: [string, RegExp][] = [
    ['bad/ragged-csv/promptfooconfig.yaml', /tests\.csv:3: CSV: a row has a different number of fields/],
    ['bad/missing-prompt/promptfooconfig.yaml', /:2: .*prompt file bad\/missing-prompt\/nowhere\.txt not found[\s\S]*:3: .*prompts\/missing\.md not found[\s\S]*nonsense-kind/],
    ['bad/unknown-provider/promptfooconfig.yaml', /provider "anthropic:messages:claude-sonnet-4": agentv cannot call the "anthropic" provider.*--target.*\.agentv\/targets\.yaml/],
    ['bad/alias-bomb/suite.yaml', /too many aliases.*limits\.yaml_aliases/],
  ];
  for (const [suite, message] of cases) {
    it(suite, async () => {
      const dir = corpus();
      const r = await runCli(['eval', suite, '--target', 'echo'].filter((a) => !(suite.includes('unknown-provider') && (a === '--target' || a === 'echo'))), { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(ref(dir)).toBeNull();
    });
  }

  it('an oversize suite file is refused by limits.suite_bytes', async () => {
    const dir = corpus();
    writeFileSync(path.join(dir, '.agentv-config-dir'), '');
    cpSync(path.join(ROOT, 'fixtures/compat/agentv/no-ids/suite.yaml'), path.join(dir, 'big.yaml'));
    git(dir, 'add', '-A');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, '.agentv'), { recursive: true });
    writeFileSync(path.join(dir, '.agentv/config.yaml'), 'limits:\n  suite_bytes: 100\n');
    const r = await runCli(['eval', 'big.yaml', '--target', 'echo'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/over limits\.suite_bytes = 100/);
  });

  it('--target runs a suite whose provider agentv cannot call', async () => {
    const dir = corpus();
    const r = await runCli(['eval', 'bad/unknown-provider/promptfooconfig.yaml', '--target', 'echo'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  });
});
