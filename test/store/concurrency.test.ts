import { afterEach, describe, expect, it } from 'vitest';
import { cleanupRepos, git, makeRepo } from '../helpers/repo.js';
import { spawnTs, waitExit } from '../helpers/proc.js';
import { listRuns, openStore, reindex, showRun } from '../../src/store/index.js';

afterEach(cleanupRepos);

describe('concurrent writers', () => {
  // Enough writers that every commit races others (CAS retries happen), few
  // enough rows that a busy 2-core machine finishes in seconds.
  it('6 processes writing runs to one repository lose no row and no run', async () => {
    const dir = makeRepo();
    const procs = Array.from({ length: 6 }, (_, i) => spawnTs('test/helpers/writer-proc.ts', [dir, `w${i}`, '2', '12']));
    const results = await Promise.all(procs.map(waitExit));
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const store = await openStore({ repoDir: dir });
    const all = [];
    let cursor: string | undefined;
    do {
      const page = await listRuns({ store, query: { limit: 7, cursor } });
      all.push(...page.runs);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(all.map((r) => r.run_id).sort()).toEqual(
      Array.from({ length: 6 }, (_, i) => [0, 1].map((r) => `w${i}-${r}`)).flat().sort(),
    );
    for (const run of all) {
      expect(run.status).toBe('completed');
      const detail = await showRun({ store, runId: run.run_id });
      expect(detail.results).toHaveLength(12);
      expect(detail.results.every((r) => r.attempt === 1)).toBe(true);
    }
    const check = await reindex({ store, check: true });
    expect(check.drift).toEqual([]);
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
    store.close();
  });
});
