// `.agentv/targets.yaml`: named targets (a union on `provider`) and the default
// target and grader. Objects are strict so a misspelt field is an error, never
// silently ignored; secrets never appear here, only the names of env vars holding them.
import { z } from 'zod';

/** No whitespace and no ":" — the colon is reserved for inline forms such as `exec:<command>`. */
export const TargetName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\s:]+$/, 'a target name may not contain whitespace or ":" (reserved for inline forms like exec:<command>)');

const DelayMs = z.number().int().nonnegative();
// Capped below the 2^31 ms where a Node timer would overflow and fire at once.
const TimeoutSeconds = z.number().positive().max(2_000_000);

export const EchoTargetConfig = z.strictObject({
  name: TargetName,
  provider: z.literal('echo'),
  delay_ms: DelayMs.optional(),
});
export type EchoTargetConfig = z.infer<typeof EchoTargetConfig>;

export const MockTargetConfig = z.strictObject({
  name: TargetName,
  provider: z.literal('mock'),
  /** Template: `{{ input }}`, `{{ prompt }}`, `{{ test_id }}`, `{{ any.var }}`. */
  response: z.string().default('mock response'),
  /** Per-test response templates by test id; they win over `response`. */
  responses: z.record(z.string(), z.string()).optional(),
  /** Per-test failures by test id: the call rejects with this message (an execution_error). */
  errors: z.record(z.string(), z.string()).optional(),
  delay_ms: DelayMs.optional(),
});
export type MockTargetConfig = z.infer<typeof MockTargetConfig>;

export const CliTargetConfig = z.strictObject({
  name: TargetName,
  provider: z.literal('cli'),
  /** Run by /bin/sh -c; {PROMPT} {PROMPT_FILE} {OUTPUT_FILE} {TEST_ID} become single-quoted words. */
  command: z.string().min(1),
  timeout_seconds: TimeoutSeconds.default(300),
  /** Relative to the repository root. */
  cwd: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
});
export type CliTargetConfig = z.infer<typeof CliTargetConfig>;

export const OpenAiTargetConfig = z.strictObject({
  name: TargetName,
  provider: z.literal('openai'),
  base_url: z.url({ protocol: /^https?$/ }).default('https://api.openai.com/v1'),
  model: z.string().min(1),
  /** The name of the env var holding the key; a missing var sends no Authorization (local servers). */
  api_key_env: z.string().min(1).default('OPENAI_API_KEY'),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().positive().optional(),
  timeout_seconds: TimeoutSeconds.default(120),
  max_retries: z.number().int().min(0).max(20).default(4),
});
export type OpenAiTargetConfig = z.infer<typeof OpenAiTargetConfig>;

export const TargetConfig = z.discriminatedUnion('provider', [
  EchoTargetConfig,
  MockTargetConfig,
  CliTargetConfig,
  OpenAiTargetConfig,
]);
export type TargetConfig = z.infer<typeof TargetConfig>;
export type TargetProvider = TargetConfig['provider'];

export const TargetDefaults = z.strictObject({
  target: z.string().min(1).optional(),
  grader: z.string().min(1).optional(),
});

export const TargetsConfig = z
  .strictObject({
    targets: z.array(TargetConfig).default([]),
    defaults: TargetDefaults.optional(),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.targets.forEach((t, i) => {
      if (seen.has(t.name)) {
        ctx.addIssue({ code: 'custom', path: ['targets', i, 'name'], message: `duplicate target name "${t.name}"` });
      }
      seen.add(t.name);
    });
  });
export type TargetsConfig = z.infer<typeof TargetsConfig>;
