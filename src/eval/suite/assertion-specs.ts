// Written assertions -> AssertionSpec: checks that need more than the schema (template
// syntax, is-json schemas) and normalisation with the test's vars. Moved here unchanged
// from the old single-file loader; the kinds themselves belong to src/eval/assertions/.
import { SuiteAssertion, parseAssertionType, type SuiteProblemCode } from '../../schemas/suite.js';
import { quickAssertion } from '../../schemas/suite-check.js';
import { jsonSchemaProblems } from '../assertions/json-schema.js';
import { normaliseAssertion as normaliseAssertionSpec } from '../assertions/normalise.js';
import { checkTemplate } from '../template.js';
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
    const quick = quickAssertion(item);
    const r = quick ? ({ success: true, data: quick } as const) : SuiteAssertion.safeParse(item);
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

/** Normalises one written assertion with the test's vars; the kinds live in src/eval/assertions/normalise.ts. */
export function normaliseAssertion(s: SourcedAssertion, vars: Record<string, unknown>, testId: string, problems: Problems, suiteDir: string): AssertionSpec {
  return normaliseAssertionSpec({
    assertion: s.a,
    vars,
    at: s.at,
    suiteDir,
    report: (at, message) =>
      problems.add({ code: 'invalid_assertion', file: s.file, line: s.lineOf(at), test_id: testId, message: `${formatPath(at)}: ${message}` }),
  });
}
