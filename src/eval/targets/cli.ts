// The `cli` target (`exec:<command>`): one `/bin/sh -c` per test, in its own process
// group, registered until reaped. Invariant: when call() settles, nothing it started
// is still running — the group is SIGKILLed once its leader exits, times out or is aborted.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { CliTargetConfig } from '../../schemas/targets.js';
import { TargetError, type Target, type TargetCall, type TargetResponse } from '../types.js';
import { killProcessGroup, type ProcessRegistry } from './process-registry.js';

const PLACEHOLDER_NAMES = ['PROMPT', 'PROMPT_FILE', 'OUTPUT_FILE', 'TEST_ID'] as const;
export type Placeholder = (typeof PLACEHOLDER_NAMES)[number];

/** Stdout beyond this is dropped: an eval output that large is a bug, not an answer. */
const MAX_STDOUT_BYTES = 16 * 1024 * 1024;
const STDERR_TAIL_BYTES = 64 * 1024;
const STDERR_TAIL_LINES = 10;
/** After the leader exits, how long to wait for pipes held by escaped (setsid) descendants. */
const CLOSE_FALLBACK_MS = 2000;

/** One POSIX shell word that expands to exactly `value`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Replace `{PROMPT}`, `{PROMPT_FILE}`, `{OUTPUT_FILE}`, `{TEST_ID}` so each expands to
 * exactly its value whatever the quoting around it: a quoted word when bare, escaped
 * for the context inside '...' or "..." (where single quotes would not stop `$(...)`).
 */
export function substitutePlaceholders({ command, values }: { command: string; values: Record<Placeholder, string> }): string {
  let out = '';
  let state: 'bare' | 'single' | 'double' = 'bare';
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!;
    const name = ch === '{' ? PLACEHOLDER_NAMES.find((n) => command.startsWith(`{${n}}`, i)) : undefined;
    if (name !== undefined) {
      const v = values[name];
      if (state === 'bare') out += shellQuote(v);
      else if (state === 'single') out += v.replaceAll("'", `'\\''`);
      else out += v.replace(/[\\"$`]/g, '\\$&');
      i += name.length + 1;
      continue;
    }
    out += ch;
    if (state !== 'single' && ch === '\\' && i + 1 < command.length) {
      out += command[++i];
    } else if (state === 'bare' && ch === "'") state = 'single';
    else if (state === 'single' && ch === "'") state = 'bare';
    else if (state === 'bare' && ch === '"') state = 'double';
    else if (state === 'double' && ch === '"') state = 'bare';
  }
  return out;
}

export interface CreateCliTargetOptions {
  config: CliTargetConfig;
  configHash: string;
  /** `cwd` in the config is relative to this. */
  repoDir: string;
  registry: ProcessRegistry;
  /** On timeout: SIGTERM the group, then SIGKILL after this grace. Abort always SIGKILLs at once. */
  killGraceMs?: number;
  /** The environment `env` is merged over. */
  baseEnv?: NodeJS.ProcessEnv;
}

export function createCliTarget({
  config,
  configHash,
  repoDir,
  registry,
  killGraceMs = 2000,
  baseEnv = process.env,
}: CreateCliTargetOptions): Target {
  return {
    name: config.name,
    provider: 'cli',
    configHash,
    async call(call: TargetCall): Promise<TargetResponse> {
      if (call.signal.aborted) throw new TargetError('aborted', 'aborted');
      const dir = await mkdtemp(join(tmpdir(), 'agentv-cli-'));
      try {
        const promptFile = join(dir, 'prompt.txt');
        const outputFile = join(dir, 'output.txt');
        await writeFile(promptFile, call.promptText);
        const command = substitutePlaceholders({
          command: config.command,
          values: { PROMPT: call.promptText, PROMPT_FILE: promptFile, OUTPUT_FILE: outputFile, TEST_ID: call.testId },
        });
        const env = {
          ...baseEnv,
          ...config.env,
          // Also as env vars, for scripts that would rather not parse arguments.
          AGENTV_TEST_ID: call.testId,
          AGENTV_PROMPT_FILE: promptFile,
          AGENTV_OUTPUT_FILE: outputFile,
        };
        const result = await runGroup({
          command,
          cwd: resolve(repoDir, config.cwd ?? '.'),
          env,
          registry,
          signal: call.signal,
          timeoutMs: config.timeout_seconds * 1000,
          killGraceMs,
        });
        if (result.ended === 'aborted') throw new TargetError('aborted', 'aborted');
        if (result.ended === 'timeout') {
          throw new TargetError(`timed out after ${config.timeout_seconds}s${stderrSuffix(result.stderr)}`, 'timeout');
        }
        if (result.exitCode !== 0) {
          const how = result.exitCode === null ? `killed by ${result.exitSignal}` : `exit ${result.exitCode}`;
          throw new TargetError(`${how}${stderrSuffix(result.stderr)}`, 'exit');
        }
        const fromFile = await readFile(outputFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return null;
          throw err;
        });
        // A trailing newline is how shells end output, not part of the answer.
        return { output: (fromFile ?? result.stdout).replace(/\r?\n$/, '') };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

function stderrSuffix(stderr: string): string {
  const lines = stderr.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
  return lines === '' ? '' : `: ${lines}`;
}

interface GroupResult {
  ended: 'exited' | 'timeout' | 'aborted';
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawn `command` as a new process group and settle once the whole group is gone. */
function runGroup(opts: {
  command: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  registry: ProcessRegistry;
  signal: AbortSignal;
  timeoutMs: number;
  killGraceMs: number;
}): Promise<GroupResult> {
  return new Promise((resolvePromise, reject) => {
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn('/bin/sh', ['-c', opts.command], {
        cwd: opts.cwd,
        env: opts.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      // Thrown synchronously for invalid arguments, e.g. a NUL byte in the prompt.
      reject(new TargetError(`cannot start the command: ${(err as Error).message}`, 'spawn'));
      return;
    }
    const unregister = opts.registry.register(child);
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
    let stderr = Buffer.alloc(0);
    child.stdout.on('data', (b: Buffer) => {
      if (stdoutBytes >= MAX_STDOUT_BYTES) return;
      stdout.push(b);
      stdoutBytes += b.length;
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr = Buffer.concat([stderr, b]);
      if (stderr.length > STDERR_TAIL_BYTES) stderr = stderr.subarray(stderr.length - STDERR_TAIL_BYTES);
    });

    let ended: GroupResult['ended'] = 'exited';
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let graceTimer: NodeJS.Timeout | undefined;
    let closeFallback: NodeJS.Timeout | undefined;
    let settled = false;

    const onAbort = () => {
      if (ended !== 'exited') return;
      ended = 'aborted';
      // A hard stop: the runner's own grace period has already passed.
      killGroup('SIGKILL');
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
    // An abort during the temp-file awaits fired before the listener existed.
    if (opts.signal.aborted) onAbort();
    const timeoutTimer = setTimeout(() => {
      if (ended !== 'exited') return;
      ended = 'timeout';
      killGroup('SIGTERM');
      graceTimer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs);
    }, opts.timeoutMs);

    const cleanup = () => {
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      clearTimeout(closeFallback);
      opts.signal.removeEventListener('abort', onAbort);
      unregister();
    };

    child.on('error', (err) => {
      if (settled) return;
      // Only a failed spawn has no pid; later errors (e.g. kill failures) are not fatal.
      if (pid !== undefined) return;
      cleanup();
      reject(new TargetError(`cannot start /bin/sh in ${opts.cwd}: ${err.message}`, 'spawn'));
    });
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
    const finish = () => {
      if (settled) return;
      cleanup();
      resolvePromise({
        ended,
        exitCode,
        exitSignal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: stderr.toString('utf8'),
      });
    };
    child.on('close', finish);
  });
}
