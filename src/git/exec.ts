// Spawning git. Every git process agentv starts goes through here (or through
// the long-lived reader in cat-file.ts), so tests and errors see one shape.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AgentvError } from '../errors.js';

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Environment for git children: never prompt, never page, stable output. */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // GIT_OPTIONAL_LOCKS=0: `git status` must not refresh (rewrite) the user's index.
  return { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0', ...extra };
}

/**
 * Why git could not be started: no git on PATH (GIT_NOT_FOUND), a folder that
 * does not exist (USAGE), or something else the OS refused (GIT).
 */
export function spawnFailure(e: NodeJS.ErrnoException, cwd: string, args: string[]): AgentvError {
  if (e.code === 'ENOENT' && !existsSync(cwd)) return new AgentvError('USAGE', `folder ${cwd} does not exist`, { cwd });
  if (e.code === 'ENOENT') {
    return new AgentvError('GIT_NOT_FOUND', 'git is not installed or not on PATH: agentv keeps its runs in git and needs the git command; install git and try again', {
      args,
    });
  }
  return new AgentvError('GIT', `could not run git: ${e.message}`, { args });
}

/**
 * Run git and collect its output. Rejects with AgentvError('GIT') on a non-zero
 * exit unless `allowFail` is set.
 * @example await runGit({ cwd, args: ['rev-parse', 'HEAD'] })
 */
export function runGit({
  cwd,
  args,
  input,
  env = {},
  allowFail = false,
}: {
  cwd: string;
  args: string[];
  input?: string | Buffer;
  env?: Record<string, string>;
  allowFail?: boolean;
}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      { cwd, env: gitEnv(env), maxBuffer: 1 << 30, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        if (error && typeof error.code !== 'number') {
          reject(spawnFailure(error as NodeJS.ErrnoException, cwd, args));
          return;
        }
        if (code !== 0 && !allowFail) {
          reject(
            new AgentvError('GIT', `git ${args[0]} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`, {
              args,
              code,
              stderr,
            }),
          );
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Run git with stdin streamed from a producer, e.g. `git fast-import`. */
export function runGitStreaming({
  cwd,
  args,
  write,
}: {
  cwd: string;
  args: string[];
  write: (stdin: NodeJS.WritableStream) => Promise<void>;
}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    // If git exits early, writes fail with EPIPE; the close handler reports why.
    child.stdin.on('error', () => {});
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => reject(spawnFailure(e, cwd, args)));
    child.on('close', (code) => {
      if (code === 0) resolve({ stdout, stderr, code: 0 });
      else reject(new AgentvError('GIT', `git ${args[0]} failed (exit ${code}): ${stderr.trim().slice(-500)}`, { args, code, stderr }));
    });
    write(child.stdin).then(
      () => child.stdin.end(),
      (e) => {
        child.kill();
        reject(e);
      },
    );
  });
}
