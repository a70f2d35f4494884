import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { cleanupRepos, git, makeRepo, tempDir } from '../helpers/repo.js';
import { makeManifest } from '../helpers/runs.js';
import { CLI } from '../helpers/proc.js';
import { buildApp } from '../../src/server/app.js';
import { createRun, openStore } from '../../src/store/index.js';

afterEach(cleanupRepos);

describe('POST /api/remote/sync', () => {
  it('fetches runs pushed by another clone and lists them; the commit link follows a known host', async () => {
    const bare = path.join(tempDir(), 'remote.git');
    git(path.dirname(bare), 'init', '-q', '--bare', bare);
    const other = makeRepo();
    git(other, 'remote', 'add', 'origin', `file://${bare}`);
    const otherStore = await openStore({ repoDir: other });
    await createRun({ store: otherStore, manifest: makeManifest('from-elsewhere') });
    otherStore.close();
    git(other, 'push', '-q', 'origin', 'refs/agentv/runs/v1:refs/agentv/runs/v1');

    const dir = makeRepo();
    git(dir, 'remote', 'add', 'origin', `file://${bare}`);
    const store = await openStore({ repoDir: dir });
    const { app } = await buildApp({ store, cliPath: CLI });
    expect((await app.inject('/api/runs')).json().runs).toEqual([]);
    const r = await app.inject({ method: 'POST', url: '/api/remote/sync' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ remote: 'origin', fetched_runs: 1 });
    expect((await app.inject('/api/runs')).json().runs.map((x: { run_id: string }) => x.run_id)).toEqual(['from-elsewhere']);
    await app.close();

    git(dir, 'remote', 'set-url', 'origin', 'git@github.com:acme/evals.git');
    const linked = await buildApp({ store, cliPath: CLI });
    expect((await linked.app.inject('/api/links')).json().commit_url).toBe('https://github.com/acme/evals/commit/{sha}');
    await linked.app.close();
    store.close();
  });
});
