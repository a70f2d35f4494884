// The one canonical JSON form behind every persisted hash (input hashes, target
// config hashes, call and grading keys). It must never change with the code:
// object keys sorted by UTF-16 code unit at every depth, undefined members dropped,
// undefined inside arrays written as null, everything else as JSON.stringify writes it.

/**
 * JSON with object keys sorted at every depth and undefined members dropped.
 * @example canonicalJson({ b: 1, a: [undefined, 'x'] }) // '{"a":[null,"x"],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
