// Interfaces between the eval pieces: suite loading, targets, assertions and the
// runner. Internal (camelCase); the wire shapes are in src/schemas/.
import type { AssertionResult, TokenUsage } from '../schemas/row.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
}

/** A rendered prompt: plain text, or chat messages when `vars.input` is a message list. */
export type Prompt = string | ChatMessage[];

/** One assertion after normalisation (bare strings became llm-rubric, `not-` parsed). */
export interface AssertionSpec {
  /** Kind without the `not-` prefix, e.g. `contains`. */
  type: string;
  negate: boolean;
  value?: unknown;
  threshold?: number;
  weight: number;
  required: boolean;
  metric?: string;
  /** For `script`: the argv to spawn. */
  command?: string[];
  /** For model-graded kinds: a per-assertion grader (target name, or `openai:...`). */
  provider?: string;
  /** The fields below appear only where written, so older assertions hash as before. */
  /** promptfoo `transform`: a javascript expression (or file://) applied to the output first. */
  transform?: string;
  /** promptfoo `config`, handed to javascript/python assertions as `context.config`. */
  config?: Record<string, unknown>;
  /** Nested assertions of `assert-set` and `composite`. */
  children?: AssertionSpec[];
  /** Kind-specific fields as written (regex `flags`, code-grader `cwd`, llm-grader `prompt`, `rubricPrompt`, ...). */
  options?: Record<string, unknown>;
}

export interface SuiteTest {
  id: string;
  description?: string;
  vars: Record<string, unknown>;
  /** The prompt rendered from the suite's template with this test's vars. */
  prompt: Prompt;
  /** default_test + suite-level + the test's own assertions, in that order. */
  assertions: AssertionSpec[];
  threshold?: number;
  metadata: Record<string, unknown>;
  tags: string[];
  /** promptfoo's `assertScoringFunction` (file:// or inline), recorded for the graders to apply. */
  assertScoringFunction?: string;
  /** The repeat index (2, 3, ...) of `evaluateOptions.repeat`; absent for the first. */
  repeat?: number;
  /** promptfoo `options.storeOutputAs`: once this test ran, its output (through `transform`) is the var `name` of later tests. */
  storeOutputAs?: { name: string; transform?: string; suiteDir: string };
  /**
   * Set when the test reads values produced at run time (a stored output, `_conversation`):
   * `prompt` and `assertions` above are then rendered with placeholders naming those values,
   * and the runner renders the real ones just before the test runs (src/eval/runtime-vars.ts).
   */
  runtime?: RuntimeRecipe;
}

/** How to render a test that reads values produced at run time. */
export interface RuntimeRecipe {
  template: Prompt;
  affix: { prefix?: string; suffix?: string };
  /** The template is a .json prompt file read as chat messages once rendered. */
  chatJson?: boolean;
  /** Var name -> id of the earlier test whose stored output it is. */
  stored: Record<string, string>;
  /** Ids of the earlier turns of its conversation, oldest first, when the test reads `_conversation`. */
  conversation?: string[];
  /** The test's written assertions, normalised again with the run-time vars. */
  assertions: { a: import('../schemas/suite.js').SuiteAssertion; at: (string | number)[] }[];
  /** The test's `options.transform`, applied to every assertion as the loader does. */
  transform?: string;
  suiteDir: string;
  /** sha256 of all of the above: part of the test's input_hash (the values themselves are not known when planning). */
  key: string;
}

export interface Suite {
  name: string;
  description?: string;
  /** The suite file, relative to the repository root, with forward slashes. */
  path: string;
  absPath: string;
  /** sha256 of the suite file and every file it pulled tests from. */
  hash: string;
  tests: SuiteTest[];
  /** True when any test uses llm-rubric (a grader is then required). */
  needsGrader: boolean;
  /** Things worth telling the user that do not stop the run (`file:line: ...`). */
  warnings: string[];
  /** promptfoo `assertScoringFunction`: `file://<path relative to the repository root or absolute>[:fn]`. */
  scoringFunction?: string;
  // What the suite says about how it runs (src/eval/suite/model.ts); all optional so a
  // hand-made Suite stays valid.
  /** Which shape the file was written in. */
  dialect?: 'agentv' | 'promptfoo' | 'agentv-eval';
  /** `providers:` / `execution.target`: one run per provider unless --target replaces them. */
  providers?: { id: string; label?: string; config?: Record<string, unknown>; where: string }[];
  /** `defaultTest.options.provider`: the grader when --grader is not given. */
  grader?: { id: string; label?: string; config?: Record<string, unknown>; where: string };
  /** `evaluateOptions.maxConcurrency`: workers when --workers is not given. */
  maxConcurrency?: number;
  /** `evaluateOptions.delay`: ms each worker waits after a target call. */
  delayMs?: number;
  /** promptfoo `derivedMetrics`: computed from named metrics after the run. */
  derivedMetrics?: { name: string; value: string }[];
  /** agentv tests that name another `execution.target` than the file's (refused unless --target). */
  testTargets?: { target: string; where: string }[];
  /** `.env` files and the suite's `env:`; variables already set in the environment win. */
  env?: Record<string, string>;
  limits?: import('../schemas/limits.js').LimitsConfig;
}

export interface TargetCall {
  prompt: Prompt;
  /** The prompt flattened to text (messages joined), for text-only providers. */
  promptText: string;
  testId: string;
  vars: Record<string, unknown>;
  /** Aborted when the run is stopped hard: the target must end its work at once. */
  signal: AbortSignal;
}

export interface TargetResponse {
  output: string;
  tokenUsage?: TokenUsage;
  costUsd?: number;
  /** What the target reported doing (tool calls, LLM calls); judged by tool-trajectory and execution-metrics. */
  trace?: TargetTrace;
}

export interface ToolCallTrace {
  tool: string;
  args?: unknown;
  durationMs?: number;
}

export interface TargetTrace {
  toolCalls: ToolCallTrace[];
  /** LLM calls (assistant messages) the target made, when known. */
  llmCalls?: number;
  /** How long the target itself says it took. */
  durationMs?: number;
}

export interface Target {
  name: string;
  provider: string;
  /** sha256 of the target's configuration without secrets. */
  configHash: string;
  /** Rejects with a TargetError for an execution failure (non-zero exit, timeout, HTTP error). */
  call(input: TargetCall): Promise<TargetResponse>;
  /** Embeddings for `similar` (OpenAI-compatible targets only). */
  embed?(input: { texts: string[]; model?: string; signal: AbortSignal }): Promise<number[][]>;
}

export class TargetError extends Error {
  constructor(message: string, readonly kind: 'exit' | 'timeout' | 'http' | 'spawn' | 'aborted' | 'other' = 'other') {
    super(message);
    this.name = 'TargetError';
  }
}

export interface AssertionOutcome {
  passed: boolean;
  score: number;
  results: AssertionResult[];
  /** Set when an assertion could not judge (time limit, crash, no grader): the row is a grading error. */
  error?: string;
}
