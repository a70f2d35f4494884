// Suite files as users write them (snake_case YAML, promptfoo-compatible shape), and the
// problems a suite can have. Lenient at the top level (promptfoo keys such as `providers`
// pass through unread); strict inside tests and assertions, where a typo would silently
// change what is measured (an unknown assertion type or key is an error, never ignored).
import { z } from 'zod';

// The assertion part lives in ./assertion.ts; re-exported so existing imports keep working.
export { ASSERTION_KINDS, SuiteAssertion, editDistance, parseAssertionType, type AssertionKind } from './assertion.js';
import { SuiteAssertion } from './assertion.js';

/** Problem codes carried by SUITE_INVALID errors, so callers (and tests) need not read messages. */
export const SuiteProblemCode = z.enum([
  'yaml_syntax',
  'json_syntax',
  'tests_file',
  'outside_repo',
  'missing_id',
  'duplicate_id',
  'unknown_assertion',
  'invalid_assertion',
  'unsupported',
  'invalid',
]);
export type SuiteProblemCode = z.infer<typeof SuiteProblemCode>;

export const SuiteProblem = z.object({
  code: SuiteProblemCode,
  /** The file the problem is in, relative to the repository root. */
  file: z.string(),
  line: z.number().int().positive().optional(),
  test_id: z.string().optional(),
  message: z.string(),
  /** For `duplicate_id`: the line of the first test with that id. */
  first_line: z.number().int().positive().optional(),
});
export type SuiteProblem = z.infer<typeof SuiteProblem>;

type Ctx = z.RefinementCtx;
function issue(ctx: Ctx, code: SuiteProblemCode, message: string, path: (string | number)[] = []): void {
  ctx.addIssue({ code: 'custom', message, path, params: { code } });
}

export const CHAT_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export const ChatMessageInput = z.strictObject({ role: z.enum(CHAT_ROLES), content: z.string() });

/** Test vars; `input` is text or a list of chat messages `{role, content}`. */
export const SuiteVars = z.record(z.string(), z.unknown()).superRefine((vars, ctx) => {
  const input = vars.input;
  if (input === undefined || typeof input === 'string' || typeof input === 'number' || typeof input === 'boolean') return;
  if (!Array.isArray(input)) {
    issue(ctx, 'invalid', '`vars.input` must be a string or a list of chat messages {role, content}', ['input']);
    return;
  }
  if (input.length === 0) issue(ctx, 'invalid', '`vars.input` is an empty message list', ['input']);
  input.forEach((m, i) => {
    const r = ChatMessageInput.safeParse(m);
    for (const iss of r.error?.issues ?? []) {
      issue(ctx, 'invalid', `chat message: ${iss.message}`, ['input', i, ...(iss.path as (string | number)[])]);
    }
  });
});

const Threshold = z.number().min(0).max(1);

const testFields = {
  description: z.string().optional(),
  vars: SuiteVars.optional(),
  assert: z.array(SuiteAssertion).optional(),
  threshold: Threshold.optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  tags: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.string())).optional(),
};

/** `default_test`: any test field except `id`; merged into every test. */
export const DefaultTestInput = z.strictObject(testFields);
export type DefaultTestInput = z.infer<typeof DefaultTestInput>;

/** A test id: unique in the suite. Integers are accepted and become strings. */
export const TestId = z.preprocess(
  (v) => (typeof v === 'number' && Number.isInteger(v) ? String(v) : v),
  z
    .string({ error: 'a test `id` must be a string' })
    .min(1, 'a test `id` may not be empty')
    .max(256, 'a test `id` is at most 256 characters')
    .regex(/^[^\x00-\x1f\x7f]+$/, 'a test `id` may not contain control characters'),
);

/** A test. `id` is required; the loader reports a missing one itself, with its line. */
export const SuiteTestInput = z.strictObject({ id: TestId.optional(), ...testFields });
export type SuiteTestInput = z.infer<typeof SuiteTestInput>;

/** `prompts`: one template or a list; promptfoo's `{raw, label}` objects are accepted. */
export const SuitePrompts = z.preprocess(
  (v) => (typeof v === 'string' ? [v] : v),
  z
    .array(
      z.preprocess(
        (p) => (p !== null && typeof p === 'object' && 'raw' in p ? (p as { raw: unknown }).raw : p),
        z.string({ error: 'a prompt is a template string (or {raw: "..."})' }),
      ),
    )
    .min(1, '`prompts` may not be empty'),
);

export const DEFAULT_PROMPT = '{{ input }}';

/** Top-level keys agentv reads, and promptfoo's that it ignores without a word. */
export const SUITE_KEYS = ['name', 'description', 'prompts', 'tests', 'default_test', 'defaultTest', 'assert', 'threshold'];
export const IGNORED_PROMPTFOO_KEYS = [
  'providers', 'targets', 'outputPath', 'sharing', 'env', 'evaluateOptions', 'commandLineOptions', 'derivedMetrics',
  'extensions', 'metadata', 'tags', 'nunjucksFilters', 'redteam', 'writeLatestResults', 'scenarios', 'defaultProvider',
];

/** The suite file. Unknown top-level keys (promptfoo's `providers`, `outputPath`, ...) are ignored; typos of ours are warned about. */
export const SuiteFile = z.looseObject({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  prompts: SuitePrompts.optional(),
  tests: z
    .union([z.string().min(1), z.array(z.unknown())], {
      error: '`tests` must be a list of tests or a path to a .jsonl, .json or .yaml file',
    })
    .optional(),
  default_test: DefaultTestInput.optional(),
  /** promptfoo's spelling; accepted so promptfoo suites keep their default assertions. */
  defaultTest: DefaultTestInput.optional(),
  assert: z.array(SuiteAssertion).optional(),
  threshold: Threshold.optional(),
});
export type SuiteFile = z.infer<typeof SuiteFile>;
