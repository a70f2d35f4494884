// Progress for `agentv eval` on stderr: a live line on a terminal (done/planned,
// passed, failed, errored, elapsed, ETA), one plain line per finished test
// otherwise. A line is printed only after its row is durable.
import type { ProgressEvent } from '../src/eval/runner.js';
import type { Io } from './context.js';
import { duration } from './format.js';

export class Progress {
  private passed = 0;
  private failed = 0;
  private errored = 0;
  private readonly t0 = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private last: ProgressEvent | null = null;
  private note = '';

  constructor(
    private readonly io: Io,
    private readonly total: number,
  ) {
    if (io.isTTY) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  onRow = (e: ProgressEvent): void => {
    this.last = e;
    const r = e.row;
    if (r.execution_status === 'execution_error') this.errored++;
    else if (r.passed) this.passed++;
    else this.failed++;
    const word = r.execution_status === 'ok' ? 'PASS' : r.execution_status === 'quality_failure' ? 'FAIL' : 'ERROR';
    const why = r.error ?? r.assertions.find((a) => !a.passed)?.reason ?? '';
    if (this.io.isTTY) {
      // Failures stay on screen above the live line; passes only move the counters.
      if (word !== 'PASS') this.io.stderr(`\r\x1b[2K${word} ${r.test_id}${why ? ` - ${why.replace(/\s+/g, ' ').slice(0, 160)}` : ''}\n`);
      return this.draw();
    }
    this.io.stderr(
      `[${e.done}/${this.total}] ${word} ${r.test_id} (${duration(r.duration_ms)})${why ? ` - ${why.replace(/\s+/g, ' ').slice(0, 120)}` : ''}\n`,
    );
  };

  /** A message that stays visible (e.g. "Stopping..."). */
  say(text: string): void {
    if (this.io.isTTY) {
      this.note = text;
      this.io.stderr(`\r\x1b[2K${text}\n`);
      this.draw();
    } else this.io.stderr(`${text}\n`);
  }

  private draw(): void {
    const done = this.last?.done ?? 0;
    const elapsed = Date.now() - this.t0;
    const eta = done > 0 && done < this.total ? duration((elapsed / done) * (this.total - done)) : '-';
    this.io.stderr(
      `\r\x1b[2K[${done}/${this.total}] \u2713 ${this.passed}  \u2717 ${this.failed}  ! ${this.errored}  ${duration(elapsed)} elapsed  ETA ${eta}${this.note ? '  (stopping)' : ''}`,
    );
  }

  end(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.io.isTTY) {
      this.draw();
      this.io.stderr('\n');
    }
  }
}
