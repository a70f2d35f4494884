// The assertion kinds that need nothing but the output and the target's numbers: string
// matching, is-json and contains-json (with a JSON Schema subset), levenshtein, latency
// and cost. Scores are 0 or 1. (regex runs off-thread with a time limit: see sandbox.ts.)
import type { AssertionSpec } from '../types.js';
import { jsonEqual, validateJsonSchema } from './json-schema.js';
import { GradingError, clip, quote, type Verdict } from './verdict.js';

const verdict = (pass: boolean, ifPass: string, ifFail: string): Verdict => ({ pass, score: pass ? 1 : 0, reason: pass ? ifPass : ifFail });

function parseJson(output: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(output) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Every JSON object or array embedded in the text (promptfoo's contains-json), outermost first. */
function jsonValuesIn(text: string): unknown[] {
  const out: unknown[] = [];
  // Bounded: at most 200 starts, 30 candidate ends each, so a huge output cannot stall grading.
  let starts = 0;
  for (let i = 0; i < text.length && starts < 200; i++) {
    const c = text[i];
    if (c !== '{' && c !== '[') continue;
    starts++;
    let tries = 0;
    for (let end = text.lastIndexOf(c === '{' ? '}' : ']'); end > i && tries++ < 30; end = text.lastIndexOf(c === '{' ? '}' : ']', end - 1)) {
      try {
        out.push(JSON.parse(text.slice(i, end + 1)));
        i = end;
        break;
      } catch {
        // a shorter span may parse
      }
    }
    if (out.length >= 20) break;
  }
  return out;
}

/**
 * Levenshtein distance when it is at most `k`, else k + 1: only a band of width 2k+1 of
 * the table is filled, so a long output costs O(n·k), never O(n²).
 */
export function boundedEditDistance(a: string, b: string, k: number): number {
  if (Math.abs(a.length - b.length) > k) return k + 1;
  const INF = k + 1;
  const width = 2 * k + 1;
  // Row i holds columns j = i-k .. i+k at index j - i + k.
  let prev = new Array<number>(width).fill(INF);
  for (let j = 0; j <= Math.min(b.length, k); j++) prev[j + k] = j;
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(width).fill(INF);
    let best = INF;
    for (let j = Math.max(0, i - k); j <= Math.min(b.length, i + k); j++) {
      const at = j - i + k;
      let v: number;
      if (j === 0) v = i;
      else {
        const diag = prev[at]! + (a[i - 1] === b[j - 1] ? 0 : 1); // (i-1, j-1)
        const up = at + 1 < width ? prev[at + 1]! + 1 : INF; // (i-1, j)
        const left = at > 0 ? cur[at - 1]! + 1 : INF; // (i, j-1)
        v = Math.min(diag, up, left);
      }
      cur[at] = Math.min(v, INF);
      best = Math.min(best, cur[at]!);
    }
    if (best > k) return INF;
    prev = cur;
  }
  return Math.min(prev[b.length - a.length + k]!, INF);
}

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return String(value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function matchAnyAll(kind: string, value: unknown, output: string): Verdict {
  const fold = kind.startsWith('i');
  const hay = fold ? output.toLowerCase() : output;
  const items = list(value);
  const found = items.filter((s) => hay.includes(fold ? s.toLowerCase() : s));
  const shown = (xs: string[]) => xs.map((s) => quote(s, 60)).join(', ');
  if (kind.endsWith('-any')) {
    return verdict(found.length > 0, `output contains ${shown(found.slice(0, 1))}`, `output contains none of ${shown(items)}`);
  }
  const missing = items.filter((s) => !found.includes(s));
  return verdict(missing.length === 0, `output contains all of ${shown(items)}`, `output is missing ${shown(missing)}`);
}

/** Evaluates a deterministic kind; null when `spec.type` is not one of them. */
export function evaluateDeterministic({ spec, output, latencyMs, costUsd }: { spec: AssertionSpec; output: string; latencyMs?: number; costUsd?: number }): Verdict | null {
  const { type, value } = spec;
  const v = String(value ?? '');
  switch (type) {
    case 'equals': {
      if (value !== null && typeof value === 'object') {
        const parsed = parseJson(output);
        if (!parsed.ok) return verdict(false, '', `output is not JSON (${parsed.error}), expected ${clip(JSON.stringify(value))}`);
        const same = jsonEqual({ a: parsed.value, b: value });
        return verdict(same, `output equals ${clip(JSON.stringify(value))}`, `expected JSON ${clip(JSON.stringify(value))}, got ${clip(output)}`);
      }
      return verdict(output === v, `output equals ${quote(v)}`, `expected ${quote(v)}, got ${quote(output)}`);
    }
    case 'contains':
      return verdict(output.includes(v), `output contains ${quote(v)}`, `output does not contain ${quote(v)}`);
    case 'icontains':
      return verdict(output.toLowerCase().includes(v.toLowerCase()), `output contains ${quote(v)} (ignoring case)`, `output does not contain ${quote(v)} (ignoring case)`);
    case 'contains-any':
    case 'contains-all':
    case 'icontains-any':
    case 'icontains-all':
      return matchAnyAll(type, value, output);
    case 'starts-with':
      return verdict(output.startsWith(v), `output starts with ${quote(v)}`, `output does not start with ${quote(v)}`);
    case 'ends-with':
      return verdict(output.endsWith(v), `output ends with ${quote(v)}`, `output does not end with ${quote(v)}`);
    case 'is-json': {
      const parsed = parseJson(output);
      if (!parsed.ok) return verdict(false, '', `output is not valid JSON: ${parsed.error}`);
      if (value === undefined || value === null) return verdict(true, 'output is valid JSON', '');
      const errors = validateJsonSchema({ schema: value, value: parsed.value });
      const more = errors.length > 3 ? ` (and ${errors.length - 3} more)` : '';
      return verdict(errors.length === 0, 'output is JSON matching the schema', `output does not match the schema: ${errors.slice(0, 3).join('; ')}${more}`);
    }
    case 'contains-json': {
      const found = jsonValuesIn(output);
      if (found.length === 0) return verdict(false, '', 'output contains no JSON object or array');
      if (value === undefined || value === null) return verdict(true, 'output contains JSON', '');
      const errors = found.map((j) => validateJsonSchema({ schema: value, value: j }));
      const ok = errors.some((e) => e.length === 0);
      return verdict(ok, 'output contains JSON matching the schema', `no JSON in the output matches the schema: ${(errors[0] ?? []).slice(0, 3).join('; ')}`);
    }
    case 'levenshtein': {
      const limit = Math.max(0, Math.floor(spec.threshold ?? 5));
      const d = boundedEditDistance(output, v, limit);
      return verdict(d <= limit, `edit distance ${d} is within ${limit}`, `edit distance exceeds ${limit}`);
    }
    case 'cost': {
      if (costUsd === undefined) throw new GradingError('cost is unknown for this test (the target reported none)');
      const limit = spec.threshold ?? 0;
      return verdict(costUsd <= limit, `cost $${costUsd} is within $${limit}`, `cost $${costUsd} exceeds $${limit}`);
    }
    case 'latency': {
      if (latencyMs === undefined) throw new GradingError('latency is unknown for this test');
      const limit = spec.threshold ?? 0;
      return verdict(latencyMs <= limit, `latency ${Math.round(latencyMs)} ms is within ${limit} ms`, `latency ${Math.round(latencyMs)} ms exceeds ${limit} ms`);
    }
    default:
      return null;
  }
}
