// Hand-written checks for the common shapes of a suite's tests and assertions,
// beside the zod schemas (the authority): loading a 10,000-test suite runs
// both schemas once per test, and zod costs several times these checks. Each
// accepts only what its schema accepts and returns what the schema returns;
// anything else returns null and the caller asks the schema (which also
// reports the problem). test/eval/suite-check.test.ts compares them.
import type { SuiteAssertion, SuiteTestInput } from './suite.js';

type Rec = Record<string, unknown>;

const isRecord = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** A record zod copies key by key: `__proto__` as an own key is the schema's to handle. */
const plainCopy = (v: Rec): Rec | null => (Object.hasOwn(v, '__proto__') ? null : { ...v });

const TEST_KEYS = new Set(['id', 'description', 'vars', 'threshold', 'metadata', 'tags']);
const ID_RE = /^[^\x00-\x1f\x7f]+$/;

/** SuiteTestInput.parse(v) for a test of the common shape (no `assert`: the loader takes it off first), else null. */
export function quickTestInput(v: unknown): SuiteTestInput | null {
  if (!isRecord(v)) return null;
  for (const k of Object.keys(v)) if (!TEST_KEYS.has(k)) return null;
  const out: Rec = {};
  if (v.id !== undefined) {
    const id = typeof v.id === 'number' && Number.isInteger(v.id) ? String(v.id) : v.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > 256 || !ID_RE.test(id)) return null;
    out.id = id;
  }
  if (v.description !== undefined) {
    if (typeof v.description !== 'string') return null;
    out.description = v.description;
  }
  if (v.vars !== undefined) {
    if (!isRecord(v.vars)) return null;
    const input = v.vars.input;
    if (input !== undefined && typeof input !== 'string' && typeof input !== 'number' && typeof input !== 'boolean') return null;
    const vars = plainCopy(v.vars);
    if (!vars) return null;
    out.vars = vars;
  }
  if (v.threshold !== undefined) {
    if (!isNum(v.threshold) || v.threshold < 0 || v.threshold > 1) return null;
    out.threshold = v.threshold;
  }
  if (v.metadata !== undefined) {
    const metadata = isRecord(v.metadata) ? plainCopy(v.metadata) : null;
    if (!metadata) return null;
    out.metadata = metadata;
  }
  if (v.tags !== undefined) {
    const tags = typeof v.tags === 'string' ? [v.tags] : v.tags;
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) return null;
    out.tags = [...tags];
  }
  return out as SuiteTestInput;
}

/** The string-matching kinds whose whole check is "a non-empty string (or a number) in `value`". */
const MATCH_KINDS = new Set(['contains', 'icontains', 'starts-with', 'ends-with']);
const ASSERTION_KEYS = new Set(['type', 'value', 'threshold', 'weight', 'metric']);

/** SuiteAssertion.parse(v) for the plain string-matching assertions (contains, equals, ... and their not-), else null. */
export function quickAssertion(v: unknown): SuiteAssertion | null {
  if (!isRecord(v)) return null;
  for (const k of Object.keys(v)) if (!ASSERTION_KEYS.has(k)) return null;
  const { type, value, threshold, weight, metric } = v;
  if (typeof type !== 'string') return null;
  const kind = type.startsWith('not-') ? type.slice(4) : type;
  if (kind === 'equals') {
    if (typeof value !== 'string' && !isNum(value)) return null;
  } else if (MATCH_KINDS.has(kind)) {
    if (!(typeof value === 'string' ? value !== '' : isNum(value))) return null;
  } else return null;
  if (threshold !== undefined && !isNum(threshold)) return null;
  if (weight !== undefined && (!isNum(weight) || weight < 0)) return null;
  if (metric !== undefined && typeof metric !== 'string') return null;
  return {
    type,
    value,
    ...(threshold !== undefined && { threshold }),
    ...(weight !== undefined && { weight }),
    ...(metric !== undefined && { metric }),
  };
}
