// `agentv eval <suite> --dry-run --json`: how agentv understood a suite — one entry per run
// it would start (one per provider), every test with its rendered input, its assertions
// and the input_hash a run would record. Nothing is executed or written.
import { z } from 'zod';

export const DryRunMessage = z.object({ role: z.string(), content: z.string() });

export const DryRunAssertion = z.object({
  /** With `not-` when negated. */
  type: z.string(),
  value: z.unknown().optional(),
  weight: z.number().optional(),
  metric: z.string().optional(),
});

export const DryRunTest = z.object({
  test_id: z.string(),
  input: z.object({
    /** The rendered prompt as text (chat messages as `role: content` lines). */
    prompt: z.string(),
    /** The rendered chat messages, or null for a text prompt. */
    messages: z.array(DryRunMessage).nullable(),
    vars: z.record(z.string(), z.unknown()),
    expected_output: z.unknown().nullable(),
  }),
  assertions: z.array(DryRunAssertion),
  input_hash: z.string(),
  /** What the target sees and how its output is judged (SPEC 3.9). */
  call_key: z.string().optional(),
  grading_key: z.string().optional(),
});

export const DryRunReport = z.object({
  runs: z.array(
    z.object({
      /** The target's name: a configured target, an inline form, or a suite provider's label or id. */
      target: z.string(),
      suite: z.object({ name: z.string(), path: z.string() }),
      tests: z.array(DryRunTest),
    }),
  ),
});
export type DryRunReport = z.infer<typeof DryRunReport>;
