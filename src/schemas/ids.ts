// The run id rule without zod, for readers that must not load it (RunId in
// common.ts is the schema; a test proves isRunId agrees with it).

export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** What the pattern cannot say: no ".." anywhere, no ".lock" ending (git refuses both in ref paths). */
export function runIdPartsSafe(s: string): boolean {
  return !s.includes('..') && !s.endsWith('.lock');
}

/** Safe in git paths, URLs and file names: the pattern, no "..", no ".lock" ending. */
export function isRunId(s: unknown): s is string {
  return typeof s === 'string' && RUN_ID_PATTERN.test(s) && runIdPartsSafe(s);
}
