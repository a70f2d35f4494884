// Written assertions -> AssertionSpec: checks that need more than the schema (template
// syntax, is-json schemas) and normalisation with the test's vars. Moved here unchanged
// from the old single-file loader; the kinds themselves belong to src/eval/assertions/.
import { SuiteAssertion, parseAssertionType, type SuiteProblemCode } from '../../schemas/suite.js';
import { jsonSchemaProblems } from '../assertions/json-schema.js';
import { checkTemplate, renderTemplate } from '../template.js';
import type { AssertionSpec } from '../types.js';
import { formatPath, type LineOf, type PathSeg, type Problems } from './problems.js';

export interface SourcedAssertion {
  a: SuiteAssertion;
  file: string;
  lineOf: LineOf;
  at: PathSeg[];
  testId?: string;
}

const TEMPLATED_KINDS = new Set(['equals', 'contains', 'icontains', 'contains-any', 'contains-all', 'icontains-any', 'icontains-all', 'starts-with', 'ends-with', 'regex', 'llm-rubric']);

/** Once per written assertion (not per test): template syntax and is-json schemas. */
export function checkAssertionSource(s: SourcedAssertion, problems: Problems): void {
  const kind = parseAssertionType({ type: s.a.type })?.kind;
  const at = [...s.at, 'value'];
  const add = (code: SuiteProblemCode, message: string) =>
    problems.add({ code, file: s.file, line: s.lineOf(at), test_id: s.testId, message: `${formatPath(at)}: ${message}` });
  if (kind === 'is-json' && s.a.value !== undefined && s.a.value !== null) {
    for (const m of jsonSchemaProblems({ schema: s.a.value })) add('invalid_assertion', `is-json schema: ${m}`);
  }
  if (kind && TEMPLATED_KINDS.has(kind)) {
    const strings = Array.isArray(s.a.value) ? s.a.value : [s.a.value];
    for (const v of strings) if (typeof v === 'string') for (const m of checkTemplate({ template: v })) add('unsupported', m);
  }
}

/** Validates a written list; returns the valid items with their places (invalid ones become problems). */
export function parseAssertionList(o: { list: unknown; file: string; lineOf: LineOf; at: PathSeg[]; testId?: string; problems: Problems }): SourcedAssertion[] {
  if (o.list === undefined || o.list === null) return [];
  if (!Array.isArray(o.list)) {
    o.problems.add({ code: 'invalid', file: o.file, line: o.lineOf(o.at), test_id: o.testId, message: `${formatPath(o.at)}: assertions are a list` });
    return [];
  }
  const out: SourcedAssertion[] = [];
  o.list.forEach((item, i) => {
    const at = [...o.at, i];
    const r = SuiteAssertion.safeParse(item);
    if (!r.success) {
      o.problems.addZod(r.error, { file: o.file, lineOf: o.lineOf, at, testId: o.testId });
      return;
    }
    const s = { a: r.data, file: o.file, lineOf: o.lineOf, at, testId: o.testId };
    checkAssertionSource(s, o.problems);
    out.push(s);
  });
  return out;
}

export function normaliseAssertion(s: SourcedAssertion, vars: Record<string, unknown>, testId: string, problems: Problems): AssertionSpec {
  const { a } = s;
  const { kind, negate } = parseAssertionType({ type: a.type })!;
  const spec: AssertionSpec = { type: kind, negate, weight: a.weight ?? 1, required: a.required ?? false };
  if (a.threshold !== undefined) spec.threshold = a.threshold;
  if (a.metric !== undefined) spec.metric = a.metric;
  if (a.provider !== undefined) spec.provider = a.provider;
  const render = (v: unknown) => renderTemplate({ template: String(v), vars });
  const value = a.value;
  switch (kind) {
    case 'script':
      spec.command = typeof value === 'string' ? ['sh', '-c', value] : (value as string[]);
      break;
    case 'is-json':
      if (value !== undefined && value !== null) spec.value = value;
      break;
    case 'latency':
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
      const rendered = render(value);
      spec.value = rendered;
      if (kind === 'regex' && rendered !== value) {
        try {
          new RegExp(rendered);
        } catch (err) {
          const at = [...s.at, 'value'];
          problems.add({ code: 'invalid_assertion', file: s.file, line: s.lineOf(at), test_id: testId, message: `${formatPath(at)}: after rendering: ${(err as Error).message}` });
        }
      }
    }
  }
  return spec;
}
