// Where the results live. By default: the source repository's own ref. With
// `.agentv/config.yaml` `results: {repo}` (written by `results promote`): a
// local path is opened directly; a URL is served from agentv's partial-clone
// cache of it (<git-common-dir>/agentv/results/<hash>.git), pushed after evals.
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { AgentvError } from '../errors.js';
import { initRepo, openRepo, type Repo } from '../git/index.js';
import type { AgentvConfig } from '../schemas/config.js';
import { RESULTS_REF } from './layout.js';
import type { PromoteResult } from '../schemas/results.js';
import { Store } from './store.js';

export const CONFIG_FILE = '.agentv/config.yaml';

/** A store that knows the source repository it records runs of (they differ once results are promoted). */
export class ResultsStore extends Store {
  constructor(
    repo: Repo,
    ref: string,
    now: () => Date,
    readonly source: Repo,
    /** The results repository URL when `repo` is agentv's cache of it; pushed to after evals. */
    readonly mirrorUrl: string | null,
  ) {
    super(repo, ref, now);
  }
}

/** The source repository of a store: suites, `.agentv/`, HEAD. */
export function sourceOf(store: Store): Repo {
  return store instanceof ResultsStore ? store.source : store.repo;
}

export function sourceRootOf(store: Store): string {
  return sourceOf(store).root;
}

/** URLs (scheme:// or scp-like user@host:path) versus local paths. */
export function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^[^/\\\s]+@[^/\\\s]+:/.test(s);
}

function configError(file: string, message: string, line?: number): AgentvError {
  const where = line === undefined ? file : `${file}:${line}`;
  return new AgentvError('CONFIG', `${where}: ${message}`, { file, ...(line !== undefined && { line }) });
}

async function readText(file: string): Promise<string | null> {
  try {
    // Read at once: every command looks for the file, and it is small (a thread-pool round trip costs more).
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw configError(file, 'is a directory; it must be a YAML file');
    throw e;
  }
}

// The YAML parser, the config schema (zod) and the remote code load only when a
// config file or a remote needs them: every command opens the store, most never read either.
async function parseConfig(text: string, file: string) {
  const [{ LineCounter, parseDocument }, { AgentvConfig }] = await Promise.all([import('yaml'), import('../schemas/config.js')]);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const err = doc.errors[0];
  if (err) throw configError(file, err.message, lineCounter.linePos(err.pos[0]).line);
  const parsed = AgentvConfig.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const node = doc.getIn(issue.path as (string | number)[], true) as { range?: [number] } | undefined;
    const line = node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
    throw configError(file, `${issue.path.join('.') || 'config'}: ${issue.message}`, line);
  }
  return { doc, config: parsed.data };
}

/**
 * `<root>/.agentv/config.yaml`, validated; null when there is none.
 * @example const config = await readConfig({ root: repo.root })
 */
export async function readConfig({ root }: { root: string }): Promise<AgentvConfig | null> {
  const text = await readText(path.join(root, CONFIG_FILE));
  return text === null ? null : (await parseConfig(text, CONFIG_FILE)).config;
}

/** Set `results.repo`, keeping every other key and comment of the file (created if absent). */
export async function writeResultsRepo({ root, repo }: { root: string; repo: string }): Promise<void> {
  const file = path.join(root, CONFIG_FILE);
  const { doc } = await parseConfig((await readText(file)) ?? '', CONFIG_FILE);
  // An empty file parses to no contents; give it a mapping to set keys on.
  if (doc.contents === null) (doc as { contents: unknown }).contents = doc.createNode({});
  doc.setIn(['results', 'repo'], repo);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, doc.toString());
  await fsp.rename(tmp, file);
}

export type ResultsLocation = { kind: 'path'; dir: string } | { kind: 'url'; url: string; cacheDir: string };

/** Where `results.repo` points, relative paths taken from the source repository root. */
export function resultsLocation({ source, repo }: { source: Repo; repo: string }): ResultsLocation {
  if (!isUrl(repo)) return { kind: 'path', dir: path.resolve(source.root, repo) };
  const hash = createHash('sha1').update(repo).digest('hex').slice(0, 16);
  return { kind: 'url', url: repo, cacheDir: path.join(source.commonDir, 'agentv', 'results', `${hash}.git`) };
}

/**
 * The store every command uses: the configured results repository, else the
 * source repository itself.
 * @example const store = await openResultsStore({ repoDir: process.cwd() })
 */
export async function openResultsStore({ repoDir, now = () => new Date() }: { repoDir: string; now?: () => Date }): Promise<ResultsStore> {
  const source = await openRepo({ cwd: repoDir });
  const repo = (await readConfig({ root: source.root }))?.results?.repo;
  if (!repo) return new ResultsStore(source, RESULTS_REF, now, source, null);
  const where = resultsLocation({ source, repo });
  if (where.kind === 'path') {
    if (!existsSync(where.dir)) throw configError(CONFIG_FILE, `results.repo ${repo} does not exist (${where.dir})`);
    return new ResultsStore(await openResultsRepo(where.dir, repo), RESULTS_REF, now, source, null);
  }
  const { ensureMirror } = await import('./remote.js');
  await ensureMirror({ dir: where.cacheDir, url: where.url, now });
  return new ResultsStore(await openRepo({ cwd: where.cacheDir }), RESULTS_REF, now, source, where.url);
}

/** The repository at `dir` itself: a plain folder inside some other repository does not count. */
async function openResultsRepo(dir: string, named: string): Promise<Repo> {
  const repo = await openRepo({ cwd: dir }).catch(() => null);
  if (!repo || realpathSync(repo.root) !== realpathSync(dir)) {
    throw configError(CONFIG_FILE, `results.repo ${named} is not a git repository (${dir})`);
  }
  return repo;
}

/** The `results promote --json` document (src/schemas/results.ts). */
export type { PromoteResult };

/**
 * Copy the whole run history to a separate results repository (a local path
 * is created as a bare repository), then record it in `.agentv/config.yaml`
 * so every later command uses it.
 * @example await promoteResults({ store, to: 'git@github.com:acme/evals.git', cwd })
 */
export async function promoteResults({
  store,
  to,
  cwd,
  onRetry,
}: {
  store: Store;
  to: string;
  cwd: string;
  onRetry?: (attempt: number, why: string) => void;
}): Promise<PromoteResult> {
  const source = sourceOf(store);
  const url = isUrl(to);
  let target = to;
  let value = to;
  if (!url) {
    const dir = path.resolve(cwd, to);
    if (!existsSync(dir)) await initRepo({ dir, bare: true });
    else await openResultsRepo(dir, to);
    target = dir;
    // Relative paths stay relative (to the repository root), so the file can be committed.
    value = path.isAbsolute(to) ? dir : path.relative(source.root, dir) || '.';
  }
  const { ensureMirror, pushRuns } = await import('./remote.js');
  const push = await pushRuns({ store, remote: target, name: 'promoted', onRetry });
  await writeResultsRepo({ root: source.root, repo: value });
  const where = resultsLocation({ source, repo: value });
  if (where.kind === 'url') await ensureMirror({ dir: where.cacheDir, url: where.url, now: store.now, refresh: true });
  return { to, kind: url ? 'url' : 'path', config_value: value, push };
}
