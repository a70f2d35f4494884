// Files a suite names (tests files, prompt files, vars files): each must stay inside the
// repository, also through symlinks; globs expand in a stable (sorted) order.
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import { lazyRequire } from '../../lazy-require.js';

export interface RepoPath {
  abs: string;
  /** Relative to the repository root, forward slashes. */
  rel: string;
}

export interface Repo {
  repoDir: string;
  repoReal: string;
}

export function inside(base: string, target: string): boolean {
  const r = nodePath.relative(base, target);
  return r !== '' && r !== '..' && !r.startsWith(`..${nodePath.sep}`) && !nodePath.isAbsolute(r);
}

export const toPosix = (p: string) => p.split(nodePath.sep).join('/');

export async function realpathOrNull(p: string): Promise<string | null> {
  try {
    return await fsp.realpath(p);
  } catch {
    return null;
  }
}

/** Resolves `p` (relative to `from`) and places it in the repo; null when it escapes. */
export function placeInRepo(repo: Repo, from: string, p: string): RepoPath | null {
  const abs = nodePath.resolve(from, p);
  for (const base of [nodePath.resolve(repo.repoDir), repo.repoReal]) {
    if (inside(base, abs)) return { abs, rel: toPosix(nodePath.relative(base, abs)) };
  }
  return null;
}

/** Also refuses a path that is inside lexically but a symlink to somewhere outside. */
export async function escapesViaLink(repo: Repo, abs: string): Promise<boolean> {
  const real = await realpathOrNull(abs);
  return real !== null && !inside(repo.repoReal, real);
}

/** `file://x` -> `x`; anything else unchanged. */
export const stripFileScheme = (s: string) => s.replace(/^file:\/\//, '');

const tinyglobby = lazyRequire<typeof import('tinyglobby')>('tinyglobby');

/** A path without any of the characters a glob is made of is a plain path (no glob library loaded to say so). */
export const isGlob = (p: string) => /[*?[\]{}()!+@\\]/.test(p) && tinyglobby().isDynamicPattern(p);

/**
 * The files a reference names: one path, or every match of a glob (sorted), each placed in
 * the repository; `escaped` lists what lies outside.
 */
export async function expandRef(repo: Repo, from: string, ref: string): Promise<{ files: RepoPath[]; escaped: boolean }> {
  const p = stripFileScheme(ref);
  if (!isGlob(p)) {
    const one = placeInRepo(repo, from, p);
    if (!one || (await escapesViaLink(repo, one.abs))) return { files: [], escaped: true };
    return { files: [one], escaped: false };
  }
  const matches = (await tinyglobby().glob(p, { cwd: from, absolute: true, onlyFiles: true, dot: false })).sort();
  const files: RepoPath[] = [];
  let escaped = false;
  for (const m of matches) {
    const one = placeInRepo(repo, from, m);
    if (!one || (await escapesViaLink(repo, one.abs))) escaped = true;
    else files.push(one);
  }
  return { files, escaped };
}
