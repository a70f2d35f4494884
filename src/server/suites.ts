// Suites and targets the launch form offers: YAML files in the repository that
// load as suites (cached by file mtime), and the configured targets plus the
// built-in echo and mock. Nothing else can be launched from a request.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AgentvError } from '../errors.js';
import { listFiles } from '../git/index.js';
import type { SuitesResponse } from '../schemas/studio.js';
import { loadSuite } from '../eval/suite.js';
import { defaultGraderName, defaultTargetName, loadTargetsConfig } from '../eval/targets/index.js';

const BUILT_IN = [
  { name: 'echo', provider: 'echo' },
  { name: 'mock', provider: 'mock' },
];

export class SuiteCatalog {
  private cache = new Map<string, { mtime: number; entry: SuitesResponse['suites'][number] | null }>();

  constructor(private readonly repoDir: string) {}

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
        const entry = await loadSuite({ path: abs, repoDir: this.repoDir }).then(
          (s) => ({ path: s.path, name: s.name, test_count: s.tests.length }),
          () => null,
        );
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
    await loadSuite({ path: abs, repoDir: this.repoDir });
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
