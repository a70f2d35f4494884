// Group commit. add() resolves once the row is fsync'd in the run's journal
// (durable: the runner may report it); rows are then committed to the ref in
// groups, one commit per group, at most every `maxDelayMs` or `maxBatch` rows.
// Commits are serialized, so chunk numbers follow the order rows finished.
import type { StoredInput } from '../schemas/input.js';
import type { SliceRef } from '../schemas/manifest.js';
import { localName } from './layout.js';
import type { Row } from '../schemas/row.js';
import { Journal, journalPath, removeJournal } from './journal.js';
import { updateRun, type KnownChunks } from './runs.js';
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
  /** Parsed chunks of the run, kept by the command: each chunk committed here joins them. */
  known?: KnownChunks;
  /** Called when a background group commit fails; the rows stay journaled. */
  onError?: (e: Error) => void;
}

export class RowWriter {
  readonly journal: Journal;
  private pending: Row[] = [];
  private pendingInputs = new Map<string, StoredInput>();
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private lastError: Error | null = null;
  committedRows = 0;

  constructor(private readonly opts: RowWriterOptions) {
    this.journal = new Journal(journalPath(opts.store.localDir, localName(opts.runId, opts.slice)));
  }

  /**
   * Durable on return. `input` is the document the row's `input_ref` names; it
   * is committed with the row's group (the journal keeps only the row, so a
   * crash before that commit leaves the row readable with `input: null`).
   */
  async add(row: Row, input?: StoredInput): Promise<void> {
    await this.journal.append(row);
    this.pending.push(row);
    if (input && row.input_ref) this.pendingInputs.set(row.input_ref, input);
    if (this.pending.length >= (this.opts.maxBatch ?? 256)) void this.flush().catch(() => {});
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush().catch(() => {}), this.opts.maxDelayMs ?? 200);
    }
  }

  /** Commit everything added so far. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.pending;
    const inputs = this.pendingInputs;
    this.pending = [];
    this.pendingInputs = new Map();
    if (batch.length === 0) return this.chain;
    this.chain = this.chain.then(async () => {
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
      } catch (e) {
        // Keep the rows for the next flush; they are safe in the journal meanwhile.
        this.pending.unshift(...batch);
        for (const [k, v] of inputs) this.pendingInputs.set(k, v);
        this.lastError = e as Error;
        this.opts.onError?.(e as Error);
      }
    });
    return this.chain;
  }

  /** Flush, then fail if anything could not be committed. */
  async drain(): Promise<void> {
    await this.flush();
    if (this.pending.length) {
      await this.flush();
      if (this.pending.length) throw this.lastError ?? new Error('rows left uncommitted');
    }
  }

  /** After the final manifest commit: the journal is no longer needed. */
  finish(): void {
    this.journal.close();
    removeJournal(this.journal.file);
  }

  /** Close without removing the journal (rows stay recoverable). */
  abandon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.journal.close();
  }
}
