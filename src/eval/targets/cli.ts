// The `cli` target (`exec:<command>`): one `/bin/sh -c` per test, in its own process
// group, registered until reaped. Invariant: when call() settles, nothing it started
// is still running — the group is SIGKILLed once its leader exits, times out or is aborted.
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CliTargetConfig } from '../../schemas/targets.js';
import { runProcess, SpawnError, stderrTail } from '../process/run.js';
import { makeScratch } from '../process/scratch.js';
import { TargetError, type Target, type TargetCall, type TargetResponse } from '../types.js';
import type { ProcessRegistry } from './process-registry.js';

const PLACEHOLDER_NAMES = ['PROMPT', 'PROMPT_FILE', 'OUTPUT_FILE', 'TEST_ID'] as const;
export type Placeholder = (typeof PLACEHOLDER_NAMES)[number];


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
      const scratch = await makeScratch({ root: registry.options.scratchRoot ?? tmpdir(), prefix: 'cli' });
      const dir = scratch.dir;
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
        const cwd = resolve(repoDir, config.cwd ?? '.');
        const result = await runProcess({
          file: command,
          shell: true,
          cwd,
          env,
          registry,
          signal: call.signal,
          timeoutMs: config.timeout_seconds * 1000,
          killGraceMs,
        }).catch((err: unknown) => {
          if (err instanceof SpawnError) throw new TargetError(`cannot start /bin/sh in ${cwd}: ${err.message}`, 'spawn');
          throw err;
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
        await scratch.remove();
      }
    },
  };
}

function stderrSuffix(stderr: string): string {
  const lines = stderrTail(stderr);
  return lines === '' ? '' : `: ${lines}`;
}
