// The per-run local journal: every finished row is appended and fdatasync'd
// before the runner reports it, so a crash loses only tests still in flight.
// A row is written at once; rows written while a sync is in progress share the
// next sync (group fsync).
// Lives in <git-common-dir>/agentv/journal/<run_id>.jsonl, outside the work tree.
import { closeSync, existsSync, fdatasync, fstatSync, ftruncateSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ensureDirSync } from './fs.js';
import { Row } from '../schemas/row.js';
import { parseJsonl, type DamagedLine } from './jsonl.js';

export interface JournalContents {
  rows: Row[];
  /** Lines that did not parse (a torn last write, damage): counted and listed. */
  damaged: number;
  bad: DamagedLine[];
}

/** Read a journal file; a missing file is empty. Never throws on damaged lines: it lists them. */
export function readJournal(file: string): JournalContents {
  if (!existsSync(file)) return { rows: [], damaged: 0, bad: [] };
  return parseJsonl(Row, readFileSync(file, 'utf8'));
}

/** Where a journal with damaged lines is kept once its good rows are committed. */
export function damagedJournalPath(localDir: string, runId: string): string {
  return path.join(localDir, 'journal', 'damaged', `${runId}.jsonl`);
}

/** Keep a damaged journal for inspection (fsck lists it) instead of deleting it. */
export function keepDamagedJournal(file: string, localDir: string, runId: string): string {
  const to = damagedJournalPath(localDir, runId);
  ensureDirSync(path.dirname(to));
  renameSync(file, to);
  return to;
}

export function removeJournal(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

type Waiter = { done: () => void; fail: (e: Error) => void };

export class Journal {
  private fd: number;
  /** Rows appended with `defer` and not yet written, with who waits for their sync. */
  private unwritten: { line: string; waiter: Waiter }[] = [];
  private writeScheduled: NodeJS.Immediate | null = null;
  /** Rows written since the sync in progress began: the next sync covers them. */
  private unsynced: Waiter[] = [];
  private syncing = false;
  /** Closed: appends are refused; the descriptor closes once the sync in progress ends. */
  private closed = false;

  /** Bytes of whole lines written so far: a failed write is cut back to this. */
  private size: number;

  constructor(readonly file: string) {
    ensureDirSync(path.dirname(file));
    this.fd = openSync(file, 'a');
    this.size = fstatSync(this.fd).size;
  }

  /**
   * Write the row (and any deferred before it) at once — before this returns it
   * is in the page cache, so a killed process loses nothing appended — and
   * resolve once a sync covers it. Rows written while a sync is in progress
   * share the next one. With `defer` the row is written with the others
   * appended in the same turn of the event loop, in one write (re-graded rows,
   * whose loss costs no target call, come by the thousand).
   */
  append(row: Row, { defer = false }: { defer?: boolean } = {}): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`journal ${this.file} is closed`));
    return new Promise((done, fail) => {
      this.unwritten.push({ line: `${JSON.stringify(row)}\n`, waiter: { done, fail } });
      if (!defer) this.write();
      else this.writeScheduled ??= setImmediate(() => this.write());
    });
  }

  private write(): void {
    if (this.writeScheduled) clearImmediate(this.writeScheduled);
    this.writeScheduled = null;
    const batch = this.unwritten;
    if (batch.length === 0) return;
    this.unwritten = [];
    const data = Buffer.from(batch.length === 1 ? batch[0]!.line : batch.map((b) => b.line).join(''));
    // A short write (the disk filling up) continues until the OS says why it
    // cannot (ENOSPC); then the partial batch is cut off again, so the journal
    // never holds a torn line and the space it took is given back.
    try {
      let written = 0;
      while (written < data.length) written += writeSync(this.fd, data, written, data.length - written, null);
    } catch (e) {
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // the torn tail stays; readers report it as a damaged line
      }
      for (const b of batch) b.waiter.fail(e as Error);
      return;
    }
    this.size += data.length;
    for (const b of batch) this.unsynced.push(b.waiter);
    if (!this.syncing) this.sync();
  }

  private sync(): void {
    const batch = this.unsynced;
    if (batch.length === 0) {
      this.syncing = false;
      // Closed while this sync ran: the descriptor was left for it to close.
      if (this.closed) closeSync(this.fd);
      return;
    }
    this.unsynced = [];
    this.syncing = true;
    fdatasync(this.fd, (err) => {
      for (const b of batch) (err ? b.fail(err) : b.done());
      this.sync();
    });
  }

  /**
   * Write what is deferred and refuse further appends. The descriptor closes now,
   * or when the sync in progress (and the one for rows written meanwhile) ends:
   * never while a write or sync could still reach it, or a number the OS reuses.
   */
  close(): void {
    if (this.closed) return;
    this.write();
    this.closed = true;
    if (!this.syncing) closeSync(this.fd);
  }
}
