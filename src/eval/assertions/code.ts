// Assertions that run the user's code: `javascript` (inline or file://, in a worker
// thread), `python` (a python3 child), `script` (an argv command, agentv's own contract)
// and agentv's code graders (its stdin payload and `{score, assertions}` answer). All are
// bounded by limits.assertion_timeout_ms; the processes run through the one process-group
// runner, registered for stop. Anything that keeps them from judging is a GradingError.
import path from 'node:path';
import type { AssertionSpec } from '../types.js';
import { runProcess, SpawnError, stderrTail, type ProcessResult } from '../process/run.js';
import { runSandboxed } from './sandbox.js';
import { clamp01, GradingError, type Verdict } from './verdict.js';
import type { GradeContext } from './context.js';

/** agentv's default pass mark for a grader's score. */
export const AGENTV_PASS_SCORE = 0.8;

/** `file://path.js:fn` → {file, fn}; null for inline code. */
export function fileRef(value: string): { file: string; fn?: string } | null {
  if (!value.startsWith('file://')) return null;
  const rest = value.slice('file://'.length);
  const m = /^(.*\.(?:js|cjs|mjs|ts|py))(?::([A-Za-z_$][\w$]*))?$/.exec(rest);
  return m ? { file: m[1]!, ...(m[2] ? { fn: m[2] } : {}) } : { file: rest };
}

/** Where a file named by an assertion is: relative to the suite's folder. */
export function resolveFromSuite(spec: AssertionSpec, ctx: GradeContext, file: string): string {
  const dir = typeof spec.options?.dir === 'string' ? spec.options.dir : '';
  return path.resolve(ctx.cwd, dir, file);
}

/** What user code sees as `context` (promptfoo's shape). */
function userContext(spec: AssertionSpec, ctx: GradeContext): Record<string, unknown> {
  const { test } = ctx;
  const prompt = typeof test.prompt === 'string' ? test.prompt : test.prompt.map((m) => `${m.role}: ${m.content}`).join('\n');
  return {
    prompt,
    vars: test.vars,
    test: { id: test.id, description: test.description, vars: test.vars, metadata: test.metadata },
    config: spec.config ?? {},
    ...(ctx.latencyMs !== undefined && { latencyMs: Math.round(ctx.latencyMs) }),
    ...(ctx.response?.tokenUsage && { tokenUsage: ctx.response.tokenUsage }),
    ...(ctx.response?.costUsd !== undefined && { cost: ctx.response.costUsd }),
  };
}

/** promptfoo's reading of what an assertion function returned. */
export function verdictFromReturn(v: unknown, threshold: number | undefined, what: string): Verdict {
  if (typeof v === 'boolean') return { pass: v, score: v ? 1 : 0, reason: null };
  if (typeof v === 'number') {
    const pass = threshold !== undefined ? v >= threshold : v > 0;
    return { pass, score: clamp01(v), reason: `${what} returned ${v}` };
  }
  if (v !== null && typeof v === 'object' && ('pass' in v || 'score' in v)) {
    const r = v as { pass?: unknown; score?: unknown; reason?: unknown };
    const score = typeof r.score === 'number' ? r.score : undefined;
    let pass = typeof r.pass === 'boolean' ? r.pass : (score ?? 0) >= (threshold ?? 0.5);
    if (threshold !== undefined && score !== undefined) pass = pass && score >= threshold;
    return { pass, score: clamp01(score ?? (pass ? 1 : 0)), reason: typeof r.reason === 'string' ? r.reason : null };
  }
  throw new GradingError(`${what} returned ${JSON.stringify(v)}; expected a boolean, a number or {pass, score, reason}`);
}

/** Inline code: one line is an expression; several lines are a function body (promptfoo's rule). */
function jsBody(code: string): string {
  return code.trim().includes('\n') ? code : `return (${code});`;
}

export async function javascriptVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const value = String(spec.value ?? '');
  const ref = fileRef(value);
  const job = ref
    ? { kind: 'js' as const, file: resolveFromSuite(spec, ctx, ref.file), ...(ref.fn ? { fn: ref.fn } : {}), output, context: userContext(spec, ctx) }
    : { kind: 'js' as const, body: jsBody(value), output, context: userContext(spec, ctx) };
  const result = await runSandboxed({ job, timeoutMs: ctx.timeoutMs, signal: ctx.signal, what: 'javascript assertion' });
  return verdictFromReturn(result, spec.threshold, 'javascript assertion');
}

/** promptfoo `transform`: the output as the expression (or file function) makes it. */
export async function applyTransform({ transform, output, spec, ctx }: { transform: string; output: string; spec: AssertionSpec; ctx: GradeContext }): Promise<string> {
  const ref = fileRef(transform);
  const job = ref
    ? { kind: 'js' as const, file: resolveFromSuite(spec, ctx, ref.file), ...(ref.fn ? { fn: ref.fn } : {}), output, context: userContext(spec, ctx) }
    : { kind: 'js' as const, body: jsBody(transform), output, context: userContext(spec, ctx) };
  const result = await runSandboxed({ job, timeoutMs: ctx.timeoutMs, signal: ctx.signal, what: 'transform' });
  return typeof result === 'string' ? result : JSON.stringify(result);
}

const PY_MARK = '__AGENTV_RESULT__';
// Reads {output, context, code | file, fn} on stdin and prints the result after a marker,
// so the user's own prints do not get in the way.
const PY_RUNNER = `
import json, sys, os, importlib.util
job = json.load(sys.stdin)
output, context = job["output"], job["context"]
if job.get("file"):
    sys.path.insert(0, os.path.dirname(job["file"]))
    spec = importlib.util.spec_from_file_location("agentv_assertion", job["file"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    name = job.get("fn") or "get_assert"
    if not hasattr(mod, name):
        raise SystemExit("the file defines no function " + name)
    result = getattr(mod, name)(output, context)
else:
    code = job["code"]
    if "\\n" in code.strip():
        src = "def __agentv_assert(output, context):\\n" + "\\n".join("    " + l for l in code.splitlines())
    else:
        src = "def __agentv_assert(output, context):\\n    return (" + code + ")"
    ns = {}
    exec(src, ns)
    result = ns["__agentv_assert"](output, context)
sys.stdout.write("\\n${PY_MARK}" + json.dumps(result, default=str) + "\\n")
`;

export async function pythonVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const value = String(spec.value ?? '');
  const ref = fileRef(value);
  const job = ref
    ? { file: resolveFromSuite(spec, ctx, ref.file), fn: ref.fn ?? null, output, context: userContext(spec, ctx) }
    : { code: value, output, context: userContext(spec, ctx) };
  const r = await spawnBounded({ command: ['python3', '-c', PY_RUNNER], stdin: JSON.stringify(job), ctx, what: 'python assertion', missing: 'python assertions need python3 on PATH' });
  const line = r.stdout.split('\n').reverse().find((l) => l.startsWith(PY_MARK));
  if (r.exitCode !== 0 || line === undefined) {
    const why = stderrTail(r.stderr, 3) || (r.exitCode === 0 ? 'no result' : `exit code ${r.exitCode}`);
    throw new GradingError(`python assertion failed: ${why}`);
  }
  return verdictFromReturn(JSON.parse(line.slice(PY_MARK.length)), spec.threshold, 'python assertion');
}

/** Runs an assertion's process with the assertion time limit; only a judged result resolves. */
async function spawnBounded({ command, stdin, ctx, cwd, what, missing }: { command: string[]; stdin: string; ctx: GradeContext; cwd?: string; what: string; missing?: string }): Promise<ProcessResult> {
  const [file, ...args] = command;
  if (!file) throw new GradingError(`${what} has no command`);
  let r: ProcessResult;
  try {
    r = await runProcess({ file, args, cwd: cwd ?? ctx.cwd, stdin, registry: ctx.registry, signal: ctx.signal, timeoutMs: ctx.timeoutMs, maxStdoutBytes: 1024 * 1024 });
  } catch (err) {
    if (err instanceof SpawnError && err.code === 'ENOENT' && missing) throw new GradingError(`${missing} (${file} was not found)`);
    throw new GradingError(`cannot run ${what} ${JSON.stringify(file)}: ${(err as Error).message}`);
  }
  if (r.ended === 'timeout') throw new GradingError(`${what} timed out after ${ctx.timeoutMs} ms (limits.assertion_timeout_ms)`);
  if (r.ended === 'aborted') throw new GradingError(`${what} aborted`);
  return r;
}

function tail(s: string, max = 500): string {
  const t = s.trim();
  return t.length > max ? `…${t.slice(-max)}` : t;
}

/** The script's JSON verdict: its whole stdout, or else its last non-empty line. */
function jsonAnswer(stdout: string): Record<string, unknown> | null {
  const lines = stdout.trim().split('\n').filter((l) => l.trim() !== '');
  for (const candidate of [stdout.trim(), lines[lines.length - 1] ?? '']) {
    try {
      const v: unknown = JSON.parse(candidate);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // not JSON: judged by the exit code
    }
  }
  return null;
}

/** `script`: the test, output and vars on stdin; `{pass, score?, reason?}` on stdout, or the exit code. */
export async function scriptVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const { test } = ctx;
  const stdin = JSON.stringify({ test: { id: test.id, vars: test.vars, metadata: test.metadata }, output, vars: test.vars });
  const r = await spawnBounded({ command: spec.command ?? [], stdin, ctx, what: 'script' });
  const answer = jsonAnswer(r.stdout);
  if (answer && typeof answer.pass === 'boolean') {
    return { pass: answer.pass, score: typeof answer.score === 'number' ? clamp01(answer.score) : answer.pass ? 1 : 0, reason: typeof answer.reason === 'string' ? answer.reason : null };
  }
  if (r.exitCode === 0) return { pass: true, score: 1, reason: tail(r.stdout) || null };
  const why = r.exitCode === null ? `killed by ${r.exitSignal}` : `exit code ${r.exitCode}`;
  const detail = tail(r.stderr) || tail(r.stdout);
  return { pass: false, score: 0, reason: detail ? `${why}: ${detail}` : why };
}

function messagesOf(text: unknown, role: 'user' | 'assistant'): { role: string; content: string }[] {
  if (text === undefined || text === null) return [];
  if (Array.isArray(text)) return text as { role: string; content: string }[];
  return [{ role, content: typeof text === 'string' ? text : JSON.stringify(text) }];
}

/** The agentv CLI's stdin payload (snake_case) for code graders and prompt-template commands. */
export function agentvPayload(ctx: GradeContext, output: string, config: Record<string, unknown> | null): Record<string, unknown> {
  const { test, response } = ctx;
  const trace = response?.trace;
  return {
    input: Array.isArray(test.prompt) ? test.prompt : messagesOf(test.vars.input ?? test.prompt, 'user'),
    input_files: [],
    criteria: test.vars.criteria ?? test.metadata.criteria ?? '',
    output,
    expected_output: messagesOf(test.vars.expected_output, 'assistant'),
    messages: [{ role: 'assistant', content: output }],
    trace_summary: trace
      ? {
          event_count: trace.toolCalls.length,
          tool_calls: countTools(trace.toolCalls.map((c) => c.tool)),
          error_count: 0,
          llm_call_count: trace.llmCalls ?? 0,
        }
      : null,
    token_usage: response?.tokenUsage ? { input: response.tokenUsage.prompt, output: response.tokenUsage.completion } : null,
    cost_usd: response?.costUsd ?? null,
    duration_ms: ctx.latencyMs !== undefined ? Math.round(ctx.latencyMs) : null,
    config,
    metadata: test.metadata,
  };
}

/**
 * The agentv CLI's prompt-template command (`prompt: {command, config}` on an llm grader):
 * run in the suite's folder with the payload on stdin; its stdout is the grader prompt.
 */
export async function promptFromCommand(spec: AssertionSpec, ctx: GradeContext, output: string, ref: { command: string[]; config?: Record<string, unknown> }): Promise<string> {
  const dir = typeof spec.options?.dir === 'string' ? spec.options.dir : '';
  const r = await spawnBounded({ command: ref.command, stdin: JSON.stringify(agentvPayload(ctx, output, ref.config ?? null)), ctx, cwd: path.resolve(ctx.cwd, dir), what: 'prompt template command' });
  if (r.exitCode !== 0) throw new GradingError(`prompt template command ${ref.command.join(' ')} failed (exit code ${r.exitCode}): ${stderrTail(r.stderr, 3) || tail(r.stdout)}`);
  if (r.stdout.trim() === '') throw new GradingError(`prompt template command ${ref.command.join(' ')} printed no prompt`);
  return r.stdout;
}

/** agentv's code grader: its stdin payload (snake_case) and `{score, assertions, reasoning}` answer. */
export async function codeGraderVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const payload = agentvPayload(ctx, output, spec.config ?? null);
  const dir = typeof spec.options?.dir === 'string' ? spec.options.dir : '';
  const cwd = path.resolve(ctx.cwd, dir, typeof spec.options?.cwd === 'string' ? spec.options.cwd : '.');
  const r = await spawnBounded({ command: spec.command ?? [], stdin: JSON.stringify(payload), ctx, cwd, what: 'code grader' });
  const answer = jsonAnswer(r.stdout);
  const threshold = spec.threshold ?? AGENTV_PASS_SCORE;
  if (answer && (typeof answer.score === 'number' || typeof answer.pass === 'boolean')) {
    // agentv 4.x answers `assertions: [{text, passed}]`; 5.x script graders `checks: [{text, pass}]`.
    const listed = Array.isArray(answer.assertions) ? answer.assertions : Array.isArray(answer.checks) ? answer.checks : [];
    const checks = (listed as { text?: unknown; passed?: unknown; pass?: unknown }[]).map((c) => ({ text: c.text, passed: c.passed ?? c.pass }));
    const score = typeof answer.score === 'number' ? clamp01(answer.score) : answer.pass ? 1 : 0;
    const pass = typeof answer.pass === 'boolean' ? answer.pass : score >= threshold;
    const failed = checks.filter((c) => c.passed === false).map((c) => String(c.text ?? ''));
    const reason = typeof answer.reasoning === 'string' ? answer.reasoning : typeof answer.reason === 'string' ? answer.reason : failed.length ? `failed: ${failed.join('; ')}` : checks.map((c) => String(c.text ?? '')).join('; ') || null;
    return { pass, score, reason };
  }
  if (r.exitCode === 0) return { pass: true, score: 1, reason: tail(r.stdout) || null };
  // agentv: a non-zero exit that wrote to stderr is an execution error, not a verdict.
  if (r.stderr.trim() !== '') throw new GradingError(`code grader failed (exit code ${r.exitCode}): ${stderrTail(r.stderr, 3)}`);
  return { pass: false, score: 0, reason: tail(r.stdout) || `exit code ${r.exitCode}` };
}

function countTools(names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}
