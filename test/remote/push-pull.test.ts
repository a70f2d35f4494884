// Sharing runs through a bare remote over file://: concurrent pushers from
// several clones, never a forced update, the same run continued on two sides.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRun, finishRun, openStore, pullRuns, pushRuns, readRun, reindex, updateRun } from '../../src/store/index.js';
import { runCli } from '../helpers/cli.js';
import { cliOk } from '../helpers/expect.js';
import { cleanupRepos, git, makeRepo, tempDir } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';

afterEach(cleanupRepos);

const REF = 'refs/agentv/runs/v1';

/** A bare remote with one commit on main, logging every ref update (to prove nothing was forced). */
function bareRemote(): string {
  const bare = path.join(tempDir(), 'remote.git');
  git(path.dirname(bare), 'init', '-q', '--bare', '-b', 'main', bare);
  git(bare, 'config', 'core.logAllRefUpdates', 'always');
  const seed = makeRepo();
  git(seed, 'push', '-q', bare, 'main');
  return bare;
}

function cloneOf(bare: string): string {
  const dir = path.join(tempDir(), 'clone');
  git(path.dirname(dir), 'clone', '-q', `file://${bare}`, dir);
  git(dir, 'config', 'user.name', 'Test');
  git(dir, 'config', 'user.email', 'test@example.com');
  writeFileSync(path.join(dir, 'suite.yaml'), 'name: tiny\ntests:\n  - id: a\n    vars: { input: hello }\n    assert: [{ type: contains, value: hello }]\n  - id: b\n    vars: { input: bye }\n');
  return dir;
}

async function listedIds(dir: string): Promise<string[]> {
  const r = await cliOk(dir, 'runs', 'list', '--limit', '500', '--json');
  return (JSON.parse(r.stdout).runs as { run_id: string }[]).map((x) => x.run_id).sort();
}

describe('results push / pull / sync', () => {
  it('four clones evaluating and pushing at once, three rounds: every run arrives, nothing is forced, readers fold incoming refs', async () => {
    const bare = bareRemote();
    const clones = Array.from({ length: 4 }, () => cloneOf(bare));
    const configs = clones.map((c) => readFileSync(path.join(c, '.git/config'), 'utf8'));
    const runIds: string[] = [];
    for (let round = 0; round < 3; round++) {
      const evals = await Promise.all(clones.map((c) => cliOk(c, 'eval', 'suite.yaml', '--target', 'echo', '--json')));
      runIds.push(...evals.map((r) => JSON.parse(r.stdout).run_id as string));
      const pushes = (await Promise.all(clones.map((c) => cliOk(c, 'results', 'push', '--json')))).map((p) => JSON.parse(p.stdout));
      // Each push delivered: onto the results ref, or (lost a race) onto an incoming ref of its own.
      for (const p of pushes) {
        expect(p.result).toBe('pushed');
        if (p.landed === 'incoming') expect(git(bare, 'rev-parse', p.incoming_ref)).toBe(p.commit);
        else expect(p.landed).toBe('runs');
      }
    }
    expect(new Set(runIds).size).toBe(12);

    // A reader of the bare repository folds the incoming refs in and deletes them.
    expect(await listedIds(bare)).toEqual([...runIds].sort());
    expect(git(bare, 'for-each-ref', 'refs/agentv/incoming/')).toBe('');
    // Every run is on the remote.
    const manifests = git(bare, 'ls-tree', '-r', '--name-only', REF, 'runs').split('\n').filter((p) => p.endsWith('/manifest.json'));
    expect(manifests.map((p) => p.split('/')[3]).sort()).toEqual([...runIds].sort());
    // No push was forced: each value the remote ref took descends from the one before.
    const history = git(bare, 'reflog', 'show', '--format=%H', REF).split('\n').reverse();
    expect(history.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < history.length; i++) git(bare, 'merge-base', '--is-ancestor', history[i - 1]!, history[i]!);
    // Every commit on the shared ref, merges included, names its runs in trailers.
    const untagged = git(bare, 'log', REF, '--format=%h:%(trailers:key=Agentv-Run,valueonly,separator=%x2C)').split('\n').filter((l) => l.endsWith(':'));
    expect(untagged).toEqual([]);
    git(bare, 'fsck', '--strict', '--no-progress');

    for (const c of clones) await cliOk(c, 'results', 'sync');
    for (const c of clones) {
      await cliOk(c, 'results', 'pull');
      expect(git(c, 'rev-parse', REF)).toBe(git(bare, 'rev-parse', REF));
      expect(await listedIds(c)).toEqual([...runIds].sort());
      await cliOk(c, 'results', 'reindex', '--check');
      expect(git(c, 'status', '--porcelain')).toBe('?? suite.yaml');
    }
    // The user's remote.* config is untouched (explicit refspecs only, no partial-clone settings).
    expect(clones.map((c) => readFileSync(path.join(c, '.git/config'), 'utf8'))).toEqual(configs);
  });

  it('pull fast-forwards into an empty clone and lists the remote runs; exit 2 without a remote', async () => {
    const bare = bareRemote();
    const [a, b] = [cloneOf(bare), cloneOf(bare)];
    const runId = JSON.parse((await cliOk(a, 'eval', 'suite.yaml', '--target', 'echo', '--json')).stdout).run_id;
    expect(JSON.parse((await cliOk(a, 'results', 'push', '--json')).stdout)).toMatchObject({ remote: 'origin', result: 'pushed', landed: 'runs', attempts: 1, folded: 0 });
    const pulled = JSON.parse((await cliOk(b, 'results', 'pull', '--json')).stdout);
    expect(pulled).toMatchObject({ remote: 'origin', result: 'fast_forward', new_runs: 1, partial: false });
    expect(git(b, 'rev-parse', 'refs/agentv/remotes/origin/runs/v1')).toBe(git(a, 'rev-parse', REF));
    expect(await listedIds(b)).toEqual([runId]);
    expect(JSON.parse((await cliOk(b, 'results', 'pull', '--json')).stdout).result).toBe('up_to_date');

    const lonely = makeRepo();
    const r = await runCli(['results', 'push'], { cwd: lonely });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no git remote/);
    const wrong = await runCli(['results', 'pull', '--remote', 'nope'], { cwd: a });
    expect(wrong.code).toBe(2);
  });

  it('the same run continued on both sides: the newer manifest wins and row chunks are a union', async () => {
    const bare = bareRemote();
    const [a, b] = [cloneOf(bare), cloneOf(bare)];
    const sa = await openStore({ repoDir: a });
    const sb = await openStore({ repoDir: b });
    const rows = (store: typeof sa, runId: string, ...r: Parameters<typeof makeRow>[]) =>
      updateRun({ store, runId, update: { rows: r.map((x) => makeRow(...x)), subject: 'rows' } });
    try {
      for (const id of ['shared-1', 'shared-2']) await createRun({ store: sa, manifest: makeManifest(id, { tests: 4 }), rows: [makeRow('t1')] });
      await pushRuns({ store: sa, remote: 'origin' });
      await pullRuns({ store: sb, remote: 'origin' });
      // shared-1: A finishes it while B adds two chunks. shared-2: the other way round.
      await rows(sa, 'shared-1', ['t2']);
      await finishRun({ store: sa, runId: 'shared-1', status: 'completed' });
      await rows(sb, 'shared-1', ['t2', { output: 'other' }]);
      await rows(sb, 'shared-1', ['t3']);
      await rows(sa, 'shared-2', ['t2']);
      await finishRun({ store: sb, runId: 'shared-2', status: 'completed' });
      // A has more runs, so B's merge keeps A's index and upserts B's own runs into it.
      for (const id of ['only-a-1', 'only-a-2']) await createRun({ store: sa, manifest: makeManifest(id, { tests: 1 }) });
      await createRun({ store: sb, manifest: makeManifest('only-b', { tests: 1 }) });
      await pushRuns({ store: sa, remote: 'origin' });
      const pushed = await pushRuns({ store: sb, remote: 'origin' });
      expect(pushed).toMatchObject({ result: 'pushed', landed: 'runs', attempts: 1, merges: 1 });

      const tip = git(b, 'rev-parse', REF);
      expect(git(b, 'log', '-1', '--format=%s', tip)).toBe('merge runs from origin');
      expect(git(b, 'rev-list', '--parents', '-n1', tip).split(' ')).toHaveLength(3);
      const one = await readRun({ store: sb, runId: 'shared-1' });
      expect(one.manifest.status).toBe('completed');
      // chunk 1 (both), chunk 2 (A's: the newer side wins the clash), chunk 3 (only B's).
      expect(one.rows.map((r) => `${r.test_id}:${r.output}`)).toEqual(['t1:out t1', 't2:out t2', 't3:out t3']);
      const two = await readRun({ store: sb, runId: 'shared-2' });
      expect(two.manifest.status).toBe('completed');
      expect(two.rows.map((r) => r.test_id)).toEqual(['t1', 't2']);
      expect((await reindex({ store: sb, check: true })).drift).toEqual([]);
      await pullRuns({ store: sa, remote: 'origin' });
      expect(git(a, 'rev-parse', REF)).toBe(tip);
    } finally {
      sa.close();
      sb.close();
    }
    await cliOk(a, 'results', 'reindex', '--check');
    expect(await listedIds(a)).toEqual(['only-a-1', 'only-a-2', 'only-b', 'shared-1', 'shared-2']);
    const listed = JSON.parse((await cliOk(a, 'runs', 'list', '--json')).stdout).runs as { run_id: string; status: string }[];
    expect(listed.filter((r) => r.run_id.startsWith('shared')).map((r) => r.status)).toEqual(['completed', 'completed']);
  });
});
