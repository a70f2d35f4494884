// Hostile environments get a clear message and exit 2 or 3, never a stack
// trace: a directory where a file belongs, a stale ref lock, a repository owned
// by another user, no git at all, a read-only .git, a full disk.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanupRepos, git, makeRepo, tempDir } from '../helpers/repo.js';
import { runCli } from '../helpers/cli.js';

const mounts: string[] = [];
afterEach(() => {
  for (const m of [...new Set(mounts.splice(0))].reverse()) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'pipe' });
    } catch {
      // already gone
    }
  }
  cleanupRepos();
});

/** Mount (as root, where the machine allows it); null with the reason when it does not. */
function tryMount(args: string[], target: string): string | null {
  try {
    execFileSync('mount', [...args, target], { stdio: 'pipe' });
    mounts.push(target);
    return null;
  } catch (e) {
    return `mount ${args.join(' ')} is not allowed here: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
}

function suiteRepo(dir = makeRepo(), tests = 2): string {
  const list = Array.from({ length: tests }, (_, i) => `  - id: t${i + 1}\n    vars: { input: "hello ${i + 1}" }\n`).join('');
  writeFileSync(path.join(dir, 'suite.yaml'), `name: s\ntests:\n${list}`);
  return dir;
}

const noStack = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at |internal error/);

describe('hostile environments', () => {
  it('.agentv/targets.yaml that is a directory: exit 2 naming it', async () => {
    const dir = suiteRepo();
    mkdirSync(path.join(dir, '.agentv/targets.yaml'), { recursive: true });
    const r = await runCli(['eval', 'suite.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/targets\.yaml.*is a directory/);
    noStack(r.stderr);
  });

  it('a stale refs/agentv/runs/v1.lock is named with the fix at once, not retried as "too many writers"', async () => {
    const dir = suiteRepo();
    expect((await runCli(['eval', 'suite.yaml', '--target', 'echo'], { cwd: dir })).code).toBe(0);
    const lock = path.join(dir, '.git/refs/agentv/runs/v1.lock');
    writeFileSync(lock, '');
    const old = new Date(Date.now() - 3600_000);
    utimesSync(lock, old, old);
    const r = await runCli(['eval', 'suite.yaml', '--target', 'echo'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(lock);
    expect(r.stderr).toMatch(/rm '/);
    expect(r.stderr).not.toMatch(/concurrent writers/);
    noStack(r.stderr);
    rmSync(lock);
    expect((await runCli(['eval', 'suite.yaml', '--target', 'echo'], { cwd: dir })).code).toBe(0);
  });

  it('a repository owned by another user is "dubious ownership", not "not a git repository"', async () => {
    const dir = suiteRepo();
    const home = tempDir();
    execFileSync('chown', ['-R', '54321:54321', dir]);
    try {
      const r = await runCli(['runs', 'list'], { cwd: dir, env: { HOME: home, GIT_CONFIG_NOSYSTEM: '1', XDG_CONFIG_HOME: home } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/owned by another user/);
      expect(r.stderr).toContain('safe.directory');
      expect(r.stderr).not.toMatch(/not inside a git repository/);
      noStack(r.stderr);
    } finally {
      chownSync(dir, os.userInfo().uid, os.userInfo().gid);
    }
  });

  it('no git on PATH is said as such, not "not a git repository"', async () => {
    const dir = suiteRepo();
    const r = await runCli(['runs', 'list'], { cwd: dir, env: { PATH: tempDir() } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/git is not installed or not on PATH/);
    noStack(r.stderr);
    const outside = await runCli(['runs', 'list'], { cwd: tempDir() });
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/not inside a git repository/);
  });

  it('a read-only .git (read-only bind mount): a clear message, exit 2, nothing written', async (ctx) => {
    const dir = suiteRepo();
    const gitDir = path.join(dir, '.git');
    const why = tryMount(['--bind', gitDir], gitDir) ?? tryMount(['-o', 'remount,ro,bind'], gitDir);
    if (why) {
      console.warn(`skipped: ${why}`);
      ctx.skip();
      return;
    }
    const r = await runCli(['eval', 'suite.yaml', '--target', 'echo'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/read-only file system/);
    noStack(r.stderr);
    expect(git(dir, 'for-each-ref', 'refs/agentv')).toBe('');
  });

  it('a full disk mid-run: exit 3, the message says the disk is full, the run is failed and every finished row is kept', async (ctx) => {
    const mnt = tempDir();
    const why = tryMount(['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs'], mnt);
    if (why) {
      console.warn(`skipped: ${why}`);
      ctx.skip();
      return;
    }
    const dir = path.join(mnt, 'repo');
    mkdirSync(dir);
    git(dir, 'init', '-q');
    git(dir, 'config', 'user.name', 'T');
    git(dir, 'config', 'user.email', 't@example.com');
    // Each output is 100 KB: the journal (raw JSON) fills the 3 MB disk within 40 tests.
    const list = Array.from({ length: 40 }, (_, i) => `  - id: t${i + 1}\n`).join('');
    writeFileSync(path.join(dir, 'suite.yaml'), `name: big\nprompts: ["x"]\ntests:\n${list}`);
    const filler = path.join(mnt, 'filler');
    writeFileSync(filler, Buffer.alloc(256 * 1024));
    const target = `exec:${process.execPath} -e "process.stdout.write('y'.repeat(100000))"`;
    const r = await runCli(['eval', 'suite.yaml', '--target', target, '--workers', '1', '--run-id', 'full-1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/disk is full/);
    noStack(r.stderr);
    // Off a terminal, one line per finished (durable) test: "[3/40] PASS t3 (12ms)".
    const finished = r.stderr.split('\n').filter((l) => /^\[\d+\/40\] (PASS|FAIL|ERROR) t\d+/.test(l)).length;
    expect(finished).toBeGreaterThan(0);
    rmSync(filler);
    const show = await runCli(['runs', 'show', 'full-1', '--json'], { cwd: dir });
    expect(show.code, show.stderr).toBe(0);
    const doc = JSON.parse(show.stdout);
    // Usually the failed mark fits (the journal gives back the space of the write
    // that failed); when even that cannot be written the next reader finds the
    // owner dead and marks the run interrupted. Either way no finished row is lost.
    expect(['failed', 'interrupted']).toContain(doc.run.status);
    expect(doc.results.length).toBeGreaterThanOrEqual(finished);
    expect(doc.results.length).toBeGreaterThan(0);
    expect(doc.results.length).toBeLessThan(40);
  });
});
