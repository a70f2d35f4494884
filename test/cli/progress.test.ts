import { describe, expect, it } from 'vitest';
import { Progress } from '../../cli/progress.js';
import type { RunEvent } from '../../src/schemas/events.js';

function capture(isTTY: boolean) {
  const err: string[] = [];
  return { io: { stdout: () => {}, stderr: (s: string) => void err.push(s), isTTY }, err };
}

const finished = (test_id: string, status: 'ok' | 'quality_failure' | 'execution_error', reason: string | null = null): RunEvent => ({
  type: 'test_finished',
  run_id: 'r1',
  at: '2026-01-01T00:00:00.000Z',
  test_id,
  status,
  passed: status === 'ok',
  score: status === 'ok' ? 1 : 0,
  duration_ms: 1,
  reason,
});

describe('eval progress', () => {
  it('on a terminal: one live line with done/planned, passed, failed, errored, elapsed and ETA', () => {
    const { io, err } = capture(true);
    const p = new Progress(io, 4, { NO_COLOR: '1' });
    p.onEvent(finished('t1', 'ok'));
    p.onEvent(finished('t2', 'quality_failure', 'wrong'));
    p.onEvent(finished('t3', 'execution_error', 'boom'));
    p.end();
    const last = err.filter((s) => s.startsWith('\r')).at(-1)!;
    expect(last).toMatch(/^\r\x1b\[2K\[3\/4\] \u2713 1 {2}\u2717 1 {2}! 1 {2}\S+ elapsed {2}ETA \S+/);
    // Passes only move the counters; failures and errors stay on screen with their reason.
    expect(err.join('')).not.toMatch(/PASS/);
    expect(err.filter((l) => /^\r\x1b\[2K(FAIL|ERROR) /.test(l))).toHaveLength(2);
  });

  it('off a terminal: one plain line per finished test, with the reason of a failure', () => {
    const { io, err } = capture(false);
    const p = new Progress(io, 2, {});
    p.onEvent({ type: 'planned', run_id: 'r1', at: '2026-01-01T00:00:00.000Z', planned: 13, to_execute: 2 });
    p.onEvent(finished('t1', 'ok'));
    p.onEvent(finished('t2', 'execution_error', 'exit 3: boom'));
    p.end();
    expect(err.join('')).toBe('[1/2] PASS t1 (1ms)\n[2/2] ERROR t2 (1ms) - exit 3: boom\n');
    expect(p.tally).toEqual({ planned: 13, to_execute: 2, done: 2, passed: 1, failed: 0, errored: 1 });
  });

  it('colours a terminal unless NO_COLOR; FORCE_COLOR colours a pipe', () => {
    const tty = capture(true);
    new Progress(tty.io, 1, {}).onEvent(finished('t1', 'quality_failure', 'x'));
    expect(tty.err.join('')).toContain('\x1b[31mFAIL');
    const plain = capture(true);
    new Progress(plain.io, 1, { NO_COLOR: '1' }).onEvent(finished('t1', 'quality_failure', 'x'));
    expect(plain.err.join('')).not.toContain('\x1b[31m');
    const forced = capture(false);
    const forcedProgress = new Progress(forced.io, 1, { FORCE_COLOR: '1' });
    forcedProgress.onEvent(finished('t1', 'ok'));
    forcedProgress.end();
    expect(forced.err.join('')).toContain('\x1b[32mPASS');
    const pipe = capture(false);
    const pipeProgress = new Progress(pipe.io, 1, {});
    pipeProgress.onEvent(finished('t1', 'ok'));
    pipeProgress.end();
    expect(pipe.err.join('')).toBe('[1/1] PASS t1 (1ms)\n');
  });

  it('off a terminal, lines are written together once per turn, in order, and before a message or the end', async () => {
    const { io, err } = capture(false);
    const p = new Progress(io, 3, { NO_COLOR: '1' });
    p.onEvent(finished('t1', 'ok'));
    p.onEvent(finished('t2', 'quality_failure', 'wrong'));
    expect(err).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(err).toEqual(['[1/3] PASS t1 (1ms)\n[2/3] FAIL t2 (1ms) - wrong\n']);
    p.onEvent(finished('t3', 'ok'));
    p.say('Stopping');
    p.end();
    expect(err.slice(1)).toEqual(['[3/3] PASS t3 (1ms)\n', 'Stopping\n']);
  });
});
