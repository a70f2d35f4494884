// Suites and targets the launch form offers: YAML files in the repository that
// load as suites (cached by file mtime), and the configured targets plus the
// built-in echo and mock. Nothing else can be launched from a request. Suites are
// loaded in a worker thread (suite-worker.ts) where the build has one, so a huge
// suite never holds up the server's other requests.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AgentvError, type ErrorCode } from '../errors.js';
import { listFiles } from '../git/index.js';
import type { SuiteEntry, SuitesResponse } from '../schemas/studio.js';
import { loadSuite } from '../eval/suite.js';
import { suiteEntry, type SuiteAnswer, type SuiteJob } from './suite-worker.js';
import { defaultGraderName, defaultTargetName, loadTargetsConfig } from '../eval/targets/index.js';

const BUILT_IN = [
  { name: 'echo', provider: 'echo' },
  { name: 'mock', provider: 'mock' },
];

/**
 * One long-lived worker that loads suites in turn. Built code has dist/suite-worker.js
 * beside its chunks; run from source (tests of buildApp) there is none, and suites load
 * in-process as before.
 */
class SuiteLoader {
  private worker: Worker | null = null;
  private next = 1;
  private pending = new Map<number, { resolve: (e: SuiteEntry) => void; reject: (e: Error) => void }>();
  private readonly file = fileURLToPath(new URL('./suite-worker.js', import.meta.url));

  async load(abs: string, repoDir: string): Promise<SuiteEntry> {
    if (!existsSync(this.file)) {
      const s = await loadSuite({ path: abs, repoDir });
      return suiteEntry(s);
    }
    const worker = this.start();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, path: abs, repoDir } satisfies SuiteJob);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.file);
    w.on('message', (a: SuiteAnswer) => {
      const p = this.pending.get(a.id);
      if (!p) return;
      this.pending.delete(a.id);
      if (this.pending.size === 0) w.unref();
      if (a.ok) p.resolve(a.suite);
      else p.reject(new AgentvError(a.error.code as ErrorCode, a.error.message, a.error.data));
    });
    // A worker that dies (out of memory on a pathological file) fails what it held; the next load starts a new one.
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = null;
      for (const p of this.pending.values()) p.reject(new AgentvError('SUITE_INVALID', `the suite could not be loaded: ${err.message}`));
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the loader stopped (exit ${code})`)));
    w.unref();
    this.worker = w;
    return w;
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = null;
  }
}

export class SuiteCatalog {
  private cache = new Map<string, { mtime: number; entry: SuiteEntry | null }>();
  private readonly loader = new SuiteLoader();

  constructor(private readonly repoDir: string) {}

  close(): void {
    this.loader.close();
  }

  async suites(): Promise<SuitesResponse['suites']> {
    const files = (await listFiles({ cwd: this.repoDir, pathspecs: ['*.yaml', '*.yml'] })).filter(
      (f) => !f.startsWith('.agentv/') && !f.includes('node_modules/'),
    );
    const out: SuitesResponse['suites'] = [];
    for (const file of files.slice(0, 2_000)) {
      const abs = path.join(this.repoDir, file);
      const mtime = await stat(abs).then((s) => s.mtimeMs, () => -1);
      if (mtime < 0) continue;
      let hit = this.cache.get(file);
      if (!hit || hit.mtime !== mtime) {
        const entry = await this.loader.load(abs, this.repoDir).catch(() => null);
        hit = { mtime, entry };
        this.cache.set(file, hit);
      }
      if (hit.entry) out.push(hit.entry);
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  async targets(): Promise<Pick<SuitesResponse, 'targets' | 'default_target' | 'default_grader'>> {
    const config = await loadTargetsConfig({ repoDir: this.repoDir });
    const configured = (config?.targets ?? []).map((t) => ({ name: t.name, provider: t.provider }));
    const names = new Set(configured.map((t) => t.name));
    return {
      targets: [...configured, ...BUILT_IN.filter((b) => !names.has(b.name))],
      default_target: defaultTargetName(config),
      default_grader: defaultGraderName(config),
    };
  }

  /** A suite path from a request: inside the repository and an existing file, or a 400/404. */
  async resolveSuite(p: string): Promise<string> {
    const abs = path.resolve(this.repoDir, p);
    const rel = path.relative(this.repoDir, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new AgentvError('USAGE', `suite path must be inside the repository: ${p}`);
    const s = await stat(abs).catch(() => null);
    if (!s?.isFile() || !/\.ya?ml$/i.test(abs)) throw new AgentvError('SUITE_NOT_FOUND', `unknown suite: ${p}`);
    // Load it now: a broken suite is a 400 with its problems, not a job that fails later.
    await this.loader.load(abs, this.repoDir);
    return rel.split(path.sep).join('/');
  }

  /** A target name from a request must be configured (or built in): never a definition. */
  async checkTarget(name: string): Promise<void> {
    const { targets } = await this.targets();
    if (!targets.some((t) => t.name === name)) {
      throw new AgentvError('TARGET_NOT_FOUND', `unknown target: ${name} (known: ${targets.map((t) => t.name).join(', ')})`);
    }
  }
}
