// A small JSON Schema validator for `is-json`: the subset suites use in practice (type,
// properties, required, items, enum, const, additionalProperties, bounds, pattern,
// anyOf/oneOf/allOf/not). Anything outside the subset is reported by
// `jsonSchemaProblems` at load time, so a schema is never half-checked in silence.

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set([
  '$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'format',
  'readOnly', 'writeOnly', 'deprecated',
]);
const NUMBER_KEYS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'];
const COUNT_KEYS = ['minLength', 'maxLength', 'minItems', 'maxItems'];
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'array', 'object']);
const SUPPORTED = new Set([
  'type', 'properties', 'required', 'items', 'enum', 'const', 'additionalProperties',
  'pattern', 'uniqueItems', 'anyOf', 'oneOf', 'allOf', 'not', ...NUMBER_KEYS, ...COUNT_KEYS,
]);

const isObject = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Deep equality of JSON values (object key order ignored). */
export function jsonEqual({ a, b }: { a: unknown; b: unknown }): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual({ a: x, b: b[i] }));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual({ a: a[k], b: b[k] }));
}

/**
 * What is wrong with a schema, or outside the supported subset; [] when it can be used.
 * @example jsonSchemaProblems({ schema: { $ref: '#/x' } }) // ['unsupported keyword "$ref" at #']
 */
export function jsonSchemaProblems({ schema, at = '#' }: { schema: unknown; at?: string }): string[] {
  if (typeof schema === 'boolean') return [];
  if (!isObject(schema)) return [`schema at ${at} must be an object`];
  const out: string[] = [];
  for (const [key, v] of Object.entries(schema)) {
    const here = `${at}/${key}`;
    if (ANNOTATIONS.has(key)) continue;
    if (!SUPPORTED.has(key)) out.push(`unsupported keyword "${key}" at ${at}`);
    else if (key === 'type') {
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0 || !list.every((t) => typeof t === 'string' && TYPES.has(t))) out.push(`invalid "type" at ${at}`);
    } else if (key === 'properties') {
      if (!isObject(v)) out.push(`"properties" at ${at} must be an object`);
      else for (const [p, s] of Object.entries(v)) out.push(...jsonSchemaProblems({ schema: s, at: `${here}/${p}` }));
    } else if (key === 'required') {
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) out.push(`"required" at ${at} must be a list of strings`);
    } else if (key === 'items' || key === 'not' || (key === 'additionalProperties' && typeof v !== 'boolean')) {
      out.push(...jsonSchemaProblems({ schema: v, at: here }));
    } else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf') {
      if (!Array.isArray(v) || v.length === 0) out.push(`"${key}" at ${at} must be a non-empty list`);
      else v.forEach((s, i) => out.push(...jsonSchemaProblems({ schema: s, at: `${here}/${i}` })));
    } else if (key === 'enum') {
      if (!Array.isArray(v)) out.push(`"enum" at ${at} must be a list`);
    } else if (key === 'pattern') {
      try {
        new RegExp(String(v), 'u');
      } catch {
        out.push(`invalid "pattern" at ${at}`);
      }
    } else if (NUMBER_KEYS.includes(key) && typeof v !== 'number') out.push(`"${key}" at ${at} must be a number`);
    else if (COUNT_KEYS.includes(key) && !(Number.isInteger(v) && (v as number) >= 0)) out.push(`"${key}" at ${at} must be a non-negative integer`);
  }
  return out;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function hasType(v: unknown, t: string): boolean {
  if (t === 'integer') return typeof v === 'number' && Number.isInteger(v);
  return typeOf(v) === t;
}

/**
 * Validates `value` against a schema in the supported subset; returns the errors, [] when valid.
 * @example validateJsonSchema({ schema: { type: 'object', required: ['a'] }, value: {} }) // ['#: missing required property "a"']
 */
export function validateJsonSchema({ schema, value, at = '#' }: { schema: unknown; value: unknown; at?: string }): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at}: no value is allowed here`];
  if (!isObject(schema)) return [];
  const s = schema;
  const errs: string[] = [];
  if (s.type !== undefined) {
    const types = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
    if (!types.some((t) => hasType(value, t))) return [`${at}: expected ${types.join(' or ')}, got ${typeOf(value)}`];
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => jsonEqual({ a: e, b: value }))) {
    errs.push(`${at}: must be one of ${JSON.stringify(s.enum)}`);
  }
  if ('const' in s && !jsonEqual({ a: s.const, b: value })) errs.push(`${at}: must equal ${JSON.stringify(s.const)}`);
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) errs.push(`${at}: ${value} is less than ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) errs.push(`${at}: ${value} is more than ${s.maximum}`);
    if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum) errs.push(`${at}: ${value} is not more than ${s.exclusiveMinimum}`);
    if (typeof s.exclusiveMaximum === 'number' && value >= s.exclusiveMaximum) errs.push(`${at}: ${value} is not less than ${s.exclusiveMaximum}`);
  }
  if (typeof value === 'string') {
    const len = [...value].length;
    if (typeof s.minLength === 'number' && len < s.minLength) errs.push(`${at}: shorter than ${s.minLength} characters`);
    if (typeof s.maxLength === 'number' && len > s.maxLength) errs.push(`${at}: longer than ${s.maxLength} characters`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) errs.push(`${at}: does not match /${s.pattern}/`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) errs.push(`${at}: fewer than ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) errs.push(`${at}: more than ${s.maxItems} items`);
    if (s.uniqueItems === true && value.some((x, i) => value.findIndex((y) => jsonEqual({ a: x, b: y })) !== i)) {
      errs.push(`${at}: items are not unique`);
    }
    if (s.items !== undefined) value.forEach((x, i) => errs.push(...validateJsonSchema({ schema: s.items, value: x, at: `${at}/${i}` })));
  }
  if (isObject(value)) {
    const props = isObject(s.properties) ? s.properties : {};
    for (const r of Array.isArray(s.required) ? (s.required as string[]) : []) {
      if (!Object.hasOwn(value, r)) errs.push(`${at}: missing required property "${r}"`);
    }
    for (const [k, v] of Object.entries(value)) {
      if (Object.hasOwn(props, k)) errs.push(...validateJsonSchema({ schema: props[k], value: v, at: `${at}/${k}` }));
      else if (s.additionalProperties === false) errs.push(`${at}: unexpected property "${k}"`);
      else if (isObject(s.additionalProperties)) errs.push(...validateJsonSchema({ schema: s.additionalProperties, value: v, at: `${at}/${k}` }));
    }
  }
  const sub = (list: unknown) => (Array.isArray(list) ? list.map((schema) => validateJsonSchema({ schema, value, at })) : []);
  for (const e of sub(s.allOf)) errs.push(...e);
  if (Array.isArray(s.anyOf) && !sub(s.anyOf).some((e) => e.length === 0)) errs.push(`${at}: matches none of anyOf`);
  if (Array.isArray(s.oneOf)) {
    const n = sub(s.oneOf).filter((e) => e.length === 0).length;
    if (n !== 1) errs.push(`${at}: matches ${n} of oneOf (exactly one required)`);
  }
  if (s.not !== undefined && validateJsonSchema({ schema: s.not, value, at }).length === 0) errs.push(`${at}: must not match "not"`);
  return errs;
}
