// What every assertion kind may read while it judges one test's output.
import type { ProcessRegistry } from '../targets/process-registry.js';
import type { SuiteTest, Target, TargetResponse } from '../types.js';

export interface GradeContext {
  test: SuiteTest;
  /** How long the target took; needed by `latency`. */
  latencyMs?: number;
  /** What the target reported besides its output: tokens, cost, trace. */
  response?: Omit<TargetResponse, 'output'>;
  /** The run's grader; null when none is configured. */
  grader: Target | null;
  /** A grader named on one assertion (`provider:` / `target:`). */
  resolveGrader?: (name: string) => Target;
  signal: AbortSignal;
  /** The repository root: commands run here, files resolve from the suite's folder under it. */
  cwd: string;
  /** Where spawned processes register, so a stop ends them. */
  registry: ProcessRegistry | null;
  /** limits.assertion_timeout_ms */
  timeoutMs: number;
}
