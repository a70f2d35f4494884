// Many machines pushing runs to one remote at the same moment (SPEC 3.6):
// every push exits 0, every run arrives, nothing is ever forced. A push that
// finds the results ref moved lands on an incoming ref of its own; readers
// and the next writer fold those in.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildApp } from '../../src/server/app.js';
import { createRun, openStore } from '../../src/store/index.js';
import { CLI } from '../helpers/proc.js';
import { runCli } from '../helpers/cli.js';
import { cliOk } from '../helpers/expect.js';
import { cleanupRepos, git, makeRepo, tempDir } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';

afterEach(cleanupRepos);

const REF = 'refs/agentv/runs/v1';
const CLONES = 32;

/** A bare remote with one commit on main that logs every ref update (to prove nothing was forced). */
function bareRemote(): string {
  const bare = path.join(tempDir(), 'remote.git');
  git(path.dirname(bare), 'init', '-q', '--bare', '-b', 'main', bare);
  git(bare, 'config', 'core.logAllRefUpdates', 'always');
  git(makeRepo(), 'push', '-q', bare, 'main');
  return bare;
}

function cloneOf(bare: string): string {
  const dir = path.join(tempDir(), 'clone');
  git(path.dirname(dir), 'clone', '-q', `file://${bare}`, dir);
  git(dir, 'config', 'user.name', 'Test');
  git(dir, 'config', 'user.email', 'test@example.com');
  return dir;
}

/** One new run in a clone, written as `agentv eval` writes it (a commit on the clone's results ref). */
async function addRun(dir: string, runId: string): Promise<void> {
  const store = await openStore({ repoDir: dir });
  try {
    await createRun({ store, manifest: makeManifest(runId, { tests: 2 }), rows: [makeRow('t1'), makeRow('t2')] });
  } finally {
    store.close();
  }
}

async function listedIds(dir: string): Promise<string[]> {
  const r = await cliOk(dir, 'runs', 'list', '--limit', '500', '--json');
  return (JSON.parse(r.stdout).runs as { run_id: string }[]).map((x) => x.run_id).sort();
}

const incomingRefs = (bare: string) => git(bare, 'for-each-ref', '--format=%(refname)', 'refs/agentv/incoming/').split('\n').filter(Boolean);

/** Each value the remote's results ref took descends from the one before: no update was forced. */
function expectFastForwardsOnly(bare: string): number {
  const history = git(bare, 'reflog', 'show', '--format=%H', REF).split('\n').filter(Boolean).reverse();
  for (let i = 1; i < history.length; i++) git(bare, 'merge-base', '--is-ancestor', history[i - 1]!, history[i]!);
  return history.length;
}

describe('pushes under contention', () => {
  it(`${CLONES} clones pushing at once, two rounds: every push exits 0, every run arrives, nothing is forced`, async () => {
    const bare = bareRemote();
    const clones: string[] = [];
    for (let i = 0; i < CLONES; i++) clones.push(cloneOf(bare));
    const runIds: string[] = [];
    for (let round = 1; round <= 2; round++) {
      for (const [i, c] of clones.entries()) {
        const id = `r${round}-c${String(i).padStart(2, '0')}`;
        await addRun(c, id);
        runIds.push(id);
      }
      // All pushes are started before any is awaited: they are in flight together.
      const pushes = await Promise.all(clones.map((c) => runCli(['results', 'push', '--json'], { cwd: c })));
      for (const p of pushes) {
        expect(p.code, p.stderr).toBe(0);
        const doc = JSON.parse(p.stdout);
        expect(doc.result).toBe('pushed');
        expect(['runs', 'incoming']).toContain(doc.landed);
      }
      expectFastForwardsOnly(bare);
    }
    runIds.sort();

    // A fresh clone pulls the results ref and every incoming ref: all 64 runs.
    const fresh = cloneOf(bare);
    const pulled = JSON.parse((await cliOk(fresh, 'results', 'pull', '--json')).stdout);
    expect(pulled.incoming).toBe(incomingRefs(bare).length);
    expect(await listedIds(fresh)).toEqual(runIds);
    await cliOk(fresh, 'results', 'reindex', '--check');

    // The next writer folds the incoming refs into the remote's results ref and deletes them.
    const push = JSON.parse((await cliOk(fresh, 'results', 'push', '--json')).stdout);
    expect(push.folded).toBe(pulled.incoming);
    expect(incomingRefs(bare)).toEqual([]);
    const manifests = git(bare, 'ls-tree', '-r', '--name-only', REF, 'runs').split('\n').filter((p) => p.endsWith('/manifest.json'));
    expect(manifests.map((p) => p.split('/')[3]).sort()).toEqual(runIds);
    expect(expectFastForwardsOnly(bare)).toBeGreaterThanOrEqual(2);
    git(bare, 'fsck', '--strict', '--no-progress');
    await cliOk(bare, 'results', 'reindex', '--check');
    expect(await listedIds(bare)).toEqual(runIds);
  }, 1_800_000);

  it('runs list on a bare results repository folds its incoming refs and deletes them', async () => {
    const bare = bareRemote();
    const [a, b] = [cloneOf(bare), cloneOf(bare)];
    await addRun(a, 'run-a');
    await addRun(b, 'run-b');
    await cliOk(a, 'results', 'push');
    // B's local ref does not descend from the remote's: what a push that lost the race leaves behind.
    git(b, 'push', '-q', 'origin', `${REF}:refs/agentv/incoming/by-hand`);
    expect(await listedIds(bare)).toEqual(['run-a', 'run-b']);
    expect(incomingRefs(bare)).toEqual([]);
    expectFastForwardsOnly(bare);
    await cliOk(bare, 'results', 'reindex', '--check');
    git(bare, 'fsck', '--strict', '--no-progress');
  });

  it("Studio's sync brings in runs that wait on incoming refs", async () => {
    const bare = bareRemote();
    const [a, b, viewer] = [cloneOf(bare), cloneOf(bare), cloneOf(bare)];
    await addRun(a, 'run-a');
    await addRun(b, 'run-b');
    await cliOk(a, 'results', 'push');
    git(b, 'push', '-q', 'origin', `${REF}:refs/agentv/incoming/lost-a-race`);
    const store = await openStore({ repoDir: viewer });
    try {
      const { app } = await buildApp({ store, cliPath: CLI });
      const r = await app.inject({ method: 'POST', url: '/api/remote/sync' });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ remote: 'origin', fetched_runs: 2 });
      expect((await app.inject('/api/runs')).json().runs.map((x: { run_id: string }) => x.run_id).sort()).toEqual(['run-a', 'run-b']);
      await app.close();
    } finally {
      store.close();
    }
    // A reader never deletes the remote's incoming refs; the next writer does.
    expect(incomingRefs(bare)).toEqual(['refs/agentv/incoming/lost-a-race']);
  });

  it('a remote that refuses deletions still takes the runs; its incoming refs stay for readers', async () => {
    const bare = bareRemote();
    // As some hosts protect refs: any push that deletes a ref is declined.
    writeFileSync(path.join(bare, 'hooks/pre-receive'), '#!/bin/sh\nwhile read old new ref; do case $new in 0000000000000000000000000000000000000000) exit 1;; esac; done\n', { mode: 0o755 });
    const [a, b] = [cloneOf(bare), cloneOf(bare)];
    await addRun(a, 'run-a');
    await addRun(b, 'run-b');
    await cliOk(a, 'results', 'push');
    git(b, 'push', '-q', 'origin', `${REF}:refs/agentv/incoming/lost-a-race`);
    await addRun(a, 'run-a2');
    const push = JSON.parse((await cliOk(a, 'results', 'push', '--json')).stdout);
    expect(push).toMatchObject({ result: 'pushed', landed: 'runs', folded: 0 });
    expect(incomingRefs(bare)).toEqual(['refs/agentv/incoming/lost-a-race']);
    const manifests = git(bare, 'ls-tree', '-r', '--name-only', REF, 'runs').split('\n').filter((p) => p.endsWith('/manifest.json'));
    expect(manifests.map((p) => p.split('/')[3]).sort()).toEqual(['run-a', 'run-a2', 'run-b']);
    expectFastForwardsOnly(bare);
  });

  it('a push that cannot land within --push-timeout exits 1 and says the runs are safe locally', async () => {
    const bare = bareRemote();
    const a = cloneOf(bare);
    await addRun(a, 'run-a');
    const local = git(a, 'rev-parse', REF);
    // The remote cannot update either ref for now: its results ref is locked, its incoming reflog directory unusable.
    mkdirSync(path.join(bare, 'refs/agentv/runs'), { recursive: true });
    writeFileSync(path.join(bare, 'refs/agentv/runs/v1.lock'), '');
    mkdirSync(path.join(bare, 'logs/refs/agentv'), { recursive: true });
    writeFileSync(path.join(bare, 'logs/refs/agentv/incoming'), '');
    const r = await runCli(['results', 'push', '--push-timeout', '2s'], { cwd: a });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did not land within 2 s/);
    expect(r.stderr).toMatch(/safe locally/);
    expect(git(a, 'rev-parse', REF)).toBe(local);

    const bad = await runCli(['results', 'push', '--push-timeout', 'soon'], { cwd: a });
    expect(bad.code).toBe(2);

    // A refusal that waiting cannot fix (a hook) fails at once, with the same reassurance.
    const hooked = bareRemote();
    writeFileSync(path.join(hooked, 'hooks/pre-receive'), '#!/bin/sh\necho "no runs here" >&2\nexit 1\n', { mode: 0o755 });
    git(a, 'remote', 'add', 'hooked', `file://${hooked}`);
    const refused = await runCli(['results', 'push', '--remote', 'hooked'], { cwd: a });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/hook declined/);
    expect(refused.stderr).toMatch(/safe locally/);
  });
});
