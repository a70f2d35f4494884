// Features of the agentv CLI's eval files (fixtures/compat/agentv-features/, written here)
// run through `agentv eval` with the statuses and scores an agentv CLI user expects:
// trajectory assertions, a test's execution block, script graders and custom kinds,
// scenarios and CSV columns, prompt-template commands, and a 5.x provider catalog.
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/proc.js';
import { cleanupRepos, git, makeRepo } from '../helpers/repo.js';

afterEach(cleanupRepos);

const FIX = 'fixtures/compat/agentv-features';

function repoOf(sub = ''): string {
  const dir = makeRepo();
  cpSync(path.join(ROOT, FIX, sub), dir, { recursive: true });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'suite');
  return dir;
}

interface Row {
  test_id: string;
  execution_status: string;
  score: number;
  passed: boolean;
  assertions: { type: string; passed: boolean; score: number; reason: string | null; metric?: string }[];
}

async function run(dir: string, ...args: string[]) {
  const r = await runCli(['eval', ...args, '--json'], { cwd: dir });
  if (r.code !== 0 && r.code !== 1) throw new Error(`exit ${r.code}: ${r.stderr}`);
  const summary = JSON.parse(r.stdout) as { run_id: string; passed: number; failed: number; errored: number };
  const shown = await runCli(['runs', 'show', summary.run_id, '--json'], { cwd: dir });
  expect(shown.code, shown.stderr).toBe(0);
  const rows = (JSON.parse(shown.stdout) as { results: Row[] }).results;
  return { summary, byId: Object.fromEntries(rows.map((x) => [x.test_id, x])) };
}

async function dryRun(dir: string, ...args: string[]) {
  const r = await runCli(['eval', ...args, '--dry-run', '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { runs: { tests: { test_id: string; input: { prompt: string }; assertions: { type: string; value?: unknown; metric?: string }[] }[] }[] };
}

describe('trajectory assertions', () => {
  it('judges tool use, order, arguments and step counts on the trace the target reports, 1 or 0 each', async () => {
    const dir = repoOf();
    const { summary, byId } = await run(dir, 'trajectory/suite.yaml', '--target', 'exec:node trajectory/agent.mjs {OUTPUT_FILE}');
    expect(summary).toMatchObject({ passed: 3, failed: 3, errored: 0 });
    expect(byId['uses-search']).toMatchObject({ passed: true, score: 1 });
    expect(byId['uses-search']!.assertions.map((a) => a.type)).toEqual(['trajectory:tool-used', 'not-trajectory:tool-used']);
    expect(byId['in-order']).toMatchObject({ passed: true, score: 1 });
    expect(byId['args-exact-ignoring']).toMatchObject({ passed: true, score: 1 }); // names match ignoring case
    expect(byId['fetch-twice']).toMatchObject({ passed: false, score: 0 });
    expect(byId['fetch-twice']!.assertions[0]!.reason).toMatch(/fetch called 1 time\(s\) \(wanted at least 2\)/);
    expect(byId['exact-wrong-order']).toMatchObject({ passed: false, score: 0 });
    expect(byId['at-most-one-tool']).toMatchObject({ passed: false, score: 0 });
  });

  it('fails them, with the reason, when the target reports no trace', async () => {
    const dir = repoOf();
    const { byId } = await run(dir, 'trajectory/suite.yaml', '--target', 'echo', '--test-id', 'uses-search');
    expect(byId['uses-search']).toMatchObject({ execution_status: 'quality_failure', passed: false });
    expect(byId['uses-search']!.assertions[0]!.reason).toMatch(/reported no trace/);
  });
});

describe("a test's execution block", () => {
  it('skip_defaults leaves out the suite-level assert for that test only', async () => {
    const dir = repoOf();
    const doc = await dryRun(dir, 'execution/suite.yaml');
    const types = Object.fromEntries(doc.runs[0]!.tests.map((t) => [t.test_id, t.assertions.map((a) => a.value)]));
    expect(types).toEqual({ greets: ['hello'], 'opts-out': ['bye'], 'does-not-greet': ['hello'] });
    const { summary, byId } = await run(dir, 'execution/suite.yaml');
    expect(summary).toMatchObject({ passed: 2, failed: 1 });
    expect(byId['opts-out']).toMatchObject({ passed: true });
    expect(byId['does-not-greet']).toMatchObject({ passed: false });
  });
});

describe('script graders and custom assertion kinds', () => {
  it('runs `type: script` as the agentv CLI script grader: payload on stdin, extra keys as config, checks and min_score', async () => {
    const dir = repoOf();
    const { byId } = await run(dir, 'script-grader/suite.yaml', '--test-id', 'both-words', '--test-id', 'half-the-words');
    expect(byId['both-words']).toMatchObject({ passed: true, score: 1 });
    expect(byId['both-words']!.assertions[0]).toMatchObject({ type: 'code-grader', metric: 'words' });
    expect(byId['half-the-words']).toMatchObject({ passed: true, score: 0.5 });
  });

  it('finds a custom kind in .agentv/assertions/ and runs it with bun, as the agentv CLI does', async () => {
    const dir = repoOf();
    const doc = await dryRun(dir, 'script-grader/suite.yaml', '--test-id', 'custom-kind');
    expect(doc.runs[0]!.tests[0]!.assertions).toEqual([{ type: 'code-grader', value: ['bun', 'run', '.agentv/assertions/min-words.mjs'], weight: 1, metric: 'min-words' }]);
  });
});

describe('scenarios and CSV columns', () => {
  it('reads scenario files by glob, names tests by row id, and reads vars.<name>, id and __metric columns', async () => {
    const dir = repoOf();
    const tests = (await dryRun(dir, 'scenarios/suite.yaml', '--target', 'echo')).runs[0]!.tests;
    expect(tests.map((t) => t.test_id)).toEqual(['csv-row', 'spanish', expect.stringMatching(/^french-[0-9a-f]{8}$/)]);
    expect(tests[0]).toMatchObject({ input: { prompt: 'Say thanks in German' }, assertions: [{ type: 'contains', value: 'thanks', metric: 'politeness' }] });
    expect(tests[1]).toMatchObject({ input: { prompt: 'Say hello in Spanish' }, assertions: [{ type: 'icontains', value: 'hola' }] });
  });
});

describe('llm grader prompt-template commands', () => {
  it('sends the prompt the command prints (with its config) to the grader', async () => {
    const dir = repoOf();
    const { byId } = await run(dir, 'prompt-template/suite.yaml', '--grader', 'exec:node prompt-template/judge.mjs {PROMPT_FILE}');
    expect(byId.capital).toMatchObject({ passed: true, score: 1 });
  });
});

describe('a 5.x provider catalog (.agentv/providers.yaml as a bare list, config.yaml defaults)', () => {
  it('runs with the catalog default; providers agentv cannot call are refused only when used, naming file and line', async () => {
    const dir = repoOf('catalog');
    const { summary } = await run(dir, 'plain.yaml');
    expect(summary).toMatchObject({ passed: 1, failed: 0 });
    const graded = await runCli(['eval', 'graded.yaml'], { cwd: dir });
    expect(graded.code).toBe(2);
    expect(graded.stderr).toMatch(/\.agentv\/providers\.yaml:4: target "grader" cannot be used: .*no "azure" provider/);
    const viaGrader = await runCli(['eval', 'graded.yaml', '--grader', 'agent'], { cwd: dir });
    expect(viaGrader.code).toBe(2);
    expect(viaGrader.stderr).toMatch(/providers\.yaml:8: .*copilot-cli/);
  });
});
