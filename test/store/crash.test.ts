import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { cleanupRepos, git, makeRepo } from '../helpers/repo.js';
import { spawnTs, waitExit, waitForLine } from '../helpers/proc.js';
import { listRuns, openStore, reindex, showRun } from '../../src/store/index.js';

afterEach(cleanupRepos);

/**
 * Few but sharp kill points (after the k-th durable row of 40, group commits of
 * 8): the first row, a group boundary, mid-group, and every row journaled but
 * the run not yet finished. Each one is a different state of journal vs ref.
 */
const KILL_POINTS = [1, 8, 13, 40];

describe('a writer killed with SIGKILL', () => {
  it('loses no journaled row: the next reader commits them and the run reads as interrupted', async () => {
    const dir = makeRepo();
    for (const [round, k] of KILL_POINTS.entries()) {
      const child = spawnTs('test/helpers/writer-proc.ts', [dir, `k${round}`, '1', '40', 'slow']);
      const journaled: string[] = [];
      await waitForLine(child, (l) => {
        if (l.startsWith('journaled ')) journaled.push(l.split(' ')[2]!);
        return journaled.length >= k;
      });
      child.kill('SIGKILL');
      await waitExit(child);

      const store = await openStore({ repoDir: dir });
      const runId = `k${round}-0`;
      // Before any reader touches it, the listing already tells the truth.
      const listed = (await listRuns({ store, query: { limit: 50 } })).runs.find((r) => r.run_id === runId);
      expect(listed?.status).toBe('interrupted');
      const detail = await showRun({ store, runId });
      expect(detail.run.status).toBe('interrupted');
      // Killed after its last row: nothing is left to run, but the run never finished.
      const left = detail.results.length < 40;
      expect(detail.is_resumable).toBe(left);
      expect(detail.resume_reason).toBe(left ? 'interrupted' : null);
      const have = new Set(detail.results.map((r) => r.test_id));
      for (const n of journaled) expect(have.has(`t${n}`), `row t${n} journaled before the kill`).toBe(true);
      expect(detail.events.some((e) => e.type === 'interrupted')).toBe(true);
      expect(existsSync(path.join(dir, '.git/agentv/journal', `${runId}.jsonl`))).toBe(false);
      store.close();
    }
    const store = await openStore({ repoDir: dir });
    expect((await reindex({ store, check: true })).drift).toEqual([]);
    store.close();
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
  });
});
