// Inputs for tests that prove a hand-written check agrees with its zod schema.

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
