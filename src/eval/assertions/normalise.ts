// From a written assertion (validated by SuiteAssertion) to the AssertionSpec the runner
// grades: spellings folded, `not-`/`negate` combined, templates in values rendered with
// the test's vars, nested assertions normalised. A field appears in the spec only when
// written, so an assertion that did not change keeps its input_hash.
import { parseAssertionType, type SuiteAssertion } from '../../schemas/assertion.js';
import { renderTemplate } from '../template.js';
import type { AssertionSpec } from '../types.js';

export type PathSeg = string | number;

/** Keys that are read into AssertionSpec fields; everything else kind-specific goes into `options`. */
const CONSUMED = new Set([
  'type', 'value', 'threshold', 'weight', 'required', 'metric', 'provider', 'transform', 'config', 'negate', 'name', 'description',
  'command', 'script', 'assert', 'assertions', 'graders', 'max_ms', 'max_usd',
]);

/** Kinds whose string values are templates rendered with the test's vars. */
const TEMPLATED = new Set([
  'equals', 'contains', 'icontains', 'contains-any', 'contains-all', 'icontains-any', 'icontains-all', 'starts-with', 'ends-with',
  'regex', 'llm-rubric', 'levenshtein', 'similar', 'model-graded-closedqa', 'factuality', 'g-eval',
]);

/** Kinds that read files named relative to the suite (file://, prompt files, commands run there). */
const FILE_KINDS = new Set(['javascript', 'python', 'code-grader', 'llm-grader']);

export interface NormaliseAssertionOptions {
  assertion: SuiteAssertion;
  vars: Record<string, unknown>;
  /** Where the assertion is in its file, for problems. */
  at: PathSeg[];
  /** The suite's folder relative to the repository root ('' at the root), for file references. */
  suiteDir?: string;
  /** Records a problem found while rendering (e.g. a regex that only breaks once rendered). */
  report: (at: PathSeg[], message: string) => void;
}

/**
 * @example normaliseAssertion({ assertion: { type: 'not-contains', value: '{{x}}' }, vars: { x: 'a' }, at: ['assert', 0], report })
 * // { type: 'contains', negate: true, weight: 1, required: false, value: 'a' }
 */
export function normaliseAssertion(o: NormaliseAssertionOptions): AssertionSpec {
  const a = o.assertion;
  const { kind, negate } = parseAssertionType({ type: a.type })!;
  const spec: AssertionSpec = { type: kind, negate: a.negate ? !negate : negate, weight: a.weight ?? 1, required: a.required !== undefined && a.required !== false };
  const threshold = a.threshold ?? (kind === 'latency' ? num(a.max_ms) : kind === 'cost' ? num(a.max_usd) : undefined);
  if (threshold !== undefined) spec.threshold = threshold;
  const metric = a.metric ?? (typeof a.name === 'string' ? a.name : undefined);
  if (metric !== undefined) spec.metric = metric;
  if (a.provider !== undefined) spec.provider = typeof a.provider === 'string' ? a.provider : a.provider.id;
  if (a.transform !== undefined) spec.transform = a.transform;
  if (a.config !== undefined) spec.config = a.config;
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) if (!CONSUMED.has(k) && v !== undefined) options[k] = v;
  if (FILE_KINDS.has(kind) && o.suiteDir) options.dir = o.suiteDir;
  if (typeof a.required === 'number') options.required_score = a.required;
  if (Object.keys(options).length > 0) spec.options = options;

  const render = (v: unknown) => renderTemplate({ template: String(v), vars: o.vars });
  const value = a.value;
  switch (kind) {
    case 'script': {
      const cmd = a.command ?? value;
      spec.command = typeof cmd === 'string' ? ['sh', '-c', cmd] : (cmd as string[]);
      break;
    }
    case 'code-grader': {
      const cmd = a.command ?? a.script ?? value;
      spec.command = typeof cmd === 'string' ? ['sh', '-c', cmd] : (cmd as string[]);
      break;
    }
    case 'assert-set':
    case 'composite': {
      const members = (kind === 'assert-set' ? a.assert : (a.assertions ?? a.graders)) ?? [];
      const key = kind === 'assert-set' ? 'assert' : a.assertions ? 'assertions' : 'graders';
      spec.children = members.map((child, i) => normaliseAssertion(Object.assign({}, o, { assertion: child, at: [...o.at, key, i] })));
      break;
    }
    case 'is-json':
    case 'contains-json':
      if (value !== undefined && value !== null) spec.value = value;
      break;
    case 'latency':
    case 'cost':
      break;
    case 'contains-any':
    case 'contains-all':
    case 'icontains-any':
    case 'icontains-all': {
      const list = Array.isArray(value) ? value.map(String) : String(value).split(',').map((x) => x.trim()).filter(Boolean);
      spec.value = list.map(render);
      break;
    }
    case 'equals':
      spec.value = typeof value === 'string' ? render(value) : value;
      break;
    default: {
      if (value === undefined) break;
      if (!TEMPLATED.has(kind)) {
        spec.value = value;
        break;
      }
      const rendered = Array.isArray(value) ? value.map(render) : render(value);
      spec.value = rendered;
      if (kind === 'regex' && rendered !== value) {
        try {
          new RegExp(rendered as string, typeof a.flags === 'string' ? a.flags : '');
        } catch (err) {
          o.report([...o.at, 'value'], `after rendering: ${(err as Error).message}`);
        }
      }
    }
  }
  return spec;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** True when the assertion (or one nested in it) is judged by a grader target. */
export function usesGrader(spec: AssertionSpec): boolean {
  if (spec.children) return spec.children.some(usesGrader);
  // llm-rubric always counted (as before per-assertion graders existed), so its hashes stay put.
  if (spec.type === 'llm-rubric') return true;
  const ownGrader = spec.provider !== undefined || spec.options?.target !== undefined;
  return !ownGrader && ['llm-grader', 'rubrics', 'model-graded-closedqa', 'factuality', 'answer-relevance', 'g-eval', 'similar', 'trajectory:goal-success'].includes(spec.type);
}

/** Graders named on assertions (`provider:`, agentv `target:`), nested ones included, as resolveGrader takes them. */
export function namedGraders(spec: AssertionSpec): string[] {
  if (spec.children) return spec.children.flatMap(namedGraders);
  const named = spec.provider ?? (typeof spec.options?.target === 'string' ? spec.options.target : undefined);
  if (named === undefined) return [];
  const embedding = /^openai:embeddings?:(.+)$/.exec(named);
  return [embedding ? `openai:${embedding[1]}` : named];
}
