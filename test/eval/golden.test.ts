// Runs written by an older agentv must still resume: the input_hash of a test whose
// rendered prompt and assertions did not change stays put across loader and template
// changes. The runs come from fixtures/golden/runs.bundle (see its README).
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/proc.js';
import { cleanupRepos, git, makeRepo } from '../helpers/repo.js';

afterEach(cleanupRepos);

function goldenRepo(): string {
  const dir = makeRepo({ commit: false });
  git(dir, 'checkout', '-q', '-b', 'scratch');
  git(dir, 'fetch', '-q', path.join(ROOT, 'fixtures/golden/runs.bundle'), 'refs/*:refs/*');
  git(dir, 'checkout', '-q', 'main');
  return dir;
}

const RUNS = [
  { suite: 'evals/golden.yaml', runId: '20261201-000000-golden1', failed: 2, planned: 6 },
  { suite: 'evals/chat.yaml', runId: '20261201-000000-golden2', failed: 1, planned: 2 },
];

describe('golden runs written before the suite-model change', () => {
  for (const r of RUNS) {
    it(`${r.suite}: re-running its failed tests finds no changed input`, async () => {
      const dir = goldenRepo();
      const before = JSON.parse((await runCli(['runs', 'show', r.runId, '--json'], { cwd: dir })).stdout);
      const res = await runCli(['eval', r.suite, '--rerun-failed', r.runId, '--target', 'echo', '--json'], { cwd: dir });
      expect(res.stderr).not.toMatch(/changed/);
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toContain(`${r.planned - r.failed} done, ${r.failed} to run (${r.failed} failed)`);
      const after = JSON.parse((await runCli(['runs', 'show', r.runId, '--json'], { cwd: dir })).stdout);
      // The same hashes, now with the call and grading keys recorded beside them.
      const hashes = (planned: { test_id: string; input_hash: string }[]) => planned.map(({ test_id, input_hash }) => ({ test_id, input_hash }));
      expect(hashes(after.run.planned_tests)).toEqual(hashes(before.run.planned_tests));
      expect(before.run.planned_tests[0].call_key).toBeUndefined();
      for (const p of after.run.planned_tests) expect(p.call_key).toMatch(/^[0-9a-f]{32}$/);
      expect(after.run.planned_tests).toHaveLength(r.planned);
    });
  }

  it('a real change is still seen (the check above can fail)', async () => {
    const dir = goldenRepo();
    const file = path.join(dir, 'evals/chat.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('be brief', 'be short'));
    const res = await runCli(['eval', 'evals/chat.yaml', '--rerun-failed', '20261201-000000-golden2', '--target', 'echo'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/changed since their rows were written/);
  });
});
