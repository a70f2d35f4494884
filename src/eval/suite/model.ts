// The one internal suite model every dialect is translated into before validation:
// agentv's own files, promptfoo configs and agentv 4.x/5.x eval files all become a Draft
// (raw tests in agentv's test shape, each with its file and lines), and one path turns a
// Draft into a Suite. Dialects map keys and structure only; kinds are the graders' job.
import type { LineOf, PathSeg } from './problems.js';
import type { SuitePrompt } from './prompts.js';
import type { RawTest } from './tests-files.js';

export type Dialect = 'agentv' | 'promptfoo' | 'agentv-eval';

/** A provider a suite names: a target name or inline form, or an object with its config. */
export interface ProviderRef {
  id: string;
  label?: string;
  config?: Record<string, unknown>;
  file: string;
  line?: number;
}

/** A raw list or object and where it sits. */
export interface Located<T = unknown> {
  value: T;
  file: string;
  lineOf: LineOf;
  at: PathSeg[];
}

export interface Draft {
  dialect: Dialect;
  name?: string;
  description?: string;
  /** undefined: the default prompt `{{ input }}`. */
  prompts?: SuitePrompt[];
  tests: RawTest[];
  defaultTest?: Located<Record<string, unknown>>;
  assert?: Located;
  threshold?: number;
  providers: ProviderRef[];
  /** promptfoo's cartesian product of array vars (not in agentv's own files, where a list var is a list). */
  expandVarArrays: boolean;
  repeat: number;
  maxConcurrency?: number;
  delayMs?: number;
  derivedMetrics: { name: string; value: string }[];
  assertScoringFunction?: string;
  /** `$ref: '#/assertionTemplates/x'` targets. */
  assertionTemplates: Record<string, unknown>;
  /** Environment a suite sets (promptfoo `env:`), below the real environment. */
  env: Record<string, string>;
  /** agentv tests naming their own `execution.target`: fine only when --target replaces all. */
  testTargets?: { target: string; where: string }[];
}
