// The run journal (src/store/journal.ts): rows are written at once and synced in
// groups; closing while a sync is in progress waits for it, and nothing appended
// after close() reaches the file (or a descriptor the OS has given to another file).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, readJournal } from '../../src/store/journal.js';
import { cleanupRepos, tempDir } from '../helpers/repo.js';
import { makeRow } from '../helpers/runs.js';

afterEach(cleanupRepos);

describe('Journal', () => {
  it('writes rows at once, resolves each once synced, and closes only after the sync in progress', async () => {
    const file = path.join(tempDir(), 'j', 'run.jsonl');
    const journal = new Journal(file);
    const synced = Array.from({ length: 50 }, (_, i) => journal.append(makeRow(`t${i}`), { defer: i % 2 === 1 }));
    // Written before any sync completes: in the file already (deferred ones with the next immediate one).
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(49);
    journal.close();
    // close() wrote the deferred last row; every append made before it is synced, none fails.
    await Promise.all(synced);
    const rows = readJournal(file);
    expect(rows.damaged).toBe(0);
    expect(rows.rows.map((r) => r.test_id)).toEqual(Array.from({ length: 50 }, (_, i) => `t${i}`));
    await expect(journal.append(makeRow('late'))).rejects.toThrow(/closed/);
    expect(readJournal(file).rows).toHaveLength(50);
  });
});
