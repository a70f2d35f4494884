import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { cleanupRepos, git, makeRepo, tempDir } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';
import { seedRuns } from '../../src/store/seed.js';
import { inputRefOf } from '../../src/store/inputs.js';
import { RESULTS_REF, RowWriter, createRun, finishRun, listRuns, mergeRuns, openStore, reindex, runDir, showRun } from '../../src/store/index.js';

afterEach(cleanupRepos);

describe('the results ref', () => {
  it('stores a run under a sharded path with manifest and row chunks, and never touches the work tree', async () => {
    const dir = makeRepo();
    const before = {
      head: git(dir, 'rev-parse', 'HEAD'),
      status: git(dir, 'status', '--porcelain'),
      branches: git(dir, 'branch', '-a'),
      config: readFileSync(path.join(dir, '.git/config'), 'utf8'),
      index: readFileSync(path.join(dir, '.git/index')),
    };
    const store = await openStore({ repoDir: dir });
    await createRun({ store, manifest: makeManifest('run-1', { source_commit: before.head }) });
    const writer = new RowWriter({ store, runId: 'run-1' });
    for (const t of ['t1', 't2', 't3']) await writer.add(makeRow(t));
    await writer.drain();
    await finishRun({ store, runId: 'run-1', status: 'completed' });
    writer.finish();

    const files = git(dir, 'ls-tree', '-r', '--name-only', RESULTS_REF).split('\n');
    expect(runDir('run-1')).toMatch(/^runs\/[0-9a-f]{2}\/[0-9a-f]{2}\/run-1$/);
    expect(files).toContain(`${runDir('run-1')}/manifest.json`);
    expect(files).toContain(`${runDir('run-1')}/rows/000001.jsonl`);
    expect(files).toContain('index/runs.jsonl');

    // Every commit carries the trailers, so git log --grep and %(trailers) find a run.
    const log = git(dir, 'log', RESULTS_REF, '--format=%(trailers:key=Agentv-Run,valueonly)%(trailers:key=Agentv-Source-Commit,valueonly)');
    const commits = git(dir, 'rev-list', '--count', RESULTS_REF);
    expect(log.split('\n').filter((l) => l === 'run-1').length).toBe(Number(commits));
    expect(log).toContain(before.head);
    expect(git(dir, 'log', RESULTS_REF, '--grep', 'Agentv-Run: run-1', '--format=%H').split('\n').length).toBe(Number(commits));

    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(before.head);
    expect(git(dir, 'status', '--porcelain')).toBe(before.status);
    expect(git(dir, 'branch', '-a')).toBe(before.branches);
    expect(readFileSync(path.join(dir, '.git/config'), 'utf8')).toBe(before.config);
    expect(readFileSync(path.join(dir, '.git/index')).equals(before.index)).toBe(true);
    // The journal is gone once the run is finished.
    expect(existsSync(path.join(dir, '.git/agentv/journal/run-1.jsonl'))).toBe(false);

    const detail = await showRun({ store, runId: 'run-1' });
    expect(detail.run.status).toBe('completed');
    expect(detail.results.map((r) => r.test_id)).toEqual(['t1', 't2', 't3']);
    expect(detail.run.counts?.passed).toBe(3);
    store.close();
  });

  it('writes a group commit as one pack, rolls its packs up and leaves git fsck clean', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    const loose = () => Number(/^count: (\d+)/m.exec(git(dir, 'count-objects', '-v'))![1]);
    await createRun({ store, manifest: makeManifest('run-1') });
    const looseBefore = loose();
    const writer = new RowWriter({ store, runId: 'run-1' });
    for (let commit = 0; commit < 8; commit++) {
      for (let i = 0; i < 40; i++) {
        const input = { prompt: `question ${commit}-${i}`, messages: null, vars: {}, expected_output: null };
        await writer.add(makeRow(`t${commit}-${i}`, { input_ref: inputRefOf(input) }), input);
      }
      await writer.drain();
    }
    writer.finish();
    // Each group commit was packed, and the packs were rolled up as they came (never one per commit).
    expect(store.stats.packs).toBeGreaterThanOrEqual(8);
    expect(store.stats.rollUps).toBeGreaterThan(0);
    expect(loose()).toBe(looseBefore);
    const ours = readdirSync(path.join(dir, '.git/agentv/packs'));
    expect(ours.length).toBeLessThanOrEqual(4);
    expect(readdirSync(path.join(dir, '.git/objects/pack')).filter((f) => f.endsWith('.pack')).sort()).toEqual(ours.map((h) => `pack-${h}.pack`).sort());
    // The same store reads what it packed, and so does git.
    const detail = await showRun({ store, runId: 'run-1' });
    expect(detail.results).toHaveLength(320);
    expect(detail.results.every((r) => r.input?.prompt?.startsWith('question'))).toBe(true);
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
    store.close();
  });

  it('an object a change writes itself, even after its attempt ended, is written loose at once: only edits join the pack', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    let late: Promise<string> | null = null;
    await store.commit({
      subject: 'test: late write',
      runId: null,
      sourceCommit: null,
      change: async () => {
        // Started inside the attempt, finishing after it (and after its pack is written).
        late = new Promise<void>((r) => setTimeout(r, 50)).then(() => store.writeObject('blob', Buffer.from('written late\n')));
        return new Map([['late.txt', 'a file\n'], ['more/a', '1'], ['more/b', '2']]);
      },
    });
    const oid = await late!;
    expect(git(dir, 'cat-file', '-p', oid)).toBe('written late');
    store.close();
  });

  it('a backlog is committed in row chunks of at most 1,024, each with its inputs, and drain() waits for all of them', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    await createRun({ store, manifest: makeManifest('run-1') });
    // Nothing triggers a commit before drain(): 2,500 rows are waiting when it starts.
    const writer = new RowWriter({ store, runId: 'run-1', maxBatch: 1e9, maxDelayMs: 1e9 });
    const shared = { prompt: 'the same question', messages: null, vars: {}, expected_output: null };
    await Promise.all(
      Array.from({ length: 2500 }, (_, i) => {
        const input = i % 2 ? shared : { prompt: `question ${i}`, messages: null, vars: {}, expected_output: null };
        return writer.add(makeRow(`t${i}`, { input_ref: inputRefOf(input) }), input);
      }),
    );
    await writer.drain();
    writer.finish();
    const chunks = git(dir, 'ls-tree', '--name-only', `${RESULTS_REF}:${runDir('run-1')}/rows`).split('\n');
    const sizes = chunks.map((c) => git(dir, 'cat-file', '-p', `${RESULTS_REF}:${runDir('run-1')}/rows/${c}`).split('\n').length);
    expect(sizes).toEqual([1024, 1024, 452]);
    const detail = await showRun({ store, runId: 'run-1' });
    expect(new Set(detail.results.map((r) => r.test_id)).size).toBe(2500);
    // Every row's input is on the ref, the shared one included (written once, found by every row naming it).
    expect(detail.results.every((r) => r.input?.prompt === (Number(r.test_id.slice(1)) % 2 ? 'the same question' : `question ${r.test_id.slice(1)}`))).toBe(true);
    store.close();
  });

  it('takeRest() commits whole chunks and hands over the last group uncommitted, with its inputs; the final commit takes them', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    await createRun({ store, manifest: makeManifest('run-1', { planned_tests: Array.from({ length: 1500 }, (_, i) => ({ test_id: `t${i}`, input_hash: 'h' })) }) });
    const writer = new RowWriter({ store, runId: 'run-1', maxBatch: 1e9, maxDelayMs: 1e9 });
    const inputOf = (i: number) => ({ prompt: `question ${i}`, messages: null, vars: {}, expected_output: null });
    await Promise.all(Array.from({ length: 1500 }, (_, i) => writer.add(makeRow(`t${i}`, { input_ref: inputRefOf(inputOf(i)) }), inputOf(i))));
    const commitsBefore = Number(git(dir, 'rev-list', '--count', RESULTS_REF));
    const rest = await writer.takeRest();
    // One whole chunk went; the rest waits for the run's last commit, still in the journal.
    expect(git(dir, 'ls-tree', '--name-only', `${RESULTS_REF}:${runDir('run-1')}/rows`).split('\n')).toHaveLength(1);
    expect(rest.rows.map((r) => r.test_id)).toEqual(Array.from({ length: 476 }, (_, i) => `t${1024 + i}`));
    expect([...rest.inputs.keys()].sort()).toEqual(rest.rows.map((r) => r.input_ref).sort());
    expect(readFileSync(writer.journal.file, 'utf8').trim().split('\n')).toHaveLength(1500);
    await finishRun({ store, runId: 'run-1', status: 'completed', ...rest });
    writer.finish();
    expect(Number(git(dir, 'rev-list', '--count', RESULTS_REF))).toBe(commitsBefore + 2);
    const detail = await showRun({ store, runId: 'run-1' });
    expect(detail.run).toMatchObject({ status: 'completed', counts: { completed_count: 1500 } });
    expect(detail.results.filter((r) => r.input?.prompt === `question ${r.test_id.slice(1)}`)).toHaveLength(1500);
    store.close();
  });

  it('rows handed over by takeRest() whose final commit failed are given back and committed with their inputs', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    await createRun({ store, manifest: makeManifest('run-1') });
    const writer = new RowWriter({ store, runId: 'run-1', maxBatch: 1e9, maxDelayMs: 1e9 });
    const inputOf = (i: number) => ({ prompt: `question ${i}`, messages: null, vars: {}, expected_output: null });
    await Promise.all([0, 1, 2].map((i) => writer.add(makeRow(`t${i}`, { input_ref: inputRefOf(inputOf(i)) }), inputOf(i))));
    const rest = await writer.takeRest();
    expect(rest.rows).toHaveLength(3);
    // A final commit that fails (here: it names a run that is not there) leaves them with the caller.
    await expect(finishRun({ store, runId: 'run-gone', status: 'completed', ...rest })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    writer.giveBack(rest);
    await writer.drain();
    writer.finish();
    const detail = await showRun({ store, runId: 'run-1' });
    expect(detail.results.map((r) => r.input?.prompt).sort()).toEqual(['question 0', 'question 1', 'question 2']);
    store.close();
  });

  it('a reindex commit names the runs it changes in Agentv-Run trailers', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    for (const id of ['a', 'b']) await createRun({ store, manifest: makeManifest(id) });
    // Drop the index so that reindex has something to rebuild.
    await store.commit({ subject: 'drop index', runId: ['a', 'b'], sourceCommit: null, change: async () => new Map([['index', null]]) });
    expect((await reindex({ store })).rewritten).toBe(true);
    const trailers = git(dir, 'log', '-1', RESULTS_REF, '--format=%(trailers:key=Agentv-Run,valueonly)');
    expect(trailers.split('\n').filter(Boolean).sort()).toEqual(['a', 'b']);
    const untagged = git(dir, 'log', RESULTS_REF, '--format=%H %(trailers:key=Agentv-Run,valueonly,separator=%x2C)').split('\n').filter((l) => !l.includes(' ') || l.endsWith(' '));
    expect(untagged).toEqual([]);
    store.close();
  });

  it('a commit that covers many runs names at most 20 in trailers and says how many it covers', async () => {
    const dir = makeRepo();
    const seeded = await seedRuns({ repoDir: dir, runs: 45, rowsPerRun: 1 });
    const trailers = git(dir, 'log', '-1', RESULTS_REF, '--format=%(trailers:key=Agentv-Run,valueonly)').split('\n').filter(Boolean);
    expect(trailers).toEqual(seeded.runIds.slice(0, 20));
    expect(git(dir, 'log', '-1', RESULTS_REF, '--format=%(trailers:key=Agentv-Run-Count,valueonly)')).toBe('45');
    const store = await openStore({ repoDir: dir });
    await store.commit({ subject: 'drop index', runId: seeded.runIds, sourceCommit: null, change: async () => new Map([['index', null]]) });
    expect((await reindex({ store })).rewritten).toBe(true);
    expect(git(dir, 'log', '-1', RESULTS_REF, '--format=%(trailers:key=Agentv-Run,valueonly)').split('\n').filter(Boolean)).toHaveLength(20);
    expect(git(dir, 'log', '-1', RESULTS_REF, '--format=%(trailers:key=Agentv-Run-Count,valueonly)')).toBe('45');
    store.close();
  });

  it('a merge commit joining many runs names at most 20 in trailers and says how many it joins', async () => {
    const dir = makeRepo();
    const side = 'refs/agentv/test/side';
    // The merge keeps the bigger side's index and names the other side's runs: 25 of them here.
    await seedRuns({ repoDir: dir, runs: 25, rowsPerRun: 1 });
    await seedRuns({ repoDir: dir, runs: 30, rowsPerRun: 1, ref: side });
    const store = await openStore({ repoDir: dir });
    const m = await mergeRuns({ store, theirs: git(dir, 'rev-parse', side), subject: 'merge the side ref' });
    store.close();
    expect(m.kind).toBe('merged');
    expect(git(dir, 'log', '-1', RESULTS_REF, '--format=%P').split(' ')).toHaveLength(2);
    expect(git(dir, 'log', '-1', RESULTS_REF, '--format=%(trailers:key=Agentv-Run,valueonly)').split('\n').filter(Boolean)).toHaveLength(20);
    expect(git(dir, 'log', '-1', RESULTS_REF, '--format=%(trailers:key=Agentv-Run-Count,valueonly)')).toBe('25');
  });

  it('is invisible to git branch -a and to a default clone', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    await createRun({ store, manifest: makeManifest('run-1') });
    store.close();
    expect(git(dir, 'branch', '-a')).not.toContain('agentv');
    const clone = path.join(tempDir(), 'clone');
    git(path.dirname(clone), 'clone', '-q', `file://${dir}`, clone);
    expect(git(clone, 'for-each-ref', '--format=%(refname)')).not.toContain('agentv');
  });

  it('refuses a run id that already exists', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    await createRun({ store, manifest: makeManifest('run-1') });
    await expect(createRun({ store, manifest: makeManifest('run-1') })).rejects.toMatchObject({ code: 'USAGE' });
    store.close();
  });

  it('works in a repository without any commit on HEAD', async () => {
    const dir = makeRepo({ commit: false });
    const store = await openStore({ repoDir: dir });
    await createRun({ store, manifest: makeManifest('run-1') });
    expect((await showRun({ store, runId: 'run-1' })).run.run_id).toBe('run-1');
    expect(git(dir, 'status', '--porcelain')).toBe('');
    store.close();
  });
});

describe('openStore', () => {
  it('opens from any directory inside the repository, and a read of what is there starts no git', async () => {
    const dir = makeRepo();
    mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
    const writer = await openStore({ repoDir: path.join(dir, 'a', 'b') });
    await createRun({ store: writer, manifest: makeManifest('run-1') });
    writer.close();
    const store = await openStore({ repoDir: path.join(dir, 'a', 'b') });
    expect((await showRun({ store, runId: 'run-1' })).run.run_id).toBe('run-1');
    expect((await listRuns({ store, query: {} })).runs.map((r) => r.run_id)).toEqual(['run-1']);
    // The ref and every object came from the files (local-objects.ts): no cat-file was started.
    expect(store.reader.spawned).toBe(0);
    store.close();
    await expect(openStore({ repoDir: tempDir() })).rejects.toMatchObject({ code: 'NOT_A_REPO' });
  });
});
