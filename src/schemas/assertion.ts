// Assertions as users write them: promptfoo's kinds and spellings, agentv's grader kinds
// (4.x and 5.x), and agentv's own. Every kind has its own allowed keys and checks, so a
// typo or a key meant for another kind is an error with its path, never silently ignored.
import { z } from 'zod';
import type { SuiteProblemCode } from './suite.js';
import { COMMON_KEYS, KIND_KEYS, PEER_ONLY } from './assertion-keys.js';
import { TRAJECTORY_KINDS, trajectoryValueProblem } from './assertion-trajectory.js';

export const ASSERTION_KINDS = [
  'equals',
  'contains',
  'icontains',
  'contains-any',
  'contains-all',
  'icontains-any',
  'icontains-all',
  'starts-with',
  'ends-with',
  'regex',
  'is-json',
  'contains-json',
  'levenshtein',
  'latency',
  'cost',
  'script',
  'javascript',
  'python',
  'code-grader',
  'llm-rubric',
  'llm-grader',
  'rubrics',
  'model-graded-closedqa',
  'factuality',
  'answer-relevance',
  'g-eval',
  'similar',
  'assert-set',
  'composite',
  'tool-trajectory',
  'execution-metrics',
  ...TRAJECTORY_KINDS,
] as const;
export type AssertionKind = (typeof ASSERTION_KINDS)[number];

const KIND_SET: ReadonlySet<string> = new Set(ASSERTION_KINDS);

/** Other spellings users write for our kinds: promptfoo's camelCase, agentv's underscores and older names. */
const ALIASES: Record<string, AssertionKind> = {
  'code-judge': 'code-grader',
  'llm-judge': 'llm-grader',
  'is-valid-json': 'is-json',
  'model-graded-factuality': 'factuality',
  'token-usage': 'execution-metrics',
};

/** `containsAny` → `contains-any`, `code_judge` → `code-judge`. */
function kebab(type: string): string {
  return type
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replaceAll('_', '-')
    .toLowerCase();
}

/** The kinds whose judge is the grader target (an LLM). */
export const MODEL_GRADED_KINDS: ReadonlySet<AssertionKind> = new Set([
  'llm-rubric',
  'llm-grader',
  'rubrics',
  'model-graded-closedqa',
  'factuality',
  'answer-relevance',
  'g-eval',
  'trajectory:goal-success',
]);

/**
 * Splits `not-contains` into `{kind: 'contains', negate: true}` and maps other spellings
 * (`notContainsAny`, `code_judge`, `llm-judge`) onto our kinds; null for an unknown kind.
 * @example parseAssertionType({ type: 'not-regex' }) // { kind: 'regex', negate: true }
 */
export function parseAssertionType({ type }: { type: string }): { kind: AssertionKind; negate: boolean } | null {
  let k = KIND_SET.has(type) ? type : kebab(type);
  const negate = k.startsWith('not-');
  if (negate) k = k.slice(4);
  const kind = KIND_SET.has(k) ? (k as AssertionKind) : ALIASES[k];
  return kind ? { kind, negate } : null;
}

type Ctx = z.RefinementCtx;
function issue(ctx: Ctx, code: SuiteProblemCode, message: string, path: (string | number)[] = []): void {
  ctx.addIssue({ code: 'custom', message, path, params: { code } });
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

const isStringish = (v: unknown): v is string | number => typeof v === 'string' || typeof v === 'number';
const isCommand = (v: unknown) =>
  typeof v === 'string' ? v.trim() !== '' : Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string');
const isPositive = (v: unknown) => typeof v === 'number' && v > 0;

function checkKind(kind: AssertionKind, a: Record<string, unknown>, ctx: Ctx): void {
  const { value } = a;
  const bad = (message: string, path: string[] = ['value']) => issue(ctx, 'invalid_assertion', message, path);
  switch (kind) {
    case 'equals':
      if (value === undefined || value === null) bad('equals needs a `value`');
      break;
    case 'contains':
    case 'icontains':
    case 'starts-with':
    case 'ends-with':
      if (!isStringish(value) || value === '') bad(`${kind} needs a non-empty string \`value\``);
      break;
    case 'contains-any':
    case 'contains-all':
    case 'icontains-any':
    case 'icontains-all':
      if (!(Array.isArray(value) ? value.length > 0 && value.every(isStringish) : typeof value === 'string' && value.trim() !== '')) {
        bad(`${kind} needs \`value\`: a list of strings or a comma-separated string`);
      }
      break;
    case 'regex':
      if (typeof value !== 'string' || value === '') bad('regex needs a pattern string in `value`');
      else if (a.flags !== undefined && (typeof a.flags !== 'string' || !/^[dgimsuvy]*$/.test(a.flags))) bad('regex `flags` must be letters from dgimsuvy', ['flags']);
      else if (!value.includes('{{')) {
        try {
          new RegExp(value, typeof a.flags === 'string' ? a.flags : '');
        } catch (err) {
          bad((err as Error).message);
        }
      }
      break;
    case 'is-json':
    case 'contains-json':
      if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) {
        bad(`${kind} \`value\` must be a JSON Schema object`);
      }
      break;
    case 'levenshtein':
      if (!isStringish(value)) bad('levenshtein needs the expected text in `value`');
      break;
    case 'latency':
      if (!isPositive(a.threshold) && !isPositive(a.max_ms)) bad('latency needs `threshold` (or `max_ms`): the limit in milliseconds', ['threshold']);
      break;
    case 'cost':
      if (!isPositive(a.threshold) && !isPositive(a.max_usd)) bad('cost needs `threshold` (or `max_usd`): the limit in US dollars', ['threshold']);
      break;
    case 'script':
      if (!isCommand(a.command ?? value)) bad('script needs a command in `value`: an argv list (["node", "check.js"]) or a shell string');
      break;
    case 'code-grader':
      if (!isCommand(a.command ?? a.script ?? value)) bad('a code grader needs `command`: an argv list ([python3, check.py]) or a shell string', ['command']);
      if (a.provider_access !== undefined) issue(ctx, 'unsupported', 'a script grader with `provider:` access (an LLM proxy the script calls through) is not supported: agentv gives scripts no LLM proxy', ['provider']);
      break;
    case 'javascript':
    case 'python':
      if (typeof value !== 'string' || value.trim() === '') bad(`${kind} needs code or a file://path in \`value\``);
      break;
    case 'llm-rubric':
    case 'model-graded-closedqa':
    case 'factuality':
      if (typeof value !== 'string' || value.trim() === '') bad(`${kind} needs its text in \`value\``);
      break;
    case 'g-eval':
      if (!(typeof value === 'string' ? value.trim() !== '' : Array.isArray(value) && value.length > 0 && value.every((s) => typeof s === 'string'))) {
        bad('g-eval needs the criteria in `value` (a string or a list of strings)');
      }
      break;
    case 'similar':
      if (!(isStringish(value) || (Array.isArray(value) && value.length > 0 && value.every(isStringish)))) bad('similar needs the expected text in `value`');
      break;
    case 'llm-grader':
      if (a.prompt !== undefined && typeof a.prompt !== 'string') {
        const p = a.prompt as { command?: unknown; config?: unknown } | null;
        const command = p !== null && typeof p === 'object' && !Array.isArray(p) ? p.command : undefined;
        const okCommand = Array.isArray(command) && command.length > 0 && command.every((x) => typeof x === 'string');
        const extra = p !== null && typeof p === 'object' ? Object.keys(p).filter((k) => k !== 'command' && k !== 'config') : [];
        if (!okCommand || extra.length > 0 || (p!.config !== undefined && (p!.config === null || typeof p!.config !== 'object'))) {
          bad('llm-grader `prompt` is a prompt file path, the prompt text, or a prompt-template command {command: [argv], config?: {...}}', ['prompt']);
        }
      }
      break;
    case 'rubrics': {
      const items = a.criteria ?? a.rubrics ?? value;
      if (!Array.isArray(items) || items.length === 0) bad('rubrics needs `criteria`: a list of outcomes (strings or {outcome, weight, required})', ['criteria']);
      break;
    }
    case 'assert-set':
      if (!Array.isArray(a.assert) || a.assert.length === 0) bad('assert-set needs `assert`: a list of assertions', ['assert']);
      break;
    case 'composite': {
      const members = a.assertions ?? a.graders;
      if (!Array.isArray(members) || members.length === 0) bad('composite needs `assertions`: a list of graders', ['assertions']);
      const agg = a.aggregator as { type?: unknown } | undefined;
      if (agg !== undefined && !(agg && typeof agg === 'object' && ['weighted_average', 'threshold', 'minimum', 'all_pass'].includes(String(agg.type)))) {
        bad('composite `aggregator.type` must be weighted_average, threshold, minimum or all_pass (code and llm aggregators are not supported)', ['aggregator']);
      }
      break;
    }
    case 'tool-trajectory': {
      const mode = a.mode ?? 'any_order';
      if (!['any_order', 'in_order', 'exact'].includes(String(mode))) bad('tool-trajectory `mode` must be any_order, in_order or exact', ['mode']);
      if (mode === 'any_order' && (a.minimums === null || typeof a.minimums !== 'object')) bad('tool-trajectory any_order needs `minimums`: {tool: count}', ['minimums']);
      if (mode !== 'any_order' && !Array.isArray(a.expected)) bad(`tool-trajectory ${String(mode)} needs \`expected\`: a list of {tool, args?}`, ['expected']);
      break;
    }
    case 'execution-metrics': {
      const limits = (KIND_KEYS['execution-metrics'] ?? []).filter((k) => k.startsWith('max_') || k === 'target_exploration_ratio');
      if (!limits.some((k) => a[k] !== undefined)) bad(`execution-metrics needs at least one of ${limits.join(', ')}`, []);
      break;
    }
    case 'answer-relevance':
      break;
    default: {
      const problem = trajectoryValueProblem(kind, value);
      if (problem) bad(problem);
    }
  }
}

function checkAssertion(a: Record<string, unknown> & { type: string }, ctx: Ctx): void {
  const parsed = parseAssertionType({ type: a.type });
  const peerOnly = PEER_ONLY[kebab(a.type).replace(/^not-/, '')];
  if (!parsed && peerOnly) {
    issue(ctx, 'unsupported', `the agentv CLI's "${a.type}" assertion is not supported: ${peerOnly}`, ['type']);
    return;
  }
  if (!parsed) {
    const kind = kebab(a.type).replace(/^not-/, '');
    const near = ASSERTION_KINDS.find((k) => editDistance(k, kind) <= 2);
    const why = near ? `did you mean "${a.type.startsWith('not-') ? 'not-' : ''}${near}"?` : `known kinds: ${ASSERTION_KINDS.join(', ')}, each also as not-<kind>`;
    issue(ctx, 'unknown_assertion', `unknown assertion type "${a.type}" (${why})`, ['type']);
    return;
  }
  const allowed = new Set([...COMMON_KEYS, ...(KIND_KEYS[parsed.kind] ?? [])]);
  for (const key of Object.keys(a)) {
    if (!allowed.has(key)) issue(ctx, 'invalid_assertion', `unknown key "${key}" in a ${parsed.kind} assertion (allowed: ${[...allowed].join(', ')})`, [key]);
  }
  checkKind(parsed.kind, a, ctx);
}

/**
 * agentv 5.x writes three graders as `llm-rubric`: with `value` a list of rubric items
 * (outcome strings or {id, outcome, weight, required}) it is `rubrics`; with a `prompt` (file or text) it is
 * `llm-grader`; with neither a value nor a prompt it is `llm-grader` judging the test's
 * criteria and expected output. promptfoo's `llm-rubric` (a text `value`) is unchanged.
 */
function agentvRubric(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const a = v as Record<string, unknown>;
  if (typeof a.type !== 'string' || !/^(not-)?llm[-_]rubric$/.test(a.type)) return v;
  const not = a.type.startsWith('not-') ? 'not-' : '';
  if (Array.isArray(a.value)) {
    const { value, ...rest } = a;
    return { ...rest, type: `${not}rubrics`, criteria: value };
  }
  if (a.prompt !== undefined || a.value === undefined) {
    const { value, ...rest } = a;
    return { ...rest, type: `${not}llm-grader`, ...(typeof value === 'string' ? { criteria: value } : {}) };
  }
  return v;
}

const Provider = z.union([z.string(), z.looseObject({ id: z.string() })], { error: '`provider` is a target name, or {id}' });

/** One assertion: an object, or a bare string (= an llm-rubric with that rubric). */
export const SuiteAssertion: z.ZodType<SuiteAssertionShape> = z.preprocess(
  (v) => (typeof v === 'string' ? { type: 'llm-rubric', value: v } : agentvRubric(v)),
  z
    .looseObject({
      type: z.string({ error: 'an assertion needs a `type`' }),
      value: z.unknown().optional(),
      threshold: z.number().optional(),
      weight: z.number().min(0).optional(),
      /** agentv also writes a number: the score this assertion must reach. */
      required: z.union([z.boolean(), z.number().min(0).max(1)], { error: '`required` is true/false, or the score (0..1) it must reach' }).optional(),
      negate: z.boolean().optional(),
      metric: z.string().optional(),
      provider: Provider.optional(),
      transform: z.string().optional(),
      config: z.record(z.string(), z.unknown()).optional(),
      assert: z.array(z.lazy(() => SuiteAssertion)).optional(),
      assertions: z.array(z.lazy(() => SuiteAssertion)).optional(),
      graders: z.array(z.lazy(() => SuiteAssertion)).optional(),
    })
    .superRefine(checkAssertion),
) as z.ZodType<SuiteAssertionShape>;

export interface SuiteAssertionShape {
  type: string;
  value?: unknown;
  threshold?: number;
  weight?: number;
  required?: boolean | number;
  negate?: boolean;
  metric?: string;
  provider?: string | { id: string; [k: string]: unknown };
  transform?: string;
  config?: Record<string, unknown>;
  assert?: SuiteAssertionShape[];
  assertions?: SuiteAssertionShape[];
  graders?: SuiteAssertionShape[];
  [key: string]: unknown;
}
export type SuiteAssertion = SuiteAssertionShape;
