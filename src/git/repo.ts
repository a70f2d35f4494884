// Locating the repository: work tree, git dir and common dir (worktrees share
// objects and refs through the common dir, so agentv state lives there), and
// the object format agentv must write in (SHA-1 or SHA-256).
import path from 'node:path';
import { AgentvError, isAgentvError } from '../errors.js';
import { discoverRepo } from './discover.js';
import { runGit } from './exec.js';
import type { ObjectFormat } from './objects.js';

export interface Repo {
  /** The work tree root, or the git dir itself for a bare repository. */
  root: string;
  /** Shared git directory (objects, refs, agentv's local state). */
  commonDir: string;
  bare: boolean;
  /** Every object agentv writes uses this hash. */
  objectFormat: ObjectFormat;
}

/**
 * Find the repository that contains `cwd`. Tells apart "not a repository",
 * a repository git refuses to use (owned by another user) and no git at all.
 * @example const repo = await openRepo({ cwd: process.cwd() })
 */
export async function openRepo({ cwd }: { cwd: string }): Promise<Repo> {
  // The common layout is read from the disk; anything else is git's to answer.
  const found = discoverRepo(cwd);
  if (found) return found;
  let r;
  try {
    r = await runGit({
      cwd,
      args: ['rev-parse', '--is-bare-repository', '--git-common-dir', '--show-object-format', '--show-cdup'],
      allowFail: true,
    });
  } catch (e) {
    if (isAgentvError(e, 'GIT_NOT_FOUND')) throw e;
    r = null;
  }
  if (r && r.code !== 0 && /dubious ownership/i.test(r.stderr)) {
    const fix = /git config --global --add safe\.directory \S+/.exec(r.stderr)?.[0];
    throw new AgentvError(
      'REPO_UNSAFE',
      `git refuses to use the repository at ${cwd}: it is owned by another user ("dubious ownership"). ` +
        `Run agentv as the repository's owner, or, if you trust it, mark it safe with: ${fix ?? 'git config --global --add safe.directory <dir>'}`,
      { cwd },
    );
  }
  if (!r || r.code !== 0) {
    throw new AgentvError('NOT_A_REPO', `${cwd} is not inside a git repository; run agentv inside one, or point at one with --repo DIR`, {
      cwd,
    });
  }
  const lines = r.stdout.replace(/\n$/, '').split('\n');
  const bare = lines[0] === 'true';
  const commonDir = path.resolve(cwd, lines[1] ?? '.git');
  const objectFormat: ObjectFormat = lines[2] === 'sha256' ? 'sha256' : 'sha1';
  const root = bare ? commonDir : path.resolve(cwd, lines[3] ?? '.');
  return { root, commonDir, bare, objectFormat };
}

/** `git init` (bare or not) at dir; used by promote and tests. */
export async function initRepo({ dir, bare = false, objectFormat }: { dir: string; bare?: boolean; objectFormat?: ObjectFormat }): Promise<Repo> {
  const format = objectFormat ? [`--object-format=${objectFormat}`] : [];
  await runGit({ cwd: path.dirname(dir), args: ['init', '-q', ...(bare ? ['--bare'] : []), ...format, dir] });
  return openRepo({ cwd: dir });
}
