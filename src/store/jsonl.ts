// JSONL as the store reads it: one value per line, each validated. A line that
// does not parse or validate (a torn write, damage) is collected with its line
// number and reason, never dropped without a trace: the caller decides whether
// it is fatal (a reader whose answer would be wrong) or a reported warning.
import type { z } from 'zod';

export interface DamagedLine {
  /** 1-based line number in the file. */
  line: number;
  reason: string;
}

export interface ParsedLines<T> {
  rows: T[];
  damaged: number;
  bad: DamagedLine[];
}

/** `quick`: a faster check that returns the schema's own result for common values, null for the schema to decide. */
export function parseJsonl<S extends z.ZodType>(schema: S, text: string, quick?: (v: unknown) => z.infer<S> | null): ParsedLines<z.infer<S>> {
  const rows: z.infer<S>[] = [];
  const bad: DamagedLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    try {
      const json: unknown = JSON.parse(line);
      const fast = quick?.(json);
      if (fast) {
        rows.push(fast);
        continue;
      }
      const r = schema.safeParse(json);
      if (r.success) rows.push(r.data);
      else bad.push({ line: i + 1, reason: `does not match the schema (${r.error.issues[0]?.path.join('.') || 'value'}: ${r.error.issues[0]?.message})` });
    } catch {
      bad.push({ line: i + 1, reason: i === lines.length - 1 ? 'is cut off (a torn last write)' : 'is not valid JSON' });
    }
  }
  return { rows, damaged: bad.length, bad };
}

/**
 * parseJsonl for readers that should not load zod: `quick` reads the common
 * values, and the schema (loaded by `load`, only when some line needs it)
 * decides the rest. The same result as parseJsonl(schema, text, quick).
 */
export async function parseJsonlLazy<T>(load: () => Promise<z.ZodType<T>>, text: string, quick: (v: unknown) => T | null): Promise<ParsedLines<T>> {
  const slots: ({ row: T } | { line: number; json: unknown } | DamagedLine)[] = [];
  const lines = text.split('\n');
  let pending = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      slots.push({ line: i + 1, reason: i === lines.length - 1 ? 'is cut off (a torn last write)' : 'is not valid JSON' });
      continue;
    }
    const fast = quick(json);
    if (fast) slots.push({ row: fast });
    else {
      slots.push({ line: i + 1, json });
      pending++;
    }
  }
  const schema = pending ? await load() : null;
  const rows: T[] = [];
  const bad: DamagedLine[] = [];
  for (const s of slots) {
    if ('row' in s) rows.push(s.row);
    else if ('reason' in s) bad.push(s);
    else {
      const r = schema!.safeParse(s.json);
      if (r.success) rows.push(r.data);
      else bad.push({ line: s.line, reason: `does not match the schema (${r.error.issues[0]?.path.join('.') || 'value'}: ${r.error.issues[0]?.message})` });
    }
  }
  return { rows, damaged: bad.length, bad };
}

/** "line 3 (is not valid JSON), line 7 (...)" for messages; at most `max` listed. */
export function describeDamage(bad: DamagedLine[], max = 3): string {
  const shown = bad.slice(0, max).map((b) => `line ${b.line} ${b.reason}`);
  return `${shown.join('; ')}${bad.length > max ? `; and ${bad.length - max} more` : ''}`;
}

export function toJsonl(values: unknown[]): string {
  return values.map((v) => `${JSON.stringify(v)}\n`).join('');
}
