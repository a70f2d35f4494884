// What one assertion kind returns before negation, weights and thresholds are applied.
// An evaluator returns a Verdict for a real pass or fail and throws when it could not
// judge (no grader, unreadable answer, script timeout): an error is never negated into a pass.

export interface Verdict {
  pass: boolean;
  /** 0..1 */
  score: number;
  /** Describes what was found, true or not (e.g. 'output contains "x"'). */
  reason: string | null;
}

/** Shortens a value for a reason string. */
export function quote(s: string, max = 120): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

/** Shortens text that is already JSON (or code) for a reason, without quoting it again. */
export function clip(s: string, max = 120): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export const clamp01 = (n: number): number => (Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0);

/**
 * The assertion could not judge (a time limit, a crash in user code, no grader, a
 * process that cannot start): the row becomes an `execution_error` in the grading phase,
 * with the target's output kept so it can be re-graded.
 */
export class GradingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GradingError';
  }
}
