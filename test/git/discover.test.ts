// Finding the repository without git (discover.ts) must give git's answer or
// none: for every layout here, openRepo says what `git rev-parse` says, and the
// reader answers itself only for the plain layouts it is sure of.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverRepo } from '../../src/git/discover.js';
import { openRepo } from '../../src/git/repo.js';
import { cleanupRepos, git, makeRepo, tempDir } from '../helpers/repo.js';

afterEach(cleanupRepos);

/** What git finds from `cwd`, in openRepo's terms (null: not a repository, or one git refuses). */
function gitAnswer(cwd: string, env: NodeJS.ProcessEnv = {}) {
  try {
    const out = execFileSync('git', ['rev-parse', '--is-bare-repository', '--git-common-dir', '--show-object-format', '--show-cdup'], {
      cwd,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [bare, common, format, cdup] = out.replace(/\n$/, '').split('\n');
    const commonDir = path.resolve(cwd, common!);
    return { root: bare === 'true' ? commonDir : path.resolve(cwd, cdup ?? '.'), commonDir, bare: bare === 'true', objectFormat: format === 'sha256' ? 'sha256' : 'sha1' };
  } catch {
    return null;
  }
}

/** openRepo and git agree from `cwd`; returns whether discovery answered without git. */
async function agrees(cwd: string, env: NodeJS.ProcessEnv = {}): Promise<boolean> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const fast = discoverRepo(cwd);
    const opened = await openRepo({ cwd }).catch(() => null);
    expect(opened, cwd).toEqual(gitAnswer(cwd, env));
    if (fast) expect(fast).toEqual(opened);
    return fast !== null;
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

describe('repository discovery without git', () => {
  it('answers for a plain work tree, from its root and from below, in SHA-1 and SHA-256', async () => {
    for (const objectFormat of ['sha1', 'sha256'] as const) {
      const dir = makeRepo({ objectFormat });
      mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
      expect(await agrees(dir)).toBe(true);
      expect(await agrees(path.join(dir, 'a', 'b'))).toBe(true);
      expect(discoverRepo(dir)?.objectFormat).toBe(objectFormat);
    }
  });

  it('leaves to git what it is not sure of, and git answers', async () => {
    const dir = makeRepo();
    // A linked worktree: .git is a file.
    const linked = path.join(tempDir(), 'wt');
    git(dir, 'worktree', 'add', '-q', '--detach', linked);
    expect(await agrees(linked)).toBe(false);
    // Inside the git directory, and a bare repository.
    expect(await agrees(path.join(dir, '.git', 'refs'))).toBe(false);
    const bare = path.join(tempDir(), 'b.git');
    execFileSync('git', ['init', '-q', '--bare', bare]);
    expect(await agrees(bare)).toBe(false);
    // A path through a symbolic link.
    const link = path.join(tempDir(), 'link');
    symlinkSync(dir, link);
    expect(await agrees(link)).toBe(false);
    // Variables that steer git.
    expect(await agrees(dir, { GIT_DIR: path.join(dir, '.git') })).toBe(false);
    expect(await agrees(path.join(dir, '.git', '..'), { GIT_CEILING_DIRECTORIES: path.dirname(dir) })).toBe(false);
    // Not a repository at all.
    expect(await agrees(tempDir())).toBe(false);
  });

  it('leaves to git a config it cannot read with certainty or that moves things', async () => {
    const cases: [string, string][] = [
      ['core.worktree set', '[core]\n\tworktree = /elsewhere\n'],
      ['an include', '[include]\n\tpath = other.config\n'],
      ['a quoted value', '[core]\n\tbare = "false"\n'],
      ['an unknown extension', '[core]\n\trepositoryformatversion = 1\n[extensions]\n\tsomethingnew = true\n'],
      ['a worktree config', '[core]\n\trepositoryformatversion = 1\n[extensions]\n\tworktreeconfig = true\n'],
      ['bare = true', '[core]\n\tbare = true\n'],
      ['an object format git does not know by that name', '[core]\n\trepositoryformatversion = 1\n[extensions]\n\tobjectformat = SHA256\n'],
    ];
    for (const [why, extra] of cases) {
      const dir = makeRepo();
      appendFileSync(path.join(dir, '.git', 'config'), extra);
      expect(discoverRepo(dir), why).toBeNull();
      const opened = await openRepo({ cwd: dir }).catch(() => null);
      expect(opened, why).toEqual(gitAnswer(dir));
    }
    // Plain additions it reads past.
    const dir = makeRepo();
    appendFileSync(path.join(dir, '.git', 'config'), '# a comment\n[user]\n\tname = Someone ; trailing\n[branch.main]\n\tmerge = refs/heads/main\n');
    expect(await agrees(dir)).toBe(true);
  });

  it('skips a .git folder git would not use (git decides), and a repository owned by someone else', async () => {
    const outer = makeRepo();
    const inner = path.join(outer, 'sub');
    mkdirSync(path.join(inner, '.git'), { recursive: true });
    writeFileSync(path.join(inner, '.git', 'HEAD'), 'not a head\n');
    expect(await agrees(inner)).toBe(false);
    // A bare repository whose HEAD this reader does not parse ("ref:" without a space): git's, not the outer one.
    const bare = path.join(outer, 'nested', 'b.git');
    execFileSync('git', ['init', '-q', '--bare', bare]);
    writeFileSync(path.join(bare, 'HEAD'), 'ref:refs/heads/main\n');
    expect(await agrees(bare)).toBe(false);
    // A file given as the folder.
    writeFileSync(path.join(outer, 'file.txt'), 'x');
    expect(discoverRepo(path.join(outer, 'file.txt'))).toBeNull();
    if (process.geteuid?.() === 0) {
      const dir = makeRepo();
      chownSync(dir, 54321, 54321);
      expect(discoverRepo(dir)).toBeNull();
      chownSync(dir, 0, 0);
      expect(discoverRepo(dir)).not.toBeNull();
    }
  });
});
