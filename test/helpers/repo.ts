// Real temporary git repositories for tests: a fresh one per test, removed after.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killChildren } from './proc.js';

const made: string[] = [];

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
}

export type ObjectFormat = 'sha1' | 'sha256';

/**
 * The object format test repositories use: AGENTV_TEST_OBJECT_FORMAT=sha256
 * runs the same store tests in SHA-256 repositories (vitest project "sha256").
 */
export const TEST_OBJECT_FORMAT: ObjectFormat = process.env.AGENTV_TEST_OBJECT_FORMAT === 'sha256' ? 'sha256' : 'sha1';

/**
 * Remove one object from a repository, wherever it is stored: every pack is
 * unpacked into loose objects first (agentv writes packs), then that object's
 * file is deleted. For damage tests: trees may still name it.
 */
export function deleteObject(dir: string, oid: string): void {
  const packDir = path.join(dir, '.git', 'objects', 'pack');
  for (const pack of readdirSync(packDir).filter((f) => f.endsWith('.pack'))) {
    const moved = path.join(dir, '.git', pack);
    renameSync(path.join(packDir, pack), moved);
    rmSync(path.join(packDir, pack.replace(/\.pack$/, '.idx')));
    execFileSync('git', ['unpack-objects', '-q'], { cwd: dir, input: readFileSync(moved) });
    rmSync(moved);
  }
  rmSync(path.join(dir, '.git', 'objects', oid.slice(0, 2), oid.slice(2)));
}

/** A new repository with one commit on main and a configured identity. */
export function makeRepo({ commit = true, objectFormat = TEST_OBJECT_FORMAT }: { commit?: boolean; objectFormat?: ObjectFormat } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentv-test-'));
  made.push(dir);
  git(dir, 'init', '-q', '-b', 'main', `--object-format=${objectFormat}`);
  git(dir, 'config', 'user.name', 'Test');
  git(dir, 'config', 'user.email', 'test@example.com');
  if (commit) {
    writeFileSync(path.join(dir, 'README.md'), '# test\n');
    git(dir, 'add', 'README.md');
    git(dir, 'commit', '-q', '-m', 'init');
  }
  return dir;
}

export function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentv-tmp-'));
  made.push(dir);
  return dir;
}

/**
 * Remove every temporary repository made so far. Children a test started are
 * killed first (a writer still running would refill the folder), and removal
 * retries while a dying process lets go of its files.
 */
export function cleanupRepos(): void {
  killChildren();
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}

/** `.agentv/targets.yaml` in `dir` with one `cli` target `sh` running `command`, the default target. */
export function shTarget(dir: string, command: string): void {
  mkdirSync(path.join(dir, '.agentv'), { recursive: true });
  writeFileSync(path.join(dir, '.agentv/targets.yaml'), ['targets:', '  - name: sh', '    provider: cli', `    command: ${JSON.stringify(command)}`, 'defaults:', '  target: sh', ''].join('\n'));
}
