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
        const structured = fromFile === null ? null : agentvOutputFile(fromFile);
        if (structured) return structured;
        // A trailing newline is how shells end output, not part of the answer.
        return { output: (fromFile ?? result.stdout).replace(/\r?\n$/, '') };
      } finally {
        await scratch.remove();
      }
    },
  };
}

/**
 * agentv's cli output-file contract: a JSON object with `output` (messages, whose
 * `tool_calls` are the trace) or `text`, and optional `token_usage`, `cost_usd`,
 * `duration_ms`. The answer is the last assistant message. Null for anything else
 * (plain text, other JSON), which is then the output as written.
 */
export function agentvOutputFile(text: string): TargetResponse | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as { output?: unknown; text?: unknown; token_usage?: unknown; cost_usd?: unknown; duration_ms?: unknown };
  const messages = Array.isArray(o.output) && o.output.every((m) => m !== null && typeof m === 'object' && typeof (m as { role?: unknown }).role === 'string')
    ? (o.output as { role: string; content?: unknown; tool_calls?: unknown }[])
    : null;
  if (!messages && typeof o.text !== 'string') return null;
  const assistant = (messages ?? []).filter((m) => m.role === 'assistant');
  const last = assistant[assistant.length - 1];
  const content = last?.content;
  const output = typeof content === 'string' ? content : typeof o.text === 'string' ? o.text : content === undefined ? '' : JSON.stringify(content);
  const toolCalls = assistant.flatMap((m) => (Array.isArray(m.tool_calls) ? m.tool_calls : [])).map((c: Record<string, unknown>) => ({
    tool: String(c.tool ?? c.name ?? (c.function as { name?: unknown } | undefined)?.name ?? ''),
    ...(c.input !== undefined || c.args !== undefined || c.arguments !== undefined ? { args: c.input ?? c.args ?? c.arguments } : {}),
    ...(typeof c.duration_ms === 'number' ? { durationMs: c.duration_ms } : {}),
  }));
  const usage = o.token_usage as { input?: unknown; output?: unknown } | undefined;
  const n = (x: unknown) => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : 0);
  return {
    output,
    ...(messages && { trace: { toolCalls, llmCalls: assistant.length, ...(typeof o.duration_ms === 'number' && { durationMs: o.duration_ms }) } }),
    ...(usage && typeof usage === 'object' && { tokenUsage: { prompt: n(usage.input), completion: n(usage.output), total: n(usage.input) + n(usage.output) } }),
    ...(typeof o.cost_usd === 'number' && { costUsd: o.cost_usd }),
  };
}

function stderrSuffix(stderr: string): string {
  const lines = stderrTail(stderr);
  return lines === '' ? '' : `: ${lines}`;
}
