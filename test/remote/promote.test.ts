// `results promote`: copy the history to a separate results repository and
// send later runs there, by local path (opened directly) or by URL (agentv's
// cache, pushed after each eval); `.agentv/config.yaml` is validated.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { cliOk } from '../helpers/expect.js';
import { cleanupRepos, git, makeRepo, tempDir } from '../helpers/repo.js';

afterEach(cleanupRepos);

const REF = 'refs/agentv/runs/v1';

function sourceRepo(): string {
  const dir = makeRepo();
  writeFileSync(path.join(dir, 'suite.yaml'), 'name: tiny\ntests:\n  - id: a\n    vars: { input: hello }\n');
  return dir;
}

const evalRun = async (dir: string) => JSON.parse((await cliOk(dir, 'eval', 'suite.yaml', '--target', 'echo', '--json')).stdout).run_id as string;

const listed = async (dir: string) =>
  (JSON.parse((await cliOk(dir, 'runs', 'list', '--json')).stdout).runs as { run_id: string }[]).map((r) => r.run_id).sort();

const runsIn = (repo: string) =>
  git(repo, 'ls-tree', '-r', '--name-only', REF, 'runs')
    .split('\n')
    .filter((p) => p.endsWith('/manifest.json'))
    .map((p) => p.split('/')[3])
    .sort();

describe('results promote', () => {
  it('to a new local path: creates a bare repository, copies the runs, and later runs go there', async () => {
    const src = sourceRepo();
    mkdirSync(path.join(src, '.agentv'));
    writeFileSync(path.join(src, '.agentv/config.yaml'), '# team settings\nstudio: { port: 4000 }\n');
    const before = await evalRun(src);
    // Given relative to the current folder (a subfolder), recorded relative to the repository root.
    const results = path.join(tempDir(), 'results.git');
    const sub = path.join(src, 'evals');
    mkdirSync(sub);
    const rel = path.relative(src, results);
    const out = JSON.parse((await cliOk(sub, 'results', 'promote', '--to', path.relative(sub, results), '--json')).stdout);
    expect(out).toMatchObject({ kind: 'path', config_value: rel, push: { result: 'pushed' } });
    expect(git(results, 'rev-parse', '--is-bare-repository')).toBe('true');
    const config = readFileSync(path.join(src, '.agentv/config.yaml'), 'utf8');
    expect(config).toContain('# team settings');
    expect(config).toMatch(/studio: \{ port: 4000 \}/);
    expect(config).toContain(`results:\n  repo: ${rel}\n`);

    const after = await evalRun(src);
    expect(await listed(src)).toEqual([before, after].sort());
    expect(runsIn(results)).toEqual([before, after].sort());
    // The source repository's own ref keeps what it had; new runs went to the results repository.
    expect(runsIn(src)).toEqual([before]);
    await cliOk(src, 'results', 'reindex', '--check');
  });

  it('to a URL: later evals are pushed there from the cache, and a teammate sees every run', async () => {
    const src = sourceRepo();
    const results = path.join(tempDir(), 'results.git');
    git(path.dirname(results), 'init', '-q', '--bare', results);
    const url = `file://${results}`;
    const before = await evalRun(src);
    await cliOk(src, 'results', 'promote', '--to', url);
    expect(runsIn(results)).toEqual([before]);
    const after = await evalRun(src);
    expect(runsIn(results)).toEqual([before, after].sort());
    expect(await listed(src)).toEqual([before, after].sort());
    expect(existsSync(path.join(src, '.git/agentv/results'))).toBe(true);

    // A teammate with the same config (committed with the code) pulls and lists them.
    const mate = makeRepo();
    mkdirSync(path.join(mate, '.agentv'));
    writeFileSync(path.join(mate, '.agentv/config.yaml'), readFileSync(path.join(src, '.agentv/config.yaml')));
    expect(await listed(mate)).toEqual([before, after].sort());
  });

  it('a bad .agentv/config.yaml is a configuration error (exit 2) naming file and line, and nothing is written', async () => {
    const src = sourceRepo();
    mkdirSync(path.join(src, '.agentv'));
    for (const [text, re] of [
      ['results:\n  repo: 3\n', /\.agentv\/config\.yaml:2: results\.repo/],
      ['results: [\n', /\.agentv\/config\.yaml:\d+/],
      ['results:\n  repo: ./nowhere\n', /does not exist/],
      ['results:\n  repo: x\n  rpeo: y\n', /results: Unrecognized key/i],
    ] as const) {
      writeFileSync(path.join(src, '.agentv/config.yaml'), text);
      const r = await runCli(['eval', 'suite.yaml', '--target', 'echo'], { cwd: src });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    expect(() => git(src, 'rev-parse', '--verify', '--quiet', REF)).toThrow();
    writeFileSync(path.join(src, '.agentv/config.yaml'), '');
    for (const to of [path.join(src, 'suite.yaml'), path.join(src, '.agentv')]) {
      const bad = await runCli(['results', 'promote', '--to', to], { cwd: src });
      expect(bad.code, bad.stderr).toBe(2);
      expect(bad.stderr).toMatch(/is not a git repository/);
    }
    expect(readFileSync(path.join(src, '.agentv/config.yaml'), 'utf8')).toBe('');
  });
});
