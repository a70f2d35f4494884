// The agentv CLI's promptfoo-named trajectory assertions (`trajectory:tool-used`,
// `trajectory:tool-sequence`, `trajectory:tool-args-match`, `trajectory:step-count`,
// `trajectory:goal-success`), judged on the trace the target reported (TargetResponse.trace),
// like `tool-trajectory`. Each check scores 1 or 0, as the agentv CLI scores them; a target
// that reports no trace fails them with that as the reason. Names match as globs (`*`, `?`),
// ignoring case. Shapes are checked when the suite loads (schemas/assertion.ts).
import { isDeepStrictEqual } from 'node:util';
import type { AssertionSpec, ToolCallTrace } from '../types.js';
import type { GradeContext } from './context.js';
import type { Verdict } from './verdict.js';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A shell tool's command line is matched too (`exec_command {cmd: "npm test"}` matches `npm`). */
const SHELL_TOOLS = new Set(['exec_command', 'local_shell', 'shell', 'bash']);

interface Step {
  type: 'tool' | 'command';
  names: string[];
  label: string;
  args?: unknown;
}

function stepsOf(calls: ToolCallTrace[]): Step[] {
  return calls.map((c) => {
    let args = c.args;
    if (typeof args === 'string') {
      try {
        args = JSON.parse(args);
      } catch {
        /* kept as text */
      }
    }
    const cmdArg = isRec(args) ? (args.cmd ?? args.command) : undefined;
    const cmd = Array.isArray(cmdArg) ? cmdArg.map(String).join(' ') : typeof cmdArg === 'string' ? cmdArg : undefined;
    if (SHELL_TOOLS.has(c.tool.toLowerCase()) && cmd?.trim()) {
      const line = cmd.trim();
      return { type: 'command', names: [line, c.tool, line.split(/\s+/)[0]!], label: `command:${line}`, ...(args === undefined ? {} : { args }) };
    }
    return { type: 'tool', names: [c.tool], label: `tool:${c.tool}`, ...(args === undefined ? {} : { args }) };
  });
}

export function globMatch(text: string, pattern: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(text);
}

interface Matcher {
  pattern?: string;
  types?: string[];
}

function matcherOf(v: unknown, defaultType?: string): Matcher {
  if (typeof v === 'string') return { pattern: v, ...(defaultType ? { types: [defaultType] } : {}) };
  const o = isRec(v) ? v : {};
  const pattern = typeof o.pattern === 'string' ? o.pattern : typeof o.name === 'string' ? o.name : undefined;
  const types = o.type === undefined ? (defaultType ? [defaultType] : undefined) : (Array.isArray(o.type) ? o.type : [o.type]).map(String);
  return { ...(pattern === undefined ? {} : { pattern }), ...(types ? { types } : {}) };
}

function matches(step: Step, m: Matcher): boolean {
  if (m.types && !m.types.includes(step.type)) return false;
  return m.pattern === undefined || step.names.some((n) => globMatch(n, m.pattern!));
}

const list = (steps: Step[]) => (steps.length ? steps.map((s) => s.label).join(', ') : '(none)');
const verdict = (pass: boolean, reason: string): Verdict => ({ pass, score: pass ? 1 : 0, reason });

function toolUsed(value: unknown, steps: Step[]): Verdict {
  const tools = steps.filter((s) => s.type === 'tool');
  if (typeof value === 'string' || Array.isArray(value)) {
    const wanted = (Array.isArray(value) ? value : [value]).map((v) => matcherOf(v, 'tool'));
    const missing = wanted.filter((m) => !tools.some((s) => matches(s, m)));
    const names = (ms: Matcher[]) => ms.map((m) => m.pattern).join(', ');
    return verdict(missing.length === 0, missing.length ? `missing tool(s): ${names(missing)}; called: ${list(tools)}` : `called ${names(wanted)}; called: ${list(tools)}`);
  }
  const o = value as Rec;
  const m = matcherOf(o, 'tool');
  const min = typeof o.min === 'number' ? o.min : 1;
  const max = typeof o.max === 'number' ? o.max : undefined;
  const n = tools.filter((s) => matches(s, m)).length;
  return verdict(n >= min && (max === undefined || n <= max), `${m.pattern} called ${n} time(s) (wanted ${max === undefined ? `at least ${min}` : `${min}-${max}`}); called: ${list(tools)}`);
}

function toolSequence(value: unknown, steps: Step[]): Verdict {
  const tools = steps.filter((s) => s.type === 'tool');
  const o: Rec = Array.isArray(value) ? { steps: value } : (value as Rec);
  const wanted = (o.steps as unknown[]).map((v) => matcherOf(v, 'tool'));
  const names = wanted.map((m) => m.pattern).join(', ');
  if (o.mode === 'exact') {
    const ok = tools.length === wanted.length && wanted.every((m, i) => matches(tools[i]!, m));
    return verdict(ok, ok ? `exact sequence ${names}` : `wanted exactly ${names}; called: ${list(tools)}`);
  }
  let at = 0;
  for (const s of tools) if (at < wanted.length && matches(s, wanted[at]!)) at++;
  return verdict(at === wanted.length, at === wanted.length ? `called in order: ${names}; called: ${list(tools)}` : `${wanted[at]!.pattern} not called in order (wanted ${names}); called: ${list(tools)}`);
}

function partial(got: unknown, want: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(got) && got.length === want.length && want.every((w, i) => partial(got[i], w));
  if (isRec(want)) return isRec(got) && Object.entries(want).every(([k, w]) => Object.hasOwn(got, k) && partial(got[k], w));
  return isDeepStrictEqual(got, want);
}

function without(v: unknown, drop: (k: string, x: unknown) => boolean): unknown {
  return isRec(v) ? Object.fromEntries(Object.entries(v).filter(([k, x]) => !drop(k, x))) : v;
}

function toolArgsMatch(value: unknown, steps: Step[]): Verdict {
  const o = value as Rec;
  const m = matcherOf(o, 'tool');
  const want = Object.hasOwn(o, 'args') ? o.args : o.arguments;
  const mode = o.mode === 'exact' ? 'exact' : 'partial';
  const defaults = isRec(o.defaults) ? o.defaults : {};
  const ignore = (o.ignore === undefined ? [] : Array.isArray(o.ignore) ? o.ignore : [o.ignore]).map(String);
  const ignored = (k: string) => ignore.some((p) => globMatch(k, p));
  const clean = (args: unknown) => without(without(args, ignored), (k, x) => Object.hasOwn(defaults, k) && isDeepStrictEqual(x, defaults[k]));
  const candidates = steps.filter((s) => s.type === 'tool' && matches(s, m));
  const withArgs = candidates.filter((s) => s.args !== undefined);
  const wanted = without(want, ignored);
  const hit = withArgs.find((s) => (mode === 'exact' ? isDeepStrictEqual(clean(s.args), wanted) : partial(clean(s.args), wanted)));
  if (hit) return verdict(true, `${m.pattern} called with matching arguments (${mode}): ${JSON.stringify(hit.args)}`);
  if (candidates.length === 0) return verdict(false, `no call of ${m.pattern}; called: ${list(steps)}`);
  if (withArgs.length === 0) return verdict(false, `${m.pattern} was called but the trace holds no arguments`);
  return verdict(false, `no call of ${m.pattern} had arguments matching ${JSON.stringify(want)} (${mode}); seen: ${withArgs.map((s) => JSON.stringify(s.args)).join(', ')}`);
}

function stepCount(value: unknown, steps: Step[], llmCalls: number | undefined): Verdict {
  const o = value as Rec;
  const m = matcherOf(o);
  const min = typeof o.min === 'number' ? o.min : undefined;
  const max = typeof o.max === 'number' ? o.max : undefined;
  const types = m.types ?? ['tool', 'command'];
  let n: number;
  if (types.some((t) => t === 'message')) {
    // Messages are known only as a count of the target's LLM turns, without names.
    if (llmCalls === undefined || m.pattern !== undefined || types.length > 1) return verdict(false, 'the target reports no named message steps to count');
    n = llmCalls;
  } else if (types.some((t) => !['tool', 'command'].includes(t))) {
    return verdict(false, `the target's trace holds tool calls only; it cannot count ${types.join('|')} steps`);
  } else n = steps.filter((s) => matches(s, { ...m, types })).length;
  const ok = (min === undefined || n >= min) && (max === undefined || n <= max);
  return verdict(ok, `${n} ${types.join('|')} step(s)${m.pattern ? ` matching ${m.pattern}` : ''} (wanted ${min ?? 0}-${max ?? '∞'})`);
}

/** The four trace-only kinds; goal-success asks the grader (model-graded.ts). */
export function trajectoryVerdict(spec: AssertionSpec, ctx: GradeContext): Verdict {
  const trace = ctx.response?.trace;
  if (!trace) return { pass: false, score: 0, reason: `the target reported no trace (tool calls), so ${spec.type} cannot be checked` };
  const steps = stepsOf(trace.toolCalls);
  switch (spec.type) {
    case 'trajectory:tool-used':
      return toolUsed(spec.value, steps);
    case 'trajectory:tool-sequence':
      return toolSequence(spec.value, steps);
    case 'trajectory:tool-args-match':
      return toolArgsMatch(spec.value, steps);
    default:
      return stepCount(spec.value, steps, trace.llmCalls);
  }
}

/** What `trajectory:goal-success` shows the grader: the goal and the steps taken. */
export function goalRubric(spec: AssertionSpec, ctx: GradeContext): string {
  const goal = typeof spec.value === 'string' ? spec.value : String((spec.value as Rec).goal);
  const calls = ctx.response?.trace?.toolCalls ?? [];
  const steps = calls.length ? calls.map((c, i) => `${i + 1}. ${c.tool}${c.args === undefined ? '' : ` ${JSON.stringify(c.args)}`}`).join('\n') : '(the target reported no tool calls)';
  return `The agent achieved this goal: ${goal}\nJudge the final answer together with the steps the agent took:\n${steps}`;
}
