// The committed run index: a projection of the manifests, one summary row per
// run, ordered by (started_at, run_id). The newest rows live in a small head
// file (index/runs.jsonl, SEAL..2*SEAL-1 rows once there are that many runs);
// older rows are sealed into chunks of SEAL rows (index/sealed/<bucket>/<seq>.jsonl)
// whose order is the key order. Writing one run rewrites the head only, and a
// page of 50 reads the head (plus a chunk or two), whatever the number of runs.
import { AgentvError } from '../errors.js';
import type { RunSummary } from '../schemas/summary.js';
import type { Manifest } from '../schemas/manifest.js';
import { describeDamage, parseJsonlLazy, toJsonl, type DamagedLine, type ParsedLines } from './jsonl.js';
import { INDEX_COUNT, INDEX_HEAD, INDEX_SEALED, sealedChunkPath } from './layout.js';
import type { Edits, Store } from './store.js';
import { quickSummary } from './summary-check.js';
import { activeTime } from './tally.js';

export const SEAL = 128;

export function summaryOf(m: Manifest): RunSummary {
  const c = m.counts;
  return {
    run_id: m.run_id,
    suite: m.suite.name,
    target: m.target.name,
    status: m.status,
    started_at: m.started_at,
    finished_at: m.finished_at,
    planned_test_count: m.planned_test_count,
    passed: c?.passed ?? 0,
    failed: c?.failed ?? 0,
    errored: c?.errored ?? 0,
    pass_rate: c?.pass_rate ?? null,
    avg_score: c?.avg_score ?? null,
    source_commit: m.source_commit,
    tags: m.tags,
    host: m.host,
    // Durations exclude stopped time: computed from the lifecycle events the manifest records.
    ...activeTime(m.events, m.started_at, m.status === 'running' ? null : m.finished_at),
  };
}

export function keyOf(s: { started_at: string; run_id: string }): string {
  return `${s.started_at}\u0000${s.run_id}`;
}

const byKey = (a: RunSummary, b: RunSummary) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0);

export type ParsedIndex = ParsedLines<RunSummary>;

/**
 * Parse an index file; damaged lines are collected (IndexView decides whether that is fatal).
 * Rows of the common shape are read by hand: the RunSummary schema (and zod) loads only for a line
 * that is not one, so listing runs does not pay for loading zod.
 */
export async function parseIndex(buf: Buffer | null): Promise<ParsedIndex> {
  if (!buf) return { rows: [], damaged: 0, bad: [] };
  return parseJsonlLazy(async () => (await import('../schemas/summary.js')).RunSummary, buf.toString('utf8'), quickSummary);
}

export function serializeIndex(rows: RunSummary[]): string {
  return toJsonl(rows);
}

/** Index files for a full set of summaries (reindex, seeding, merges). */
export function buildIndexFiles(all: RunSummary[]): Map<string, string> {
  const rows = [...all].sort(byKey);
  const files = new Map<string, string>();
  const chunks = rows.length < 2 * SEAL ? 0 : Math.floor((rows.length - SEAL) / SEAL);
  for (let c = 0; c < chunks; c++) files.set(sealedChunkPath(c), serializeIndex(rows.slice(c * SEAL, (c + 1) * SEAL)));
  files.set(INDEX_HEAD, serializeIndex(rows.slice(chunks * SEAL)));
  files.set(INDEX_COUNT, `${rows.length}\n`);
  return files;
}

/**
 * Parsed index files by blob id, shared across views, so a moved ref re-reads
 * only what changed; concurrent readers of one blob share one read and parse.
 */
export class IndexBlobCache {
  private map = new Map<string, Promise<ParsedIndex>>();
  constructor(private readonly max = 2_000) {}
  load(oid: string, read: () => Promise<ParsedIndex>): Promise<ParsedIndex> {
    let hit = this.map.get(oid);
    if (hit) {
      this.map.delete(oid);
    } else {
      hit = read();
      hit.catch(() => this.map.delete(oid));
    }
    this.map.set(oid, hit);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
    return hit;
  }
}

/**
 * Reads of one index version (one root tree). A damaged index file is an error
 * (CORRUPT, naming the file, blob and lines): a listing without its runs would
 * be a wrong answer. `tolerant` views (reindex, fsck) count damage instead.
 */
export class IndexView {
  private chunkCache = new Map<number, RunSummary[]>();
  damaged = 0;
  /** Damage seen by a tolerant view, per index file. */
  readonly damage: { file: string; object: string; lines: DamagedLine[] }[] = [];

  constructor(
    private readonly store: Store,
    readonly tree: string,
    private readonly blobs: IndexBlobCache = new IndexBlobCache(64),
    private readonly tolerant = false,
  ) {}

  /** An index file's rows in key order. */
  private async file(file: string): Promise<RunSummary[]> {
    const i = file.lastIndexOf('/');
    const entry = (await this.store.readTree(this.tree, file.slice(0, i)))?.find((e) => e.name === file.slice(i + 1));
    if (!entry) return [];
    const parsed = await this.blobs.load(entry.oid, async () => {
      const p = await parseIndex(await this.store.readBlobOid(entry.oid, file));
      p.rows.sort(byKey);
      return p;
    });
    if (parsed.bad.length) {
      if (!this.tolerant) {
        throw new AgentvError(
          'CORRUPT',
          `the run index file ${file} (blob ${entry.oid}) is damaged: ${describeDamage(parsed.bad)}. Rebuild the index with: agentv results reindex`,
          { file, object: entry.oid, lines: parsed.bad.map((b) => b.line) },
        );
      }
      this.damaged += parsed.damaged;
      this.damage.push({ file, object: entry.oid, lines: parsed.bad });
    }
    return parsed.rows;
  }

  /** The head rows; a copy, since callers may edit it. */
  async head(): Promise<RunSummary[]> {
    return [...(await this.file(INDEX_HEAD))];
  }

  /** Runs in the index without a scan: the count file, or the head alone while nothing is sealed; null when unknown. */
  async count(): Promise<number | null> {
    const buf = await this.store.readBlob(this.tree, INDEX_COUNT);
    if (buf) {
      const n = Number(buf.toString('utf8').trim());
      if (Number.isInteger(n) && n >= 0) return n;
    }
    return (await this.lastSealed()) < 0 ? (await this.head()).length : null;
  }

  /** Highest sealed chunk number, or -1 when nothing is sealed. */
  async lastSealed(): Promise<number> {
    const buckets = await this.store.readTree(this.tree, INDEX_SEALED);
    if (!buckets || buckets.length === 0) return -1;
    const last = buckets[buckets.length - 1]!;
    const chunks = await this.store.treeEntries(last.oid);
    const name = chunks[chunks.length - 1]?.name;
    const seq = name ? Number(name.replace('.jsonl', '')) : -1;
    if (!Number.isInteger(seq)) {
      throw new AgentvError('CORRUPT', `the run index has an unexpected file ${INDEX_SEALED}/${last.name}/${name}; rebuild it with: agentv results reindex`, {
        file: `${INDEX_SEALED}/${last.name}/${name}`,
      });
    }
    return seq;
  }

  async chunk(seq: number): Promise<RunSummary[]> {
    const hit = this.chunkCache.get(seq);
    if (hit) return hit;
    const rows = await this.file(sealedChunkPath(seq));
    this.chunkCache.set(seq, rows);
    return rows;
  }

  /** Every row, oldest first (reindex --check, merges). */
  async all(): Promise<RunSummary[]> {
    const last = await this.lastSealed();
    const out: RunSummary[] = [];
    for (let c = 0; c <= last; c++) out.push(...(await this.chunk(c)));
    out.push(...(await this.head()));
    return out;
  }

  /** The sealed chunk whose key range covers `key` (binary search on chunk minima). */
  async chunkFor(key: string, last: number): Promise<number> {
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const rows = await this.chunk(mid);
      if (rows.length > 0 && keyOf(rows[0]!) <= key) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

function upsert(rows: RunSummary[], s: RunSummary): void {
  const i = rows.findIndex((r) => r.run_id === s.run_id);
  if (i >= 0) rows.splice(i, 1);
  const k = keyOf(s);
  let j = rows.length;
  while (j > 0 && keyOf(rows[j - 1]!) > k) j--;
  rows.splice(j, 0, s);
}

/**
 * The edits that put `summaries` into the index of `tree` (insert or replace by
 * run id), sealing the oldest SEAL head rows once the head reaches 2*SEAL.
 * `moved` names rows whose key changes (a merged sharded run starts at its
 * earliest slice): they are taken out of the sealed chunk that holds them first.
 */
export async function indexEdits(store: Store, tree: string | null, summaries: RunSummary[], moved: { run_id: string; started_at: string }[] = []): Promise<Edits> {
  const edits: Edits = new Map();
  const view = tree ? new IndexView(store, tree) : null;
  const head = view ? await view.head() : [];
  let last = view ? await view.lastSealed() : -1;
  const dirty = new Map<number, RunSummary[]>();
  // The count moves with each run that is new to the index; unknown (an index
  // written before the count file) stays unknown until a reindex.
  let count = view ? await view.count() : 0;
  for (const old of moved) {
    const h = head.findIndex((r) => r.run_id === old.run_id);
    if (h >= 0 || last < 0) {
      if (h >= 0) head.splice(h, 1);
      if (h >= 0 && count !== null) count--;
      continue;
    }
    const seq = await view!.chunkFor(keyOf(old), last);
    const rows = dirty.get(seq) ?? [...(await view!.chunk(seq))];
    const i = rows.findIndex((r) => r.run_id === old.run_id);
    if (i < 0) continue;
    rows.splice(i, 1);
    dirty.set(seq, rows);
    if (count !== null) count--;
  }
  for (const s of summaries) {
    const inHead = head.some((r) => r.run_id === s.run_id);
    if (last < 0 || inHead || (head.length > 0 && keyOf(s) >= keyOf(head[0]!))) {
      if (!inHead && count !== null) count++;
      upsert(head, s);
      continue;
    }
    const seq = await view!.chunkFor(keyOf(s), last);
    const rows = dirty.get(seq) ?? [...(await view!.chunk(seq))];
    if (count !== null && !rows.some((r) => r.run_id === s.run_id)) count++;
    upsert(rows, s);
    dirty.set(seq, rows);
  }
  if (count !== null) edits.set(INDEX_COUNT, `${count}\n`);
  while (head.length >= 2 * SEAL) {
    last++;
    dirty.set(last, head.splice(0, SEAL));
  }
  for (const [seq, rows] of dirty) edits.set(sealedChunkPath(seq), serializeIndex(rows));
  edits.set(INDEX_HEAD, serializeIndex(head));
  return edits;
}

interface CursorData {
  key: string;
  /** Where the last row came from: -1 the head, else a sealed chunk. */
  chunk: number;
  /** Oldest first (a cursor continues only the order it came from). */
  asc: boolean;
}

export function encodeCursor(c: CursorData): string {
  return Buffer.from(JSON.stringify(c.asc ? [c.key, c.chunk, 'asc'] : [c.key, c.chunk])).toString('base64url');
}

export function decodeCursor(text: string): CursorData {
  try {
    const [key, chunk, order, ...rest] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof key === 'string' && key.includes('\u0000') && Number.isInteger(chunk) && (chunk as number) >= -1 && (order === undefined || order === 'asc') && rest.length === 0) {
      return { key, chunk: chunk as number, asc: order === 'asc' };
    }
  } catch {
    // fall through
  }
  throw new AgentvError('USAGE', 'invalid cursor: pass the next_cursor value of a previous page unchanged', { cursor: text });
}

export interface PageRequest {
  limit: number;
  cursor?: string;
  filter?: (s: RunSummary) => boolean;
  /** Oldest first; newest first by default. */
  asc?: boolean;
}

/**
 * One page, newest first (or oldest first with `asc`). The cursor is the key of
 * the last row returned, so a page never repeats or skips a run while new runs
 * are added. Either order reads the head or the chunks at its own end first, so
 * a first page costs the same at any number of runs.
 */
export async function readPage(view: IndexView, req: PageRequest): Promise<{ runs: RunSummary[]; nextCursor: string | null }> {
  const asc = req.asc ?? false;
  const after = req.cursor ? decodeCursor(req.cursor) : null;
  if (after && after.asc !== asc) {
    throw new AgentvError('USAGE', `this cursor continues the ${after.asc ? 'oldest' : 'newest'}-first order: keep the sort of the page it came from, or start without a cursor`, { cursor: req.cursor });
  }
  const out: { row: RunSummary; chunk: number }[] = [];
  const take = (rows: RunSummary[], chunk: number): boolean => {
    for (let n = 0; n < rows.length; n++) {
      const row = rows[asc ? n : rows.length - 1 - n]!;
      if (after && (asc ? keyOf(row) <= after.key : keyOf(row) >= after.key)) continue;
      if (req.filter && !req.filter(row)) continue;
      out.push({ row, chunk });
      if (out.length > req.limit) return true;
    }
    return false;
  };
  let done = false;
  const last = await view.lastSealed();
  if (asc) {
    // From the chunk holding the cursor's row; one that was in the head may have been sealed since, so
    // step back to the first chunk that can hold a later key.
    let start = after ? (after.chunk === -1 ? last + 1 : Math.min(after.chunk, last + 1)) : 0;
    while (after && start > 0 && start - 1 <= last) {
      const prev = await view.chunk(start - 1);
      const tail = prev[prev.length - 1];
      if (!tail || keyOf(tail) <= after.key) break;
      start--;
    }
    for (let c = start; c <= last && !done; c++) done = take(await view.chunk(c), c);
    if (!done) done = take(await view.head(), -1);
  } else {
    let start = last;
    if (!after || after.chunk === -1) done = take(await view.head(), -1);
    else start = Math.min(after.chunk, last);
    for (let c = start; c >= 0 && !done; c--) done = take(await view.chunk(c), c);
  }
  const more = out.length > req.limit;
  const page = out.slice(0, req.limit);
  const tail = page[page.length - 1];
  return {
    runs: page.map((p) => p.row),
    nextCursor: more && tail ? encodeCursor({ key: keyOf(tail.row), chunk: tail.chunk, asc }) : null,
  };
}
