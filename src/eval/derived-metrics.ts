// promptfoo's `derivedMetrics`, computed after a run from its rows. Each named metric
// (the `metric` of assertions) is the mean score of its assertions over the run's
// current rows; a derived metric is a mathjs expression over those names, as promptfoo
// writes it (`2 * precision * recall / (precision + recall)`).
import type { Row } from '../schemas/row.js';

export interface DerivedMetric {
  name: string;
  /** null when the expression cannot be evaluated (named in `error`). */
  value: number | null;
  error?: string;
}

/** The mean score of every named metric over the rows. */
export function namedMetrics({ rows }: { rows: Iterable<Row> }): Record<string, number> {
  const sums = new Map<string, { total: number; n: number }>();
  for (const row of rows) {
    for (const a of row.assertions) {
      if (!a.metric) continue;
      const s = sums.get(a.metric) ?? { total: 0, n: 0 };
      s.total += a.score;
      s.n += 1;
      sums.set(a.metric, s);
    }
  }
  return Object.fromEntries([...sums].map(([k, s]) => [k, s.total / s.n]));
}

/**
 * @example await derivedMetrics({ rows, metrics: [{ name: 'f1', value: '2 * p * r / (p + r)' }] }) // [{ name: 'f1', value: 0.8 }]
 */
export async function derivedMetrics({ rows, metrics }: { rows: Iterable<Row>; metrics: { name: string; value: string }[] }): Promise<DerivedMetric[]> {
  // mathjs is large: loaded only by suites that have derived metrics.
  const { evaluate } = await import('mathjs');
  const scope: Record<string, number> = { ...namedMetrics({ rows }) };
  return metrics.map(({ name, value }) => {
    try {
      const v = evaluate(value, { ...scope });
      const n = typeof v === 'number' ? v : Number(v);
      if (!Number.isFinite(n)) return { name, value: null, error: `not a finite number (${String(v)})` };
      scope[name] = n; // later metrics may use earlier ones, as in promptfoo
      return { name, value: n };
    } catch (err) {
      return { name, value: null, error: (err as Error).message };
    }
  });
}
