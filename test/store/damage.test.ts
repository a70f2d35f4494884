// Nothing damaged passes silently: each kind of damage, read by each reader
// (runs list, runs show, reindex --check, Studio, fsck), is an error that names
// what is damaged (exit 3 / a readable 5xx), never "no runs" or "healthy".
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TEST_OBJECT_FORMAT, cleanupRepos, deleteObject, git, makeRepo } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';
import { runCli } from '../helpers/cli.js';
import { CLI } from '../helpers/proc.js';
import { buildApp } from '../../src/server/app.js';
import {
  INDEX_HEAD,
  RESULTS_REF,
  createRun,
  digestPath,
  finishRun,
  manifestPath,
  openStore,
  runDir,
  updateRun,
  type Store,
} from '../../src/store/index.js';
import { FsckReport } from '../../src/schemas/fsck.js';

afterEach(cleanupRepos);

/** A repository with runs a, b, c; run b has rows in two chunks. */
async function repoWithRuns(): Promise<{ dir: string; store: Store }> {
  const dir = makeRepo();
  const store = await openStore({ repoDir: dir });
  for (const id of ['a', 'b', 'c']) {
    await createRun({ store, manifest: makeManifest(id, { tests: 4 }), rows: id === 'b' ? [makeRow('t1'), makeRow('t2')] : [] });
  }
  await updateRun({ store, runId: 'b', update: { rows: [makeRow('t3'), makeRow('t4')], subject: 'rows' } });
  await finishRun({ store, runId: 'b', status: 'completed' });
  return { dir, store };
}

async function damage(store: Store, file: string, edit: (text: string) => string): Promise<void> {
  await store.commit({
    subject: 'damage',
    runId: null,
    sourceCommit: null,
    change: async (tip) => new Map([[file, edit((await store.readBlob(tip!.tree, file))!.toString())]]),
  });
}

async function fsckJson(dir: string, ...extra: string[]) {
  const r = await runCli(['results', 'fsck', '--json', ...extra], { cwd: dir });
  return { code: r.code, stderr: r.stderr, report: FsckReport.parse(JSON.parse(r.stdout)) };
}

async function studioGet(store: Store, url: string) {
  const studio = await buildApp({ store, cliPath: CLI, version: 't' });
  try {
    return await studio.app.inject(url);
  } finally {
    await studio.app.close();
  }
}

describe('a results ref whose tip commit is missing', () => {
  it('is an error naming the commit for every reader, never "No runs yet"', async () => {
    const { dir, store } = await repoWithRuns();
    store.close();
    const missing = 'deadbeef'.repeat(TEST_OBJECT_FORMAT === 'sha256' ? 8 : 5);
    git(dir, 'pack-refs', '--all');
    mkdirSync(path.join(dir, '.git/refs/agentv/runs'), { recursive: true });
    writeFileSync(path.join(dir, '.git/refs/agentv/runs/v1'), `${missing}\n`);

    const list = await runCli(['runs', 'list'], { cwd: dir });
    expect(list.code).toBe(3);
    expect(list.stderr).toContain(missing);
    expect(list.stderr).not.toMatch(/No runs yet/);
    const check = await runCli(['results', 'reindex', '--check'], { cwd: dir });
    expect(check.code).toBe(3);
    expect(check.stderr).not.toMatch(/index ok/);
    expect((await runCli(['runs', 'show', 'a'], { cwd: dir })).code).toBe(3);

    const f = await fsckJson(dir);
    expect(f.code).toBe(1);
    expect(f.report.problems.map((p) => p.kind)).toEqual(['bad_tip']);
    expect(f.report.problems[0]!.object).toBe(missing);

    // A ref file git cannot even parse is damage too, not an empty store.
    writeFileSync(path.join(dir, '.git/refs/agentv/runs/v1'), 'not an object id\n');
    const broken = await runCli(['runs', 'list'], { cwd: dir });
    expect(broken.code).toBe(3);
    expect(broken.stderr).toMatch(/malformed/);
    writeFileSync(path.join(dir, '.git/refs/agentv/runs/v1'), `${missing}\n`);

    const s = await openStore({ repoDir: dir });
    const r = await studioGet(s, '/api/runs');
    s.close();
    expect(r.statusCode).toBe(500);
    expect(r.json().error.code).toBe('CORRUPT');
    expect(r.json().error.message).toContain(missing);
    expect(r.body).not.toContain(dir);
  });
});

describe('a garbled index file', () => {
  it('fails the listing with the file and line, is found by fsck and rebuilt by fsck --repair', async () => {
    const { dir, store } = await repoWithRuns();
    await damage(store, INDEX_HEAD, () => '\u0000\u0001 garbage {\nnot json either\n');
    const list = await runCli(['runs', 'list'], { cwd: dir });
    expect(list.code).toBe(3);
    expect(list.stderr).toContain(INDEX_HEAD);
    expect(list.stderr).toMatch(/line 1/);
    expect(list.stderr).toMatch(/agentv results reindex/);

    const r = await studioGet(store, '/api/runs');
    expect(r.statusCode).toBe(500);
    expect(r.json().error).toMatchObject({ code: 'CORRUPT' });
    expect(r.json().error.message).toContain(INDEX_HEAD);

    const f = await fsckJson(dir);
    expect(f.code).toBe(1);
    expect(f.report.problems.find((p) => p.kind === 'damaged_index')).toMatchObject({ file: INDEX_HEAD, lines: [1, 2], repairable: true });
    const repaired = await fsckJson(dir, '--repair');
    expect(repaired.code).toBe(0);
    expect(repaired.report.repaired.map((p) => p.kind)).toContain('damaged_index');
    expect(repaired.report.problems).toEqual([]);
    const after = await runCli(['runs', 'list', '--json'], { cwd: dir });
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout).runs.map((x: { run_id: string }) => x.run_id).sort()).toEqual(['a', 'b', 'c']);
    store.close();
  });
});

describe('a garbled row chunk', () => {
  it('is an error naming the chunk (not "2/4 done"); fsck finds it and --repair never deletes it', async () => {
    const { dir, store } = await repoWithRuns();
    const chunk = `${runDir('b')}/rows/000002.jsonl`;
    await damage(store, chunk, (t) => `${t.split('\n')[0]}\n{"test_id": "t4", garbage\n`);
    const show = await runCli(['runs', 'show', 'b'], { cwd: dir });
    expect(show.code).toBe(3);
    expect(show.stderr).toContain('rows/000002.jsonl');
    expect(show.stderr).toMatch(/line 2/);
    expect(show.stdout).not.toMatch(/done/);

    const r = await studioGet(store, '/api/runs/b');
    expect(r.statusCode).toBe(500);
    expect(r.json().error.code).toBe('CORRUPT');
    expect(r.json().error.message).toContain('rows/000002.jsonl');
    expect(r.body).not.toMatch(/\n\s+at /);

    const f = await fsckJson(dir, '--repair');
    expect(f.code).toBe(1);
    expect(f.report.problems.find((p) => p.kind === 'damaged_rows')).toMatchObject({ run_id: 'b', file: chunk, lines: [2], repairable: false });
    // The damaged chunk is still there, byte for byte.
    expect(git(dir, 'show', `${RESULTS_REF}:${chunk}`)).toContain('garbage');
    expect((await runCli(['runs', 'show', 'a'], { cwd: dir })).code).toBe(0);
    store.close();
  });
});

describe('a missing manifest blob', () => {
  it('is damage (exit 3, the object named), not "run not found"', async () => {
    const { dir, store } = await repoWithRuns();
    store.close();
    const oid = git(dir, 'rev-parse', `${RESULTS_REF}:${manifestPath('a')}`);
    // Remove that one object (agentv writes packs: they are unpacked first); the tree still names it.
    deleteObject(dir, oid);
    const show = await runCli(['runs', 'show', 'a'], { cwd: dir });
    expect(show.code).toBe(3);
    expect(show.stderr).toContain(oid);
    const f = await fsckJson(dir);
    expect(f.report.problems.map((p) => p.kind)).toEqual(expect.arrayContaining(['missing_object', 'bad_manifest']));
  });
});

describe('a results digest that disagrees with its rows, or does not parse', () => {
  it('is bad_digest in fsck (exit 1) and rebuilt from the rows by fsck --repair; a digest rows have outgrown is not a problem', async () => {
    const { dir, store } = await repoWithRuns();
    // Rows appended to a running run after its digest was written: readers do not use that digest; fsck is clean.
    await updateRun({ store, runId: 'a', update: { rows: [makeRow('t1')], subject: 'rows' } });
    expect((await fsckJson(dir)).code).toBe(0);

    const b = digestPath('b');
    const good = git(dir, 'show', `${RESULTS_REF}:${b}`);
    // b's digest still covers its chunks but says t1 failed; c's is cut off.
    await damage(store, b, (t) => {
      const d = JSON.parse(t);
      d.tests[0][3] = 'q';
      d.tests[0][4] = 0;
      return `${JSON.stringify(d)}\n`;
    });
    await damage(store, digestPath('c'), (t) => t.slice(0, 20));

    const f = await fsckJson(dir);
    expect(f.code).toBe(1);
    const bad = f.report.problems.filter((p) => p.kind === 'bad_digest');
    expect(bad.map((p) => p.run_id).sort()).toEqual(['b', 'c']);
    expect(bad.find((p) => p.run_id === 'b')).toMatchObject({ file: b, repairable: true, message: expect.stringMatching(/disagrees with the run's rows \(tests\)/) });
    expect(bad.find((p) => p.run_id === 'c')?.message).toMatch(/not valid JSON/);
    expect(f.stderr).toMatch(/bad_digest: run b/);

    const repaired = await fsckJson(dir, '--repair');
    expect(repaired.code).toBe(0);
    expect(repaired.report.repaired.filter((p) => p.kind === 'bad_digest')).toHaveLength(2);
    expect(repaired.report.problems).toEqual([]);
    expect(git(dir, 'show', `${RESULTS_REF}:${b}`)).toBe(good);
    // Studio answers from the rebuilt digest what every row says.
    const doc = (await studioGet(store, '/api/runs/b?results=false')).json();
    expect(doc).toMatchObject({ has_not_ok: false, run: { counts: { completed_count: 4, passed: 4 } } });
    store.close();
  });
});
