// Ids for tests written without one (promptfoo suites never have them). The id is derived
// from what the test asks — its description and its vars (which hold the prompt input) —
// and never from its assertions, so editing an assertion re-grades the same test:
//
//   id = slug(description or first string var, at most 40 chars) + "-" + first 8 hex of
//        sha256(canonical JSON {description, vars})
//
// The same on every load; identical tests get "-2", "-3", ... in file order.
import { hash } from 'node:crypto';
import { canonicalJson } from '../../canonical-json.js';

function slug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
}

/**
 * @example deriveTestId({ description: 'Greets the user', vars: { name: 'Ada' } }) // 'greets-the-user-1a2b3c4d'
 */
export function deriveTestId({ description, vars }: { description?: string; vars: Record<string, unknown> }): string {
  const suffix = hash('sha256', canonicalJson({ description: description ?? null, vars }), 'hex').slice(0, 8);
  const firstString = Object.values(vars).find((v): v is string => typeof v === 'string' && v.trim() !== '');
  const base = slug(description ?? firstString ?? '');
  return base === '' ? `test-${suffix}` : `${base}-${suffix}`;
}

/** Hands out derived ids, suffixing repeats with -2, -3, ... in the order asked. */
export class IdAllocator {
  private used = new Set<string>();
  constructor(explicit: Iterable<string>) {
    for (const id of explicit) this.used.add(id);
  }
  next(base: string): string {
    let id = base;
    for (let n = 2; this.used.has(id); n++) id = `${base}-${n}`;
    this.used.add(id);
    return id;
  }
}
