import { describe, expect, it } from 'vitest';
import { Progress } from '../../cli/progress.js';
import { makeRow } from '../helpers/runs.js';

function capture(isTTY: boolean) {
  const err: string[] = [];
  return { io: { stdout: () => {}, stderr: (s: string) => void err.push(s), isTTY }, err };
}

describe('eval progress', () => {
  it('on a terminal: one live line with done/planned, passed, failed, errored, elapsed and ETA', () => {
    const { io, err } = capture(true);
    const p = new Progress(io, 4);
    p.onRow({ row: makeRow('t1'), done: 1, total: 4 });
    p.onRow({ row: makeRow('t2', { passed: false, execution_status: 'quality_failure' }), done: 2, total: 4 });
    p.onRow({ row: makeRow('t3', { passed: false, execution_status: 'execution_error' }), done: 3, total: 4 });
    p.end();
    const last = err.filter((s) => s.startsWith('\r')).at(-1)!;
    expect(last).toMatch(/^\r\x1b\[2K\[3\/4\] \u2713 1 {2}\u2717 1 {2}! 1 {2}\S+ elapsed {2}ETA \S+/);
    // Passes only move the counters; failures and errors stay on screen with their reason.
    expect(err.join('')).not.toMatch(/PASS/);
    expect(err.filter((l) => /^\r\x1b\[2K(FAIL|ERROR) /.test(l))).toHaveLength(2);
  });

  it('off a terminal: one plain line per finished test, with the reason of a failure', () => {
    const { io, err } = capture(false);
    const p = new Progress(io, 2);
    p.onRow({ row: makeRow('t1'), done: 1, total: 2 });
    p.onRow({ row: makeRow('t2', { passed: false, execution_status: 'execution_error', error: 'exit 3: boom' }), done: 2, total: 2 });
    p.end();
    expect(err).toEqual(['[1/2] PASS t1 (1ms)\n', '[2/2] ERROR t2 (1ms) - exit 3: boom\n']);
  });
});
