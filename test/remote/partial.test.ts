// A results repository reached by URL is served from agentv's partial-clone
// cache: pulling and listing fetch no row blobs; opening a run fetches that
// run's blobs only. The user's repository and its config are not touched.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRun, openResultsStore, pullRuns, pushRuns, reindex, sourceRootOf } from '../../src/store/index.js';
import { cliOk } from '../helpers/expect.js';
import { cleanupRepos, git, makeRepo, tempDir } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';

afterEach(cleanupRepos);

const REF = 'refs/agentv/runs/v1';

/** Objects reachable from the ref that the cache does not have (rev-list never fetches them). */
function missing(cache: string): Set<string> {
  const out = git(cache, 'rev-list', '--objects', '--missing=print', REF);
  return new Set(out.split('\n').filter((l) => l.startsWith('?')).map((l) => l.slice(1)));
}

describe('partial fetch of a results repository', () => {
  it('lists remote runs without their rows, and fetches one run when it is opened', async () => {
    // The shared results repository, as a host that allows filters (GitHub does) serves it.
    const results = path.join(tempDir(), 'results.git');
    git(path.dirname(results), 'init', '-q', '--bare', results);
    git(results, 'config', 'uploadpack.allowFilter', 'true');

    // A teammate evaluates twice and pushes to it.
    const writer = makeRepo();
    git(writer, 'remote', 'add', 'origin', `file://${results}`);
    writeFileSync(path.join(writer, 'suite.yaml'), 'name: tiny\ntests:\n  - id: a\n    vars: { input: hello }\n  - id: b\n    vars: { input: bye }\n');
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push(JSON.parse((await cliOk(writer, 'eval', 'suite.yaml', '--target', 'echo', '--json')).stdout).run_id);
    await cliOk(writer, 'results', 'push');
    const blobs = (runId: string, file: RegExp) =>
      git(writer, 'ls-tree', '-r', REF, 'runs')
        .split('\n')
        .filter((l) => l.includes(`/${runId}/`) && file.test(l))
        .map((l) => l.split(/\s+/)[2]!);
    const rows = ids.map((id) => blobs(id, /\/rows\//));
    expect(rows.every((r) => r.length > 0)).toBe(true);

    // Another repository configured to keep its results there.
    const reader = makeRepo();
    mkdirSync(path.join(reader, '.agentv'));
    writeFileSync(path.join(reader, '.agentv/config.yaml'), `results:\n  repo: file://${results}\n`);
    const config = readFileSync(path.join(reader, '.git/config'), 'utf8');
    const pulled = JSON.parse((await cliOk(reader, 'results', 'pull', '--json')).stdout);
    expect(pulled).toMatchObject({ remote: 'origin', partial: true });

    const cacheRoot = path.join(reader, '.git/agentv/results');
    const [name] = readdirSync(cacheRoot).filter((n) => n.endsWith('.git'));
    const cache = path.join(cacheRoot, name!);
    const before = missing(cache);
    for (const oid of rows.flat()) expect(before.has(oid)).toBe(true);

    const listed = JSON.parse((await cliOk(reader, 'runs', 'list', '--json')).stdout);
    expect(listed.runs.map((r: { run_id: string }) => r.run_id).sort()).toEqual([...ids].sort());
    const afterList = missing(cache);
    for (const oid of rows.flat()) expect(afterList.has(oid)).toBe(true);

    const shown = JSON.parse((await cliOk(reader, 'runs', 'show', ids[0]!, '--json')).stdout);
    expect(shown.results.map((r: { test_id: string }) => r.test_id)).toEqual(['a', 'b']);
    const afterShow = missing(cache);
    for (const oid of rows[0]!) expect(afterShow.has(oid)).toBe(false);
    for (const oid of [...rows[1]!, ...blobs(ids[1]!, /manifest\.json/)]) expect(afterShow.has(oid)).toBe(true);

    // The reader's own repository holds no results ref and kept its config.
    expect(() => git(reader, 'rev-parse', '--verify', '--quiet', REF)).toThrow();
    expect(readFileSync(path.join(reader, '.git/config'), 'utf8')).toBe(config);
  });

  it('two teammates push to it at once from their caches: the merge fetches manifests, not rows', async () => {
    const results = path.join(tempDir(), 'results.git');
    git(path.dirname(results), 'init', '-q', '--bare', results);
    git(results, 'config', 'uploadpack.allowFilter', 'true');
    const teammate = () => {
      const dir = makeRepo();
      mkdirSync(path.join(dir, '.agentv'));
      writeFileSync(path.join(dir, '.agentv/config.yaml'), `results:\n  repo: file://${results}\n`);
      return dir;
    };
    const [a, b] = [teammate(), teammate()];
    const sa = await openResultsStore({ repoDir: a });
    const sb = await openResultsStore({ repoDir: b });
    try {
      expect(sa.mirrorUrl).toBe(`file://${results}`);
      expect(sourceRootOf(sa)).toBe(a);
      await createRun({ store: sa, manifest: makeManifest('run-a', { tests: 2 }), rows: [makeRow('t1'), makeRow('t2')] });
      await createRun({ store: sb, manifest: makeManifest('run-b', { tests: 2 }), rows: [makeRow('t1')] });
      const pushed = await Promise.all([pushRuns({ store: sa, remote: 'origin' }), pushRuns({ store: sb, remote: 'origin' })]);
      for (const p of pushed) expect(p.result).toBe('pushed');
      // Each pulls the other's run (from the results ref or an incoming ref); the second push folds what is left.
      for (const s of [sa, sb]) await pullRuns({ store: s, remote: 'origin' });
      await pushRuns({ store: sa, remote: 'origin' });
      const paths = git(results, 'ls-tree', '-r', '--name-only', 'refs/agentv/runs/v1', 'runs').split('\n');
      for (const [store, other] of [[sa, 'run-b'], [sb, 'run-a']] as const) {
        // The merging cache holds the other run's manifest (for its index row) but not its rows.
        const rowBlob = git(results, 'rev-parse', `refs/agentv/runs/v1:${paths.find((p) => p.includes(`/${other}/rows/`))}`);
        expect(missing(store.repo.commonDir).has(rowBlob)).toBe(true);
        expect((await reindex({ store, check: true })).drift).toEqual([]);
      }
    } finally {
      sa.close();
      sb.close();
    }
    const ids = git(results, 'ls-tree', '-r', '--name-only', 'refs/agentv/runs/v1', 'runs').split('\n').filter((p) => p.endsWith('manifest.json'));
    expect(ids.map((p) => p.split('/')[3]).sort()).toEqual(['run-a', 'run-b']);
    git(results, 'fsck', '--strict', '--no-progress');
  });
});
