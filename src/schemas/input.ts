// What the target was asked, stored once per distinct content on the ref
// (inputs/<ab>/<cd>/<sha256>.json) and named by rows through `input_ref`.
// Read APIs return it with each row as `input` (null for rows written before
// inputs were stored, or whose input blob never reached the ref).
import { z } from 'zod';
import { Row } from './row.js';

export const InputMessage = z.object({ role: z.string(), content: z.string() });

export const StoredInput = z.object({
  /** The rendered prompt when the test sends text; null when it sends messages. */
  prompt: z.string().nullable(),
  /** The chat messages when `vars.input` is a message list; null for a text prompt. */
  messages: z.array(InputMessage).nullable(),
  vars: z.record(z.string(), z.unknown()),
  expected_output: z.unknown().nullable(),
});
export type StoredInput = z.infer<typeof StoredInput>;

/** A row as read APIs return it: the stored row plus its input. */
export const RowWithInput = Row.extend({ input: StoredInput.nullable() });
export type RowWithInput = z.infer<typeof RowWithInput>;
