// One-shot commands load only what they need: `runs list` (human and --json),
// `--help` and `--version` must not load zod, the schemas, the eval engine, the
// server or any package but commander and picocolors. A structural check (which
// modules a real run of the built CLI loads, seen through a module-load hook and
// mapped to sources by the bundle's source maps), never a timing one; the time
// is a bench row (bench/depth.ts, "CLI start-up"). Packages count whether
// loaded from node_modules or bundled into a chunk (zod, commander, picocolors).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedRuns } from '../../src/store/seed.js';
import { CLI } from '../helpers/proc.js';
import { cleanupRepos, makeRepo, tempDir } from '../helpers/repo.js';

let repo: string;
let runId: string;
let hooks: string;

beforeAll(async () => {
  repo = makeRepo();
  runId = (await seedRuns({ repoDir: repo, runs: 3, rowsPerRun: 2 })).runIds[0]!;
  const dir = tempDir();
  hooks = path.join(dir, 'register.mjs');
  writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function load(url, context, next) { appendFileSync(log, url + '\\n'); return next(url, context); }
`,
  );
  // Packages loaded with require() (CommonJS, loaded on first use: src/lazy-require.ts) do not pass
  // the ESM hook: the CommonJS module cache is logged as the process exits.
  writeFileSync(
    hooks,
    `import { createRequire, register } from 'node:module';
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const log = process.env.AGENTV_TEST_LOAD_LOG;
register('./hooks.mjs', { parentURL: import.meta.url, data: { log } });
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(log, Object.keys(cache).map((f) => pathToFileURL(f).href).join('\\n') + '\\n'));
`,
  );
});
afterAll(cleanupRepos);

/** What a run of the built CLI loads: the sources behind each bundle file, and the packages. */
function loads(args: string[], cwd = repo): { sources: string[]; packages: string[]; stdout: string } {
  const log = path.join(tempDir(), 'loads.txt');
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(hooks).href, CLI, ...args], {
    cwd,
    env: { ...process.env, AGENTV_TEST_LOAD_LOG: log },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  const dist = path.dirname(CLI);
  const sources = new Set<string>();
  const packages = new Set<string>();
  for (const url of readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith('file:'))) {
    const file = fileURLToPath(url);
    const pkg = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file);
    if (pkg) packages.add(pkg[1]!.replace(/\\/g, '/'));
    else if (path.dirname(file) === dist) {
      const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
      for (const s of map.sources) {
        const source = s.replace(/^(\.\.\/)+/, '');
        const bundled = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source);
        // A package bundled into a chunk counts as loading that package.
        if (bundled) packages.add(bundled[1]!);
        else sources.add(source);
      }
    }
  }
  return { sources: [...sources].sort(), packages: [...packages].sort(), stdout: r.stdout };
}

/** Sources a one-shot read command must not load (the schemas' zod-free hand checks excepted). */
const HEAVY = [/^src\/schemas\/(?!ids\.ts$|[a-z-]+-check\.ts$)/, /^src\/eval\//, /^src\/server\//, /^src\/report\/(?!text\.ts$)/, /^web\//];

describe('start-up of one-shot commands', () => {
  it('runs list --json loads no zod, schemas, eval engine or server', () => {
    const r = loads(['runs', 'list', '--json']);
    expect(JSON.parse(r.stdout).runs).toHaveLength(3);
    // The hook sees the command's own modules (a check that cannot pass vacuously).
    expect(r.sources).toEqual(expect.arrayContaining(['cli/main.ts', 'cli/commands/runs.ts', 'src/store/list.ts', 'src/store/run-index.ts']));
    expect(r.sources.filter((s) => HEAVY.some((h) => h.test(s)))).toEqual([]);
    expect(r.packages).toEqual(['commander', 'picocolors']);
  });

  it('runs list (the table) loads the same', () => {
    const r = loads(['runs', 'list']);
    expect(r.stdout).toContain(runId);
    expect(r.sources.filter((s) => HEAVY.some((h) => h.test(s)))).toEqual([]);
    expect(r.packages).toEqual(['commander', 'picocolors']);
  });

  it('--help and --version load the registry alone', () => {
    for (const args of [['--help'], ['--version'], ['runs', 'list', '--help']]) {
      const r = loads(args);
      expect(r.sources).toContain('cli/main.ts');
      expect(r.sources.filter((s) => s.startsWith('src/store/') || HEAVY.some((h) => h.test(s)))).toEqual([]);
      expect(r.packages).toEqual(['commander']);
    }
  });

  it('runs show loads no zod, schemas, recovery, eval engine or server', () => {
    const r = loads(['runs', 'show', runId]);
    expect(r.stdout).toContain(runId);
    expect(r.sources).toEqual(expect.arrayContaining(['cli/commands/runs-show.ts', 'src/store/queries.ts', 'src/store/runs.ts', 'src/schemas/manifest-check.ts']));
    expect(r.sources.filter((s) => HEAVY.some((h) => h.test(s)))).toEqual([]);
    // Writing modules stay out: recovery loads only for a run with something to recover.
    expect(r.sources.filter((s) => /^src\/store\/(recover|lifecycle|run-writes|writer|journal)\.ts$/.test(s))).toEqual([]);
    expect(r.packages).toEqual(['commander', 'picocolors']);
    // With --json too, and --history.
    expect(loads(['runs', 'show', runId, '--json', '--history']).packages).toEqual(['commander', 'picocolors']);
  });

  it('eval of a suite of plain prompts loads no template engine, CSV, glob or .env package; one that needs the engine loads it', () => {
    const dir = makeRepo();
    writeFileSync(path.join(dir, 'plain.yaml'), 'name: plain\ntests:\n  - vars: { input: hello }\n    assert: [{ type: contains, value: hello }]\n');
    writeFileSync(path.join(dir, 'filtered.yaml'), "name: filtered\nprompts: ['{{ input | upper }}']\ntests:\n  - vars: { input: hello }\n    assert: [{ type: contains, value: HELLO }]\n");
    const lazy = ['csv-parse', 'csv-stringify', 'dotenv', 'nunjucks', 'tinyglobby'];
    const plain = loads(['eval', 'plain.yaml', '--target', 'echo'], dir);
    expect(plain.sources).toEqual(expect.arrayContaining(['src/eval/template.ts', 'src/eval/suite/load.ts']));
    expect(plain.packages.filter((p) => lazy.includes(p))).toEqual([]);
    const filtered = loads(['eval', 'filtered.yaml', '--target', 'echo'], dir);
    expect(filtered.packages).toContain('nunjucks');
  });

  it('the bundle holds zod with its English messages only (scripts/build.mjs leaves the other locales out)', () => {
    const dist = path.dirname(CLI);
    const locales = new Set<string>();
    for (const f of readdirSync(dist).filter((n) => n.endsWith('.js.map'))) {
      for (const s of (JSON.parse(readFileSync(path.join(dist, f), 'utf8')) as { sources: string[] }).sources) {
        const m = /zod\/v4\/locales\/([^/]+)\.js$/.exec(s);
        if (m) locales.add(m[1]!);
      }
    }
    expect([...locales]).toEqual(['en']);
  });
});
