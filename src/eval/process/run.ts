// The one way agentv starts a process: cli targets and script-like assertions (script,
// python, code graders) all come here. Invariant: when runProcess settles, nothing it
// started is still running. Each child leads its own process group, registered with
// the run's ProcessRegistry (so a stop ends it and its descendants); the group is
// SIGKILLed once the leader exits, times out or is aborted; a descendant that escaped
// the group (setsid) and holds our pipes cannot hold up the result past CLOSE_FALLBACK_MS.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { killProcessGroup, type ProcessRegistry } from '../targets/process-registry.js';

/** After the leader exits, how long to wait for pipes held by escaped (setsid) descendants. */
const CLOSE_FALLBACK_MS = 2000;
const DEFAULT_MAX_STDOUT = 16 * 1024 * 1024;
const DEFAULT_STDERR_TAIL = 64 * 1024;

export interface RunProcessOptions {
  /** The program; with `shell`, a /bin/sh command line. */
  file: string;
  args?: string[];
  /** Run `file` through `/bin/sh -c`. */
  shell?: boolean;
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
  /** Where the group is registered for stop; optional for callers outside a run. */
  registry?: ProcessRegistry | null;
  signal: AbortSignal;
  timeoutMs: number;
  /** On timeout: SIGTERM, then SIGKILL after this grace (0: SIGKILL at once). Abort always SIGKILLs. */
  killGraceMs?: number;
  /** Stdout beyond this is dropped (and `stdoutTruncated` set). */
  maxStdoutBytes?: number;
  /** Only the last bytes of stderr are kept: enough for an error message. */
  stderrTailBytes?: number;
}

export interface ProcessResult {
  ended: 'exited' | 'timeout' | 'aborted';
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  stdout: string;
  stdoutTruncated: boolean;
  stderr: string;
}

/** The program could not be started at all (ENOENT, EACCES, a NUL byte in an argument). */
export class SpawnError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'SpawnError';
  }
}

/**
 * Runs one command in its own process group and resolves once the whole group is gone.
 * Rejects only with SpawnError; a non-zero exit, a timeout or an abort is a result.
 * @example const r = await runProcess({ file: 'node', args: ['check.js'], cwd, stdin: '{}', signal, timeoutMs: 30_000, registry })
 */
export function runProcess(o: RunProcessOptions): Promise<ProcessResult> {
  const file = o.shell ? '/bin/sh' : o.file;
  const args = o.shell ? ['-c', o.file] : (o.args ?? []);
  const maxStdout = o.maxStdoutBytes ?? DEFAULT_MAX_STDOUT;
  const stderrTail = o.stderrTailBytes ?? DEFAULT_STDERR_TAIL;
  return new Promise((resolve, reject) => {
    if (o.signal.aborted) {
      resolve({ ended: 'aborted', exitCode: null, exitSignal: null, stdout: '', stdoutTruncated: false, stderr: '' });
      return;
    }
    let child: ChildProcessByStdio<Writable | null, Readable, Readable>;
    try {
      child = spawn(file, args, {
        cwd: o.cwd,
        env: o.env ?? process.env,
        detached: true,
        stdio: [o.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
    } catch (err) {
      // Thrown synchronously for invalid arguments, e.g. a NUL byte in the prompt.
      reject(new SpawnError(`cannot start ${JSON.stringify(o.file)}: ${(err as Error).message}`, (err as NodeJS.ErrnoException).code));
      return;
    }
    const unregister = o.registry?.register(child) ?? (() => {});
    const pid = child.pid;
    const killGroup = (sig: NodeJS.Signals) => {
      if (pid === undefined) return;
      try {
        killProcessGroup({ pid, signal: sig });
      } catch {
        // EPERM cannot happen for our own group; never let a kill failure hide the result.
      }
    };

    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stdoutTruncated = false;
    let stderr = Buffer.alloc(0);
    child.stdout.on('data', (b: Buffer) => {
      if (stdoutBytes >= maxStdout) {
        stdoutTruncated = true;
        return;
      }
      const room = maxStdout - stdoutBytes;
      if (b.length > room) stdoutTruncated = true;
      const part = b.length > room ? b.subarray(0, room) : b;
      stdout.push(part);
      stdoutBytes += part.length;
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr = Buffer.concat([stderr, b]);
      if (stderr.length > stderrTail) stderr = stderr.subarray(stderr.length - stderrTail);
    });
    if (child.stdin) {
      // The child may exit without reading its input (EPIPE); its result still counts.
      child.stdin.on('error', () => {});
      child.stdin.end(o.stdin);
    }

    let ended: ProcessResult['ended'] = 'exited';
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let graceTimer: NodeJS.Timeout | undefined;
    let closeFallback: NodeJS.Timeout | undefined;
    let settled = false;

    const onAbort = () => {
      if (ended !== 'exited') return;
      ended = 'aborted';
      killGroup('SIGKILL');
    };
    o.signal.addEventListener('abort', onAbort, { once: true });
    const timeoutTimer = setTimeout(() => {
      if (ended !== 'exited') return;
      ended = 'timeout';
      const grace = o.killGraceMs ?? 0;
      if (grace <= 0) return killGroup('SIGKILL');
      killGroup('SIGTERM');
      graceTimer = setTimeout(() => killGroup('SIGKILL'), grace);
    }, o.timeoutMs);

    const cleanup = () => {
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      clearTimeout(closeFallback);
      o.signal.removeEventListener('abort', onAbort);
      unregister();
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      // Only a failed spawn has no pid; later errors (e.g. kill failures) are not fatal.
      if (pid !== undefined) return;
      cleanup();
      reject(new SpawnError(`cannot start ${JSON.stringify(o.file)} in ${o.cwd}: ${err.message}`, err.code));
    });
    const finish = () => {
      if (settled) return;
      cleanup();
      resolve({
        ended,
        exitCode,
        exitSignal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stdoutTruncated,
        stderr: stderr.toString('utf8'),
      });
    };
    child.on('exit', (code, sig) => {
      exitCode = code;
      exitSignal = sig;
      // Reap whatever the command left behind; it would otherwise outlive the test
      // and, holding our stdout pipe, keep 'close' from ever firing.
      killGroup('SIGKILL');
      closeFallback = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, CLOSE_FALLBACK_MS);
    });
    child.on('close', finish);
  });
}

/** The last lines of stderr, for an error message. */
export function stderrTail(stderr: string, lines = 10): string {
  return stderr.trimEnd().split('\n').slice(-lines).join('\n');
}
