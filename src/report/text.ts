// Plain-text facts about rows shared by every human rendering (CLI, Markdown,
// JUnit, CSV, HTML). Reasons are shown as written: never JSON-escaped again.
import type { Row } from '../schemas/row.js';

export type RowStatus = 'passed' | 'failed' | 'error';

export function rowStatus(r: Pick<Row, 'execution_status' | 'passed'>): RowStatus {
  return r.execution_status === 'execution_error' ? 'error' : r.passed ? 'passed' : 'failed';
}

/** Why a row did not pass: its error, else its failed assertions ("type: reason"); '' when it passed. */
export function failReason(r: Pick<Row, 'error' | 'assertions'>): string {
  if (r.error) return r.error;
  return r.assertions
    .filter((a) => !a.passed)
    .map((a) => `${a.type}: ${a.reason ?? 'failed'}`)
    .join('; ');
}

export function oneLine(s: string, max = 120): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function pct(x: number | null): string {
  return x === null ? '-' : `${Math.round(x * 100)}%`;
}

/** A signed difference in percentage points: "+5.0 pts". */
export function points(x: number | null): string {
  if (x === null) return '-';
  const v = x * 100;
  return `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(1)} pts`;
}
