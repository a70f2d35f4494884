// Progress for `agentv eval` on stderr, driven by the run's typed events: a live
// line on a terminal (done/to run, passed, failed, errored, elapsed, ETA), one
// plain line per finished test otherwise. Counting is the store's applyEvent,
// the same fold Studio applies to `--events`. A line follows a durable row.
import type { RunEvent } from '../src/schemas/events.js';
import { applyEvent, emptyTally, type Tally } from '../src/store/tally.js';
import type { Io } from './context.js';
import { colorsFor, type Colors } from './color.js';
import { duration } from './format.js';

export class Progress {
  readonly tally: Tally = emptyTally();
  private readonly t0 = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private note = '';
  private readonly c: Colors;
  /**
   * Plain lines not yet written: written together once per turn of the event
   * loop instead of one write each (a re-grade, or a fast target, finishes
   * thousands of tests a second). say() and end() write them first.
   */
  private lines: string[] = [];
  private flushing: NodeJS.Immediate | null = null;

  constructor(
    private readonly io: Io,
    total: number,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.tally.to_execute = total;
    this.c = colorsFor(env, io.isTTY);
    if (io.isTTY) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  onEvent = (e: RunEvent): void => {
    applyEvent(this.tally, e);
    if (e.type === 'stopping' && !e.now) this.note = 'stopping';
    if (e.type !== 'test_finished') return;
    const word = e.status === 'ok' ? 'PASS' : e.status === 'quality_failure' ? 'FAIL' : 'ERROR';
    const painted = word === 'PASS' ? this.c.green(word) : word === 'FAIL' ? this.c.red(word) : this.c.yellow(word);
    if (this.io.isTTY) {
      // Failures stay on screen above the live line; passes only move the counters.
      if (word !== 'PASS') this.io.stderr(`\r\x1b[2K${painted} ${e.test_id}${e.reason ? ` - ${e.reason.slice(0, 160)}` : ''}\n`);
      return this.draw();
    }
    const line = `[${this.tally.done}/${this.tally.to_execute}] ${painted} ${e.test_id} (${duration(e.duration_ms)})${e.reason ? ` - ${e.reason.slice(0, 120)}` : ''}\n`;
    this.lines.push(line);
    this.flushing ??= setImmediate(() => this.flush());
  };

  private flush(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    if (this.lines.length === 0) return;
    const text = this.lines.join('');
    this.lines = [];
    this.io.stderr(text);
  }

  /** A message that stays visible (e.g. "Stopping..."). */
  say(text: string): void {
    this.flush();
    if (this.io.isTTY) {
      this.io.stderr(`\r\x1b[2K${text}\n`);
      this.draw();
    } else this.io.stderr(`${text}\n`);
  }

  private draw(): void {
    const { done, to_execute: total, passed, failed, errored } = this.tally;
    const elapsed = Date.now() - this.t0;
    const eta = done > 0 && done < total ? duration((elapsed / done) * (total - done)) : '-';
    this.io.stderr(
      `\r\x1b[2K[${done}/${total}] ${this.c.green(`\u2713 ${passed}`)}  ${this.c.red(`\u2717 ${failed}`)}  ${this.c.yellow(`! ${errored}`)}  ${duration(elapsed)} elapsed  ETA ${eta}${this.note ? `  (${this.note})` : ''}`,
    );
  }

  end(): void {
    this.flush();
    if (this.timer) clearInterval(this.timer);
    if (this.io.isTTY) {
      this.draw();
      this.io.stderr('\n');
    }
  }
}
