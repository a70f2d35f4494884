// The stored input of a test (SPEC 3.1): what its target is asked — the
// rendered prompt or messages, the vars, and the expected output.
import type { StoredInput } from '../schemas/input.js';
import type { SuiteTest } from './types.js';

export function storedInputOf(test: SuiteTest): StoredInput {
  const expected = test.vars.expected_output;
  return {
    prompt: typeof test.prompt === 'string' ? test.prompt : null,
    messages: typeof test.prompt === 'string' ? null : test.prompt.map((m) => ({ role: m.role, content: m.content })),
    vars: test.vars,
    expected_output: expected === undefined ? null : expected,
  };
}
