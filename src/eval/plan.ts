// Planning: which tests a run executes and the keys of each. The call key
// covers what the target sees, the grading key how its output is judged, and
// input_hash (their combination, kept as older versions computed it) covers
// everything that can change a result — so a resume can tell a finished test
// from one whose call changed (re-run) or whose grading changed (re-grade).
import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import { AgentvError } from '../errors.js';
import type { PlannedTest } from '../schemas/manifest.js';
import { usesGrader } from './assertions/normalise.js';
import type { SuiteTest, Target } from './types.js';

const digest = (value: unknown): string => createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);

/**
 * The hash a resume compares for rows written before call and grading keys
 * (SPEC 3.9): every input of a result in one digest. Its material must never
 * change, or runs written by earlier versions would no longer resume.
 */
export function inputHash({ test, target, grader }: { test: SuiteTest; target: Target; grader: Target | null }): string {
  return digest({
    prompt: test.prompt,
    vars: test.vars,
    assertions: test.assertions,
    threshold: test.threshold ?? null,
    target: target.configHash,
    grader: test.assertions.some(usesGrader) ? (grader?.configHash ?? null) : null,
    // A test that reads run-time values (runtime-vars.ts): its template and the tests it reads.
    ...(test.runtime ? { runtime: test.runtime.key } : {}),
  });
}

/**
 * What the target sees: the rendered prompt or messages, the vars (exec and
 * HTTP targets may read any of them), the target's configuration and, for a
 * suite that repeats tests, the repeat index (so repeats never share a call).
 */
export function callKey({ test, target }: { test: SuiteTest; target: Target }): string {
  // A test that reads run-time values is planned with placeholders: its recipe (template and the
  // tests it reads) stands in for the values, which are known only when it runs.
  return digest({ prompt: test.prompt, vars: test.vars, target: target.configHash, repeat: test.repeat, runtime: test.runtime?.key });
}

/** How an output is judged: assertions (transforms included), threshold, and the grader when one is used. */
export function gradingKey({ test, grader }: { test: SuiteTest; grader: Target | null }): string {
  return digest({
    assertions: test.assertions,
    threshold: test.threshold ?? null,
    grader: test.assertions.some(usesGrader) ? (grader?.configHash ?? null) : null,
  });
}

/** A planned test with its three keys; input_hash stays the combination older runs recorded. */
export function plannedTest({ test, target, grader }: { test: SuiteTest; target: Target; grader: Target | null }): PlannedTest {
  return {
    test_id: test.id,
    input_hash: inputHash({ test, target, grader }),
    call_key: callKey({ test, target }),
    grading_key: gradingKey({ test, grader }),
  };
}

/** Tests chosen by --test-id and --tag (a test matches when it has any of the tags). */
export function selectTests({ tests, testIds = [], tags = [] }: { tests: SuiteTest[]; testIds?: string[]; tags?: string[] }): SuiteTest[] {
  if (testIds.length) {
    const known = new Set(tests.map((t) => t.id));
    const unknown = testIds.filter((id) => !known.has(id));
    if (unknown.length) {
      throw new AgentvError('USAGE', `unknown --test-id: ${unknown.join(', ')} (the suite has ${tests.length} tests)`, { unknown });
    }
  }
  const ids = new Set(testIds);
  return tests.filter((t) => (ids.size === 0 || ids.has(t.id)) && (tags.length === 0 || t.tags.some((g) => tags.includes(g))));
}

export function planTests({ tests, target, grader }: { tests: SuiteTest[]; target: Target; grader: Target | null }): PlannedTest[] {
  return tests.map((test) => plannedTest({ test, target, grader }));
}

/** A run id that sorts by time and reads well: 20261122-101500-k3f9qa. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const suffix = [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
  return `${stamp}-${suffix}`;
}
