// JSONL as the store reads it: one value per line, each validated; a line that
// does not parse or validate (a torn write, damage) is skipped and counted,
// never fatal, so one bad line cannot hide the rest of a file.
import type { z } from 'zod';

export interface ParsedLines<T> {
  rows: T[];
  damaged: number;
}

export function parseJsonl<S extends z.ZodType>(schema: S, text: string): ParsedLines<z.infer<S>> {
  const rows: z.infer<S>[] = [];
  let damaged = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = schema.safeParse(JSON.parse(line));
      if (r.success) rows.push(r.data);
      else damaged++;
    } catch {
      damaged++;
    }
  }
  return { rows, damaged };
}

export function toJsonl(values: unknown[]): string {
  return values.map((v) => `${JSON.stringify(v)}\n`).join('');
}
