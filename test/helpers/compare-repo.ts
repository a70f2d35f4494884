// A source repository whose exec target answers from a committed answers.json,
// so a commit that changes one answer makes exactly one test change.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { runCli } from './cli.js';
import { git, makeRepo } from './repo.js';

export const ANSWERS = { a: 'alpha', b: 'bravo', c: 'wrong', d: 'delta' };

/** Tests a..d expect alpha, bravo, charlie, delta; the agent answers from answers.json (c is a known failure). */
export function compareRepo(answers: Record<string, string> = ANSWERS, suiteName = 'quiz'): string {
  const dir = makeRepo();
  writeFileSync(
    path.join(dir, 'agent.mjs'),
    "import { readFileSync } from 'node:fs';\nconst a = JSON.parse(readFileSync('answers.json', 'utf8'));\nprocess.stdout.write(a[process.argv[2]] ?? 'no answer');\n",
  );
  const expected: Record<string, string> = { a: 'alpha', b: 'bravo', c: 'charlie', d: 'delta' };
  const tests = Object.entries(expected)
    .map(([id, want]) => `  - id: ${id}\n    vars: { input: "${id}", expected_output: "${want}" }\n    assert: [{ type: equals, value: "${want}" }]\n`)
    .join('');
  writeFileSync(path.join(dir, 'suite.yaml'), `name: ${suiteName}\nprompts: ["{{ input }}"]\ntests:\n${tests}`);
  mkdirSync(path.join(dir, '.agentv'));
  writeFileSync(
    path.join(dir, '.agentv/targets.yaml'),
    'targets:\n  - name: quiz-agent\n    provider: cli\n    command: node agent.mjs {PROMPT}\ndefaults:\n  target: quiz-agent\n',
  );
  setAnswers(dir, answers, 'base');
  return dir;
}

/** Commit new answers; returns the new HEAD. */
export function setAnswers(dir: string, answers: Record<string, string>, message: string): string {
  writeFileSync(path.join(dir, 'answers.json'), JSON.stringify(answers));
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--allow-empty', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

/** `agentv eval suite.yaml --json ...extra`; returns the exit code, the summary and stderr. */
export async function evalRun(dir: string, ...extra: string[]) {
  const r = await runCli(['eval', 'suite.yaml', '--json', ...extra], { cwd: dir });
  expect(r.stdout.length > 0 || r.code === 2, `eval exited ${r.code}\n${r.stderr}`).toBe(true);
  return { code: r.code, summary: r.stdout ? JSON.parse(r.stdout) : null, stderr: r.stderr };
}

export function runCount(dir: string): number {
  try {
    return git(dir, 'ls-tree', '-r', '--name-only', 'refs/agentv/runs/v1').split('\n').filter((p) => p.endsWith('/manifest.json')).length;
  } catch {
    return 0;
  }
}
