// Studio keeps a run it opened per (tip, run) for the run document and its
// results pages (src/server/run-cache.ts). A run whose owner dies after Studio
// opened it is opened again on the next request, which commits the rows its
// journal holds, even though the tip has not moved.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';
import { CLI, spawnTs, waitExit, waitForLine } from '../helpers/proc.js';
import { buildApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/index.js';

afterAll(cleanupRepos);

describe('a run opened by Studio whose owner then dies', () => {
  it('is opened again: its results page and document show every journaled row', async () => {
    const dir = makeRepo();
    const child = spawnTs('test/helpers/writer-proc.ts', [dir, 'o', '1', '40', 'slow']);
    const journaled: string[] = [];
    await waitForLine(child, (l) => {
      if (l.startsWith('journaled ')) journaled.push(l.split(' ')[2]!);
      return journaled.length >= 12;
    });
    // Frozen, the owner is alive and commits nothing more: Studio opens the run at the tip the kill leaves.
    child.kill('SIGSTOP');
    const store = await openStore({ repoDir: dir });
    const studio = await buildApp({ store, cliPath: CLI });
    try {
      const before = await studio.app.inject('/api/runs/o-0/results?limit=100');
      expect(before.statusCode).toBe(200);
      // Some journaled rows were not committed yet: the later page proves the run was opened again.
      expect(before.json().total).toBeLessThan(journaled.length);
      const tip = (await store.tip())!.commit;
      child.kill('SIGKILL');
      await waitExit(child);
      expect((await store.tip())!.commit).toBe(tip);
      const page = (await studio.app.inject('/api/runs/o-0/results?limit=100')).json();
      const ids = new Set(page.results.map((r: { test_id: string }) => r.test_id));
      for (const n of journaled) expect(ids.has(`t${n}`), `row t${n} journaled before the kill`).toBe(true);
      const doc = (await studio.app.inject('/api/runs/o-0?results=false')).json();
      expect(doc.run.status).toBe('interrupted');
      expect(doc.run.counts.completed_count).toBe(page.total);
    } finally {
      await studio.app.close();
      store.close();
    }
  });
});
