// `agentv runs list --sort`: oldest first as well as newest first, and the
// "More:" hint continues the same query (filters, order, cursor).
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { runCli } from '../helpers/cli.js';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';
import { bulkCreateRuns, makeManifest } from '../helpers/runs.js';

afterEach(cleanupRepos);

const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();

async function repoWithRuns(): Promise<string> {
  const dir = makeRepo();
  const store = await openStore({ repoDir: dir });
  // r0..r6 of suite "a" and x0..x2 of suite "b", interleaved in time.
  const manifests = Array.from({ length: 10 }, (_, i) =>
    i % 3 === 2
      ? makeManifest(`x${(i - 2) / 3}`, { started_at: at(i), suite: { name: 'b', path: 'b.yaml' }, status: 'completed' })
      : makeManifest(`r${i - Math.floor(i / 3)}`, { started_at: at(i), suite: { name: 'a', path: 'a.yaml' }, status: 'completed' }),
  );
  await bulkCreateRuns(store, manifests);
  store.close();
  return dir;
}

const ids = (stdout: string) => stdout.split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s+/)[0]);

describe('agentv runs list --sort', () => {
  it('lists oldest first with --sort started_at, and the More hint continues the same filtered, sorted query', async () => {
    const dir = await repoWithRuns();
    const newest = await runCli(['runs', 'list', '--suite', 'a'], { cwd: dir });
    expect(ids(newest.stdout)).toEqual(['r6', 'r5', 'r4', 'r3', 'r2', 'r1', 'r0']);
    const first = await runCli(['runs', 'list', '--suite', 'a', '--sort', 'started_at', '--limit', '4'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(ids(first.stdout)).toEqual(['r0', 'r1', 'r2', 'r3']);
    const hint = /^More: agentv (.+)$/m.exec(first.stderr)![1]!.split(' ');
    expect(hint).toEqual(expect.arrayContaining(['--suite', 'a', '--sort', 'started_at', '--cursor']));
    const rest = await runCli(hint, { cwd: dir });
    expect(ids(rest.stdout)).toEqual(['r4', 'r5', 'r6']);
    expect(rest.stderr).not.toContain('More:');
    // The JSON document is GET /api/runs with the same query.
    const json = JSON.parse((await runCli(['runs', 'list', '--sort', 'started_at', '--json', '--limit', '3'], { cwd: dir })).stdout);
    expect(json.runs.map((r: { run_id: string }) => r.run_id)).toEqual(['r0', 'r1', 'x0']);
  });

  it('refuses an unknown order, and a cursor from the other order, with exit 2', async () => {
    const dir = await repoWithRuns();
    const bad = await runCli(['runs', 'list', '--sort', 'score'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/started_at/);
    const page = JSON.parse((await runCli(['runs', 'list', '--json', '--limit', '2'], { cwd: dir })).stdout);
    const crossed = await runCli(['runs', 'list', '--sort', 'started_at', '--cursor', page.next_cursor], { cwd: dir });
    expect(crossed.code).toBe(2);
    expect(crossed.stderr).toMatch(/newest-first order/);
  });
});
