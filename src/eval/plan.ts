// Planning: which tests a run executes and the input_hash of each. The hash
// covers everything that can change a result — rendered prompt, vars,
// assertions, threshold, and the target's and grader's configuration — so a
// resume can tell a finished test from one whose inputs changed since.
import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import { AgentvError } from '../errors.js';
import type { PlannedTest } from '../schemas/manifest.js';
import { usesGrader } from './assertions/normalise.js';
import type { SuiteTest, Target } from './types.js';

export function inputHash({ test, target, grader }: { test: SuiteTest; target: Target; grader: Target | null }): string {
  const material = canonicalJson({
    prompt: test.prompt,
    vars: test.vars,
    assertions: test.assertions,
    threshold: test.threshold ?? null,
    target: target.configHash,
    grader: test.assertions.some(usesGrader) ? (grader?.configHash ?? null) : null,
    // A test that reads run-time values (runtime-vars.ts): its template and the tests it reads.
    ...(test.runtime ? { runtime: test.runtime.key } : {}),
  });
  return createHash('sha256').update(material).digest('hex').slice(0, 32);
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
  return tests.map((test) => ({ test_id: test.id, input_hash: inputHash({ test, target, grader }) }));
}

/** A run id that sorts by time and reads well: 20261122-101500-k3f9qa. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const suffix = [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
  return `${stamp}-${suffix}`;
}
