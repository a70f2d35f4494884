// The `mock` target: a fixed or templated response (optionally per test id), or a
// scripted failure, after an optional delay. Deterministic, so suites and the
// runner can be tested without a model.
import type { MockTargetConfig } from '../../schemas/targets.js';
import { TargetError, type Target, type TargetCall } from '../types.js';
import { delay } from './echo.js';

/**
 * Substitute `{{ name }}` / `{{ a.b }}` from `context`; unknown names become ''.
 * Deliberately tiny and local: the suite renderer is a separate concern.
 */
export function renderMockTemplate({ template, context }: { template: string; context: Record<string, unknown> }): string {
  return template.replace(/\{\{\s*([\w$-]+(?:\.[\w$-]+)*)\s*\}\}/g, (_m, path: string) => {
    let value: unknown = context;
    for (const key of path.split('.')) {
      // Own properties only, so `{{ constructor }}` cannot reach the prototype.
      value = value !== null && typeof value === 'object' && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
    }
    if (value === undefined || value === null) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/** The test's vars, plus `input` as text, `prompt` and `test_id` unless the vars define them. */
function templateContext(call: TargetCall): Record<string, unknown> {
  const input = typeof call.vars.input === 'string' ? call.vars.input : call.promptText;
  return { prompt: call.promptText, test_id: call.testId, ...call.vars, input };
}

function ownValue(map: Record<string, string> | undefined, key: string): string | undefined {
  return map !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
}

export function createMockTarget({ config, configHash }: { config: MockTargetConfig; configHash: string }): Target {
  return {
    name: config.name,
    provider: 'mock',
    configHash,
    async call(call) {
      await delay({ ms: config.delay_ms ?? 0, signal: call.signal });
      const failure = ownValue(config.errors, call.testId);
      if (failure !== undefined) throw new TargetError(failure, 'other');
      const template = ownValue(config.responses, call.testId) ?? config.response;
      return { output: renderMockTemplate({ template, context: templateContext(call) }) };
    },
  };
}
