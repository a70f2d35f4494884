// The `echo` target: returns the rendered prompt text, after an optional delay.
// Also home of `delay`, the abortable sleep every target uses, so that a stop
// never waits on a timer.
import { setTimeout as sleep } from 'node:timers/promises';
import type { EchoTargetConfig } from '../../schemas/targets.js';
import { TargetError, type Target } from '../types.js';

/** Wait `ms`, rejecting with TargetError kind 'aborted' as soon as `signal` aborts. */
export async function delay({ ms, signal }: { ms: number; signal?: AbortSignal }): Promise<void> {
  if (signal?.aborted) throw new TargetError('aborted', 'aborted');
  if (ms <= 0) return;
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    if (signal?.aborted) throw new TargetError('aborted', 'aborted');
    throw err;
  }
}

export function createEchoTarget({ config, configHash }: { config: EchoTargetConfig; configHash: string }): Target {
  return {
    name: config.name,
    provider: 'echo',
    configHash,
    async call({ promptText, signal }) {
      await delay({ ms: config.delay_ms ?? 0, signal });
      return { output: promptText };
    },
  };
}
