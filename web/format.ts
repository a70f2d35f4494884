// Display helpers: times, durations, rates and commit links. Pure functions.

export function parseTime(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

export function absoluteTime(iso: string | null | undefined): string {
  const t = parseTime(iso);
  return t === null ? '' : new Date(t).toLocaleString();
}

export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  const t = parseTime(iso);
  if (t === null) return '—';
  const s = Math.round((now - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 86400 * 30) return `${Math.round(s / 86400)} d ago`;
  return new Date(t).toLocaleDateString();
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s % 60)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function span(start: string | null | undefined, end: string | null | undefined): string {
  const a = parseTime(start);
  const b = parseTime(end);
  return a === null || b === null ? '—' : duration(b - a);
}

export const percent = (rate: number | null | undefined): string =>
  rate === null || rate === undefined ? '—' : `${Math.round(rate * 1000) / 10}%`;

export const score = (n: number | null | undefined): string => (n === null || n === undefined ? '—' : n.toFixed(2));

export const shortSha = (sha: string): string => sha.slice(0, 8);

/** `commit_url` is a pattern with a `{sha}` placeholder, or null for unknown hosts. */
export const commitHref = (pattern: string | null | undefined, sha: string): string | null =>
  pattern ? pattern.split('{sha}').join(sha) : null;

/** "9 of 12 run passed · 13 planned": pass rate is passed / completed, shown with its counts. */
export function passCounts(passed: number, completed: number, planned: number): string {
  return `${passed} of ${completed} run passed${planned !== completed ? ` · ${planned} planned` : ''}`;
}

export { activeMs, summaryDurationMs } from '../src/store/tally.js';
