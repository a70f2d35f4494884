// Group commit. add() resolves once the row is fsync'd in the run's journal
// (durable: the runner may report it); rows are then committed to the ref in
// groups, one commit per group, at most every `maxDelayMs` or `maxBatch` rows.
// Commits are serialized, so chunk numbers follow the order rows finished.
import type { StoredInput } from '../schemas/input.js';
import type { SliceRef } from '../schemas/manifest.js';
import { journalPath, localName } from './layout.js';
import type { Row } from '../schemas/row.js';
import { Journal, removeJournal } from './journal.js';
import type { KnownChunks } from './runs.js';
import { updateRun } from './run-writes.js';
import type { Store } from './store.js';

export interface RowWriterOptions {
  store: Store;
  runId: string;
  maxBatch?: number;
  maxDelayMs?: number;
  /** The run's source commit, for the commit trailer (so appends need not read the manifest). */
  sourceCommit?: string | null;
  /** The slice of a sharded run: its own journal, and rows in its own part. */
  slice?: SliceRef | null;
  /** Rows one commit takes at most (one row chunk); default MAX_CHUNK_ROWS. */
  maxChunk?: number;
  /** Parsed chunks of the run, kept by the command: each chunk committed here joins them. */
  known?: KnownChunks;
  /** Called when a background group commit fails; the rows stay journaled. */
  onError?: (e: Error) => void;
}

/** Rows a writer has not committed yet, with the inputs they name (takeRest): the run's last commit takes them. */
export type Rest = { rows: Row[]; inputs: Map<string, StoredInput> };

/** Rows one group commit writes at most (one row chunk), unless the writer says otherwise. */
const MAX_CHUNK_ROWS = 1024;

export class RowWriter {
  readonly journal: Journal;
  private pending: Row[] = [];
  private pendingInputs = new Map<string, StoredInput>();
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** The commit queued behind the one under way, if any: it takes all pending rows when it starts. */
  private queued: Promise<void> | null = null;
  private lastError: Error | null = null;
  committedRows = 0;
  /** Rows one commit takes at most. */
  private readonly chunkRows: number;
  /** Rows that start a commit at once, without waiting for the timer. */
  private readonly batchRows: number;

  constructor(private readonly opts: RowWriterOptions) {
    this.chunkRows = opts.maxChunk ?? MAX_CHUNK_ROWS;
    this.batchRows = opts.maxBatch ?? 256;
    this.journal = new Journal(journalPath(opts.store.localDir, localName(opts.runId, opts.slice)));
  }

  /**
   * Durable on return. `input` is the document the row's `input_ref` names; it
   * is committed with the row's group (the journal keeps only the row, so a
   * crash before that commit leaves the row readable with `input: null`).
   * `defer`: written with the rows added in the same turn of the event loop (Journal.append).
   */
  async add(row: Row, input?: StoredInput, { defer = false }: { defer?: boolean } = {}): Promise<void> {
    await this.journal.append(row, { defer });
    this.pending.push(row);
    if (input && row.input_ref) this.pendingInputs.set(row.input_ref, input);
    if (this.pending.length >= this.batchRows) void this.flush().catch(() => {});
    else this.arm();
  }

  /** Commit within maxDelayMs, unless a commit is already set to happen. */
  private arm(): void {
    if (!this.timer) this.timer = setTimeout(() => void this.flush().catch(() => {}), this.opts.maxDelayMs ?? 200);
  }

  /**
   * Commit everything added so far. While a commit is under way the next one
   * waits, and takes every row added by the time it starts: a backlog becomes
   * one larger commit, not a queue of small ones.
   */
  flush(): Promise<void> {
    this.disarm();
    if (this.pending.length === 0) return this.chain;
    this.queued ??= this.chain = this.chain.then(() => this.commitPending());
    return this.queued;
  }

  private async commitPending(): Promise<void> {
    this.queued = null;
    if (this.pending.length === 0) return;
    // At most MAX_CHUNK_ROWS a commit (a chunk stays cheap to read for one page); the rest follow at once.
    const batch = this.pending.splice(0, this.chunkRows);
    let inputs = this.pendingInputs;
    if (this.pending.length) {
      // This chunk's inputs go with it; a later row naming the same input finds it on the ref (content-addressed).
      inputs = new Map();
      for (const { input_ref: ref } of batch) {
        const input = ref ? this.pendingInputs.get(ref) : undefined;
        if (!ref || !input) continue;
        inputs.set(ref, input);
        this.pendingInputs.delete(ref);
      }
    } else this.pendingInputs = new Map();
    try {
      await updateRun({
        store: this.opts.store,
        runId: this.opts.runId,
        update: {
          rows: batch,
          inputs,
          slice: this.opts.slice ?? null,
          ...(this.opts.known && { known: this.opts.known }),
          subject: `run ${this.opts.runId}: ${batch.length} row${batch.length === 1 ? '' : 's'}`,
          ...(this.opts.sourceCommit !== undefined ? { sourceCommit: this.opts.sourceCommit } : {}),
        },
      });
      this.committedRows += batch.length;
      // Rows added while this commit ran: a full group commits at once, fewer wait for the timer
      // (the adds that came while a commit was queued started none).
      if (this.pending.length >= Math.min(this.chunkRows, this.batchRows)) void this.flush();
      else if (this.pending.length) this.arm();
    } catch (e) {
      // Keep the rows for the next flush; they are safe in the journal meanwhile.
      this.giveBack({ rows: batch, inputs });
      this.lastError = e as Error;
      this.opts.onError?.(e as Error);
    }
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Commit while `more()` holds, once no commit is under way (one may queue the next).
   * Commits take chunkRows at a time: only two flushes in a row that commit nothing are a failure.
   */
  private async commitWhile(more: () => boolean): Promise<void> {
    let failures = 0;
    for (;;) {
      this.disarm();
      const chain = this.chain;
      await chain;
      if (this.chain !== chain) continue;
      if (!more()) {
        // A commit that just ended may have armed the timer for rows that are now the caller's.
        this.disarm();
        return;
      }
      const before = this.committedRows;
      await this.flush();
      if (this.committedRows > before) failures = 0;
      else if (++failures >= 2) throw this.lastError ?? new Error('rows left uncommitted');
    }
  }

  /** Commit everything, then fail if anything could not be committed. */
  drain(): Promise<void> {
    return this.commitWhile(() => this.pending.length > 0);
  }

  /**
   * Commit every group but the last and hand that one over, uncommitted: the run's
   * final manifest commit takes these rows and inputs, so a run ends with one commit
   * rather than two. They stay in the journal until finish(); if that commit fails,
   * the next command recovers them from it. Call once no more rows are added.
   */
  async takeRest(): Promise<Rest> {
    await this.commitWhile(() => this.pending.length > this.chunkRows);
    const rows = this.pending;
    const inputs = this.pendingInputs;
    this.pending = [];
    this.pendingInputs = new Map();
    return { rows, inputs };
  }

  /** Rows takeRest() handed over whose commit failed: pending again, inputs included (drain() commits them). */
  giveBack(rest: Rest): void {
    this.pending.unshift(...rest.rows);
    for (const [k, v] of rest.inputs) if (!this.pendingInputs.has(k)) this.pendingInputs.set(k, v);
  }

  /** After the final manifest commit: the journal is no longer needed. */
  finish(): void {
    this.disarm();
    this.journal.close();
    removeJournal(this.journal.file);
  }

  /** Close without removing the journal (rows stay recoverable). */
  abandon(): void {
    this.disarm();
    this.journal.close();
  }
}
