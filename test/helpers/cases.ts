// Inputs for tests that prove a hand-written check agrees with its zod schema,
// and the check itself.
import { expect } from 'vitest';

/**
 * Non-objects, then `base` with every variation and every pair of variations
 * applied, then `extra`; each JSON round-tripped (an absent key drops out, as it
 * would on the wire).
 */
export function pairwiseCases(base: object, variations: object[], extra: object[] = []): unknown[] {
  const out: unknown[] = [null, 3, 'row', [], [base]];
  for (const a of variations) {
    out.push({ ...base, ...a });
    for (const b of variations) out.push({ ...base, ...a, ...b });
  }
  out.push(...extra);
  return out.map((v) => JSON.parse(JSON.stringify(v)));
}

/**
 * Each value a hand check accepts, the schema accepts too and parses to the same
 * value, keys in the same order; returns how many took the quick path (a value
 * the check declines, null, is left to the schema).
 */
export function agreeWithSchema(quick: (v: unknown) => unknown, schema: { safeParse: (v: unknown) => { success: boolean; data?: unknown } }, values: unknown[]): number {
  let taken = 0;
  for (const v of values) {
    const fast = quick(v);
    if (fast === null) continue;
    taken++;
    const slow = schema.safeParse(v);
    expect(slow.success, JSON.stringify(v)).toBe(true);
    expect(JSON.stringify(fast), JSON.stringify(v)).toBe(JSON.stringify(slow.data));
    expect(fast).toEqual(slow.data);
  }
  return taken;
}
