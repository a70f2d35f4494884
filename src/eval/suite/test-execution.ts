// A test's own `execution:` block as the agentv CLI writes it (4.x and 5.x): more
// assertions (`assert`, `assertions`, `evaluators`), `skip_defaults` (the suite-level
// `assert` list does not apply to this test), and `cache` (response caching, which
// changes nothing a run measures here: every test calls its target). Anything else
// would change results and is reported with its line; `target` is the dialect's concern
// (4.x: a test's own target) and is left to it.
import type { RawTest } from './tests-files.js';
import type { Problems } from './problems.js';

export interface TestExecution {
  skipDefaults: boolean;
}

const MORE_ASSERTIONS = ['assert', 'assertions', 'evaluators'];

/**
 * Takes `execution` off a raw test (in place): its assertions join the test's `assert`.
 * @example takeExecution({ t: { execution: { skip_defaults: true } }, raw, problems }) // { skipDefaults: true }
 */
export function takeExecution({ t, raw, problems, testId }: { t: Record<string, unknown>; raw: RawTest; problems: Problems; testId?: string }): TestExecution {
  const ex = t.execution;
  delete t.execution;
  const out: TestExecution = { skipDefaults: false };
  if (ex === undefined || ex === null) return out;
  const line = (k?: string) => raw.lineOf(k === undefined ? ['execution'] : ['execution', k]);
  if (typeof ex !== 'object' || Array.isArray(ex)) {
    problems.add({ code: 'invalid', file: raw.file, line: line(), test_id: testId, message: 'execution on a test is a mapping (skip_defaults, assert, ...)' });
    return out;
  }
  for (const [k, v] of Object.entries(ex as Record<string, unknown>)) {
    if (k === 'skip_defaults' || k === 'skipDefaults') {
      if (typeof v === 'boolean') out.skipDefaults = v;
      else problems.add({ code: 'invalid', file: raw.file, line: line(k), test_id: testId, message: 'execution.skip_defaults is true or false' });
    } else if (MORE_ASSERTIONS.includes(k)) {
      if (Array.isArray(v)) t.assert = [...(Array.isArray(t.assert) ? t.assert : []), ...v];
      else problems.add({ code: 'invalid', file: raw.file, line: line(k), test_id: testId, message: `execution.${k} is a list of assertions` });
    } else if (k === 'cache') {
      problems.warn(raw.file, line(k), 'execution.cache: agentv does not cache target responses; every test calls its target');
    } else if (k === 'target') {
      problems.add({ code: 'unsupported', file: raw.file, line: line(k), test_id: testId, message: 'execution.target on a test is not supported (one target per run): name the provider in the file, or pass --target' });
    } else {
      problems.add({ code: 'unsupported', file: raw.file, line: line(k), test_id: testId, message: `execution.${k} on a test is not supported (skip_defaults, assert and cache are)` });
    }
  }
  return out;
}
