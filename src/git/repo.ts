// Locating the repository: work tree, git dir and common dir (worktrees share
// objects and refs through the common dir, so agentv state lives there).
import path from 'node:path';
import { AgentvError } from '../errors.js';
import { runGit } from './exec.js';

export interface Repo {
  /** The work tree root, or the git dir itself for a bare repository. */
  root: string;
  /** Shared git directory (objects, refs, agentv's local state). */
  commonDir: string;
  bare: boolean;
}

/**
 * Find the repository that contains `cwd`.
 * @example const repo = await openRepo({ cwd: process.cwd() })
 */
export async function openRepo({ cwd }: { cwd: string }): Promise<Repo> {
  const r = await runGit({
    cwd,
    args: ['rev-parse', '--is-bare-repository', '--git-common-dir', '--show-cdup'],
    allowFail: true,
  }).catch(() => null);
  if (!r || r.code !== 0) {
    throw new AgentvError('NOT_A_REPO', `${cwd} is not inside a git repository; run agentv inside one, or point at one with --repo DIR`, {
      cwd,
    });
  }
  const lines = r.stdout.trim().split('\n');
  const bare = lines[0] === 'true';
  const commonDir = path.resolve(cwd, lines[1] ?? '.git');
  const root = bare ? commonDir : path.resolve(cwd, lines[2] ?? '.');
  return { root, commonDir, bare };
}

/** `git init` (bare or not) at dir; used by promote and tests. */
export async function initRepo({ dir, bare = false }: { dir: string; bare?: boolean }): Promise<Repo> {
  await runGit({ cwd: path.dirname(dir), args: ['init', '-q', ...(bare ? ['--bare'] : []), dir] });
  return openRepo({ cwd: dir });
}
