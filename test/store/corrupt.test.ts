import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupRepos, git, makeRepo } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';
import { INDEX_HEAD, createRun, fsck, listRuns, manifestPath, openStore, reindex, showRun } from '../../src/store/index.js';

afterEach(cleanupRepos);

describe('damaged input', () => {
  it('recovers the good lines of a damaged journal and reports the bad ones (event, warning, kept file, fsck)', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    await createRun({ store, manifest: makeManifest('run-1') });
    const journal = path.join(dir, '.git/agentv/journal');
    mkdirSync(journal, { recursive: true });
    writeFileSync(
      path.join(journal, 'run-1.jsonl'),
      `${JSON.stringify(makeRow('t1'))}\n{"test_id": "t2", "trunc\n${JSON.stringify({ nonsense: true })}\n${JSON.stringify(makeRow('t3'))}\n{"torn`,
    );
    const warnings: string[] = [];
    const detail = await showRun({ store, runId: 'run-1', onWarning: (w) => warnings.push(w) });
    expect(detail.results.map((r) => r.test_id)).toEqual(['t1', 't3']);
    expect(detail.run.status).toBe('interrupted');
    expect(detail.resume_reason).toBe('interrupted');
    // Said out loud: to the caller, in the run's events, and the journal is kept for fsck.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/3 journal line\(s\).*line 2 is not valid JSON.*line 3 does not match.*line 5 is cut off/);
    expect(detail.events.find((e) => e.type === 'interrupted')?.detail).toContain('3 journal line(s)');
    expect(existsSync(path.join(journal, 'damaged/run-1.jsonl'))).toBe(true);
    const report = await fsck({ store });
    expect(report.problems).toMatchObject([{ kind: 'kept_damaged_journal', run_id: 'run-1' }]);
    store.close();
  });

  it('a damaged index line fails the listing (CORRUPT, file and line named); --check reports it and reindex repairs it', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    for (const id of ['a', 'b', 'c']) await createRun({ store, manifest: makeManifest(id) });
    await store.commit({
      subject: 'damage',
      runId: null,
      sourceCommit: null,
      change: async (tip) => {
        const head = (await store.readBlob(tip!.tree, INDEX_HEAD))!.toString();
        return new Map([[INDEX_HEAD, head.replace(/\n/, '\n{"run_id": "b", garbage\n')]]);
      },
    });
    await expect(listRuns({ store, query: { limit: 10 } })).rejects.toMatchObject({ code: 'CORRUPT', data: { file: INDEX_HEAD, lines: [2] } });
    const check = await reindex({ store, check: true });
    expect(check.damaged).toBe(1);
    const fixed = await reindex({ store });
    expect(fixed.rewritten).toBe(true);
    const after = await reindex({ store, check: true });
    expect(after.damaged).toBe(0);
    expect(after.drift).toEqual([]);
    expect((await listRuns({ store, query: { limit: 10 } })).runs.map((r) => r.run_id).sort()).toEqual(['a', 'b', 'c']);
    store.close();
  });

  it('a manifest that does not parse is a clear CORRUPT error for that run only', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    for (const id of ['a', 'b']) await createRun({ store, manifest: makeManifest(id) });
    await store.commit({ subject: 'damage', runId: 'b', sourceCommit: null, change: async () => new Map([[manifestPath('b'), '{ not json']]) });
    expect((await listRuns({ store, query: { limit: 10 } })).runs).toHaveLength(2);
    await expect(showRun({ store, runId: 'b' })).rejects.toMatchObject({ code: 'CORRUPT' });
    expect((await showRun({ store, runId: 'a' })).run.run_id).toBe('a');
    const check = await reindex({ store, check: true });
    expect(check.broken.map((b) => b.run_id)).toEqual(['b']);
    expect(check.drift).toEqual([{ run_id: 'b', kind: 'extra' }]);
    store.close();
  });

  it('fsck: rows a dead run left in its journal are pending, --repair commits them; an unreadable incoming ref is named', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    await createRun({ store, manifest: makeManifest('run-1') });
    const journal = path.join(dir, '.git/agentv/journal');
    mkdirSync(journal, { recursive: true });
    writeFileSync(path.join(journal, 'run-1.jsonl'), `${JSON.stringify(makeRow('t1'))}\n${JSON.stringify(makeRow('t2'))}\n`);
    const blob = git(dir, 'rev-parse', 'HEAD:README.md');
    git(dir, 'update-ref', 'refs/agentv/incoming/laptop', blob);
    const found = await fsck({ store });
    expect(found.ok).toBe(false);
    expect(found.problems.map((p) => p.kind).sort()).toEqual(['bad_incoming_ref', 'pending_journal']);
    expect(found.problems.find((p) => p.kind === 'bad_incoming_ref')).toMatchObject({ ref: 'refs/agentv/incoming/laptop', object: blob });
    const fixed = await fsck({ store, repair: true });
    expect(fixed.repaired.map((p) => p.kind)).toEqual(['pending_journal']);
    expect(fixed.problems.map((p) => p.kind)).toEqual(['bad_incoming_ref']);
    expect((await showRun({ store, runId: 'run-1' })).results.map((r) => r.test_id)).toEqual(['t1', 't2']);
    git(dir, 'update-ref', '-d', 'refs/agentv/incoming/laptop');
    expect((await fsck({ store })).ok).toBe(true);
    store.close();
  });
});
