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

/** "line 3 (is not valid JSON), line 7 (...)" for messages; at most `max` listed. */
export function describeDamage(bad: DamagedLine[], max = 3): string {
  const shown = bad.slice(0, max).map((b) => `line ${b.line} ${b.reason}`);
  return `${shown.join('; ')}${bad.length > max ? `; and ${bad.length - max} more` : ''}`;
}

export function toJsonl(values: unknown[]): string {
  return values.map((v) => `${JSON.stringify(v)}\n`).join('');
}
