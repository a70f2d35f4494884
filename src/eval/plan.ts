// Planning: which tests a run executes and the keys of each. The call key
// covers what the target sees, the grading key how its output is judged, and
// input_hash (their combination, kept as older versions computed it) covers
// everything that can change a result — so a resume can tell a finished test
// from one whose call changed (re-run) or whose grading changed (re-grade).
import { hash, randomBytes } from 'node:crypto';
import { canonicalJson, canonicalMembers } from '../canonical-json.js';
import { AgentvError } from '../errors.js';
import type { PlannedTest } from '../schemas/manifest.js';
import { usesGrader } from './assertions/normalise.js';
import type { SuiteTest, Target } from './types.js';

// crypto.hash: one call, no Hash object (planning digests every test three times).
const digest = (material: string): string => hash('sha256', material, 'hex').slice(0, 32);
const part = (v: unknown): string | undefined => (v === undefined ? undefined : canonicalJson(v));

/** The canonical JSON of each value a test's keys cover: prompt, vars and assertions are serialized once for all three. */
interface KeyParts {
  prompt?: string;
  vars?: string;
  assertions?: string;
  threshold?: string;
  target?: string;
  grader?: string;
  repeat?: string;
  runtime?: string;
}

function partsOf({ test, target, grader }: { test: SuiteTest; target?: Target; grader?: Target | null }): KeyParts {
  return {
    prompt: part(test.prompt),
    vars: part(test.vars),
    assertions: part(test.assertions),
    threshold: part(test.threshold ?? null),
    target: part(target?.configHash),
    grader: part(test.assertions.some(usesGrader) ? (grader?.configHash ?? null) : null),
    repeat: part(test.repeat),
    runtime: part(test.runtime?.key),
  };
}

/**
 * The hash a resume compares for rows written before call and grading keys
 * (SPEC 3.9): every input of a result in one digest. Its material must never
 * change, or runs written by earlier versions would no longer resume.
 * A test that reads run-time values (runtime-vars.ts) adds its recipe's key.
 */
const inputHashOf = (p: KeyParts) =>
  digest(canonicalMembers({ prompt: p.prompt, vars: p.vars, assertions: p.assertions, threshold: p.threshold, target: p.target, grader: p.grader, runtime: p.runtime }));

/**
 * What the target sees: the rendered prompt or messages, the vars (exec and
 * HTTP targets may read any of them), the target's configuration and, for a
 * suite that repeats tests, the repeat index (so repeats never share a call).
 * A test that reads run-time values is planned with placeholders: its recipe
 * (template and the tests it reads) stands in for the values, known only when it runs.
 */
const callKeyOf = (p: KeyParts) => digest(canonicalMembers({ prompt: p.prompt, vars: p.vars, target: p.target, repeat: p.repeat, runtime: p.runtime }));

/** How an output is judged: assertions (transforms included), threshold, and the grader when one is used. */
const gradingKeyOf = (p: KeyParts) => digest(canonicalMembers({ assertions: p.assertions, threshold: p.threshold, grader: p.grader }));

// One key alone (tests, one-off callers); planning uses plannedTest, which serializes each value once for all three.
export const inputHash = (o: { test: SuiteTest; target: Target; grader: Target | null }): string => inputHashOf(partsOf(o));
export const callKey = (o: { test: SuiteTest; target: Target }): string => callKeyOf(partsOf(o));
export const gradingKey = (o: { test: SuiteTest; grader: Target | null }): string => gradingKeyOf(partsOf(o));

/** A planned test with its three keys; input_hash stays the combination older runs recorded. */
export function plannedTest({ test, target, grader }: { test: SuiteTest; target: Target; grader: Target | null }): PlannedTest {
  const p = partsOf({ test, target, grader });
  return { test_id: test.id, input_hash: inputHashOf(p), call_key: callKeyOf(p), grading_key: gradingKeyOf(p) };
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
