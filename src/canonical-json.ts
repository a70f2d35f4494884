// The one canonical JSON form behind every persisted hash (input hashes, target
// config hashes, call and grading keys). It must never change with the code:
// object keys sorted by UTF-16 code unit at every depth, undefined members dropped,
// undefined inside arrays written as null, everything else as JSON.stringify writes it.

/**
 * JSON with object keys sorted at every depth and undefined members dropped.
 * @example canonicalJson({ b: 1, a: [undefined, 'x'] }) // '{"a":[null,"x"],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  // Written as loops (no entries/filter/map arrays): planning hashes every test three times.
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole is written as Array.prototype.join writes it (nothing), undefined as null.
      if (i in value) out += value[i] === undefined ? 'null' : canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, as the format requires.
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * The canonical JSON of an object whose members are given as canonical JSON already
 * (an undefined member is left out, as canonicalJson leaves it out), so a value hashed
 * under several keys is serialized once.
 * @example canonicalMembers({ b: '1', a: canonicalJson([2]), c: undefined }) // '{"a":[2],"b":1}'
 */
export function canonicalMembers(members: Record<string, string | undefined>): string {
  let out = '{';
  let first = true;
  for (const k of Object.keys(members).sort()) {
    const v = members[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${v}`;
    first = false;
  }
  return `${out}}`;
}
