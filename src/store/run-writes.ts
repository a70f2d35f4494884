// Runs on the ref, written: create (manifest + index row in one commit), append
// rows as numbered chunks (rows/000001.jsonl, ... one per group commit, so a
// commit never rewrites earlier rows), update the manifest. Every write is a
// change applied by Store.commit, re-applied on a lost race.
import { AgentvError } from '../errors.js';
import { parseManifestValue, type Manifest, type SliceRef } from '../schemas/manifest.js';
import type { Row } from '../schemas/row.js';
import type { StoredInput } from '../schemas/input.js';
import { toJsonl } from './jsonl.js';
import { inputEdits } from './inputs.js';
import { quickRow } from './row-check.js';
import { objectId } from '../git/index.js';
import { ROWS_DIR, partDir, rowChunkName, runDir } from './layout.js';
import { sliceMismatch, wholeManifest } from './slices.js';
import { digestOf, digestPath, firstChunkDigest, serializeDigest } from './digest.js';
import { callIndexEdits } from './call-index.js';
import { entriesOfChunk, numberedRows } from './call-rows.js';
import { indexEdits, summaryOf } from './run-index.js';
import { lastRowChunk, manifestPath, readManifestAt, readRowsAt, readSlicePartsAt, requireIntact, serializeManifest, type KnownChunks } from './runs.js';
import type { Edits, Store, Tip } from './store.js';

/**
 * Commit a new run: its manifest and its index row. RUN_EXISTS-style USAGE error if the id is taken.
 * A slice of a sharded run (`manifest.slice` set) is a part: it joins the run
 * when the run exists with the same slicing, suite and target (else USAGE,
 * exit 2), and otherwise creates it with `whole` as the run's manifest.json.
 */
export async function createRun({ store, manifest, rows = [], whole }: { store: Store; manifest: Manifest; rows?: Row[]; whole?: Manifest }): Promise<Manifest> {
  const m = parseManifestValue(manifest);
  const slice = m.slice ?? null;
  let result = m;
  await store.commit({
    subject: `run ${m.run_id}: start${slice ? ` slice ${slice.index}/${slice.count}` : ''} (${m.planned_test_count} tests)`,
    runId: m.run_id,
    sourceCommit: m.source_commit,
    change: async (tip) => {
      const edits: Edits = new Map();
      if (!slice) {
        if (tip && (await store.readTree(tip.tree, runDir(m.run_id)))) {
          throw new AgentvError('USAGE', `run id ${m.run_id} already exists; choose another --run-id`, { run_id: m.run_id });
        }
        result = m;
      } else {
        const existing = tip ? await readManifestAt(store, tip.tree, m.run_id) : null;
        if (existing) {
          const why = sliceMismatch(existing, m);
          if (why) throw new AgentvError('USAGE', why, { run_id: m.run_id });
          if (await store.readTree(tip!.tree, partDir(m.run_id, slice))) {
            throw new AgentvError('USAGE', `slice ${slice.index}/${slice.count} of run ${m.run_id} already exists; continue it with --resume ${m.run_id} --shard ${slice.index}/${slice.count}`, { run_id: m.run_id });
          }
        } else if (tip && (await store.readTree(tip.tree, runDir(m.run_id)))) {
          throw new AgentvError('CORRUPT', `run ${m.run_id} has a directory but no manifest.json; check with: agentv results fsck`, { run_id: m.run_id });
        }
        const parts = existing ? await readSlicePartsAt(store, tip!.tree, m.run_id) : [];
        result = parseManifestValue(wholeManifest(existing ?? parseManifestValue(whole ?? m), [...parts, m], slice.count));
        edits.set(manifestPath(m.run_id, slice), serializeManifest(m));
      }
      for (const [k, v] of await indexEdits(store, tip?.tree ?? null, [summaryOf(result)])) edits.set(k, v);
      edits.set(manifestPath(m.run_id), serializeManifest(result));
      if (rows.length) {
        const dir = partDir(m.run_id, slice);
        const chunk = `${ROWS_DIR}/${rowChunkName(1)}`;
        edits.set(`${dir}/${chunk}`, toJsonl(rows));
        await callIndexEdits(store, tip?.tree ?? null, entriesOfChunk(m.run_id, `${dir.slice(runDir(m.run_id).length + 1)}${slice ? '/' : ''}${chunk}`, numberedRows(rows)), edits);
      }
      // A sharded run has no results digest: its rows live in parts other machines write (readers read them all).
      if (!slice) {
        edits.set(digestPath(m.run_id), serializeDigest(firstChunkDigest(m.planned_tests, rows)));
      }
      return edits;
    },
  });
  return result;
}

export interface RunUpdate {
  /** Rows to add as a new chunk (skipping any (test_id, attempt) already committed when `dedupe`). */
  rows?: Row[];
  dedupe?: boolean;
  /** Inputs the rows name (input_ref → document), stored content-addressed in the same commit. */
  inputs?: Map<string, StoredInput>;
  /**
   * Rewrites the manifest; the index row follows it in the same commit. With
   * `slice`, it rewrites the slice's part, from which the run's manifest.json
   * and index row are derived in the same commit.
   */
  manifest?: (m: Manifest, committed: Row[]) => Manifest;
  subject: string;
  /**
   * The run's source commit, when the caller knows it: an append of rows then
   * does not read the manifest (a big one costs milliseconds per group commit).
   */
  sourceCommit?: string | null;
  /** The slice of a sharded run this update writes (its part and rows only). */
  slice?: SliceRef | null;
  /** Chunks of this run (or slice) already parsed: not parsed again; the chunk written here joins them. */
  known?: KnownChunks;
}

/**
 * Apply rows and/or a manifest change to a run (or one slice of it) in one
 * commit. Returns the rows added and the run's manifest as committed (null
 * for an append that did not read it); for a slice, `part` is its own manifest.
 */
export async function updateRun({
  store,
  runId,
  update,
}: {
  store: Store;
  runId: string;
  update: RunUpdate;
}): Promise<{ manifest: Manifest | null; part: Manifest | null; added: number }> {
  let result: Manifest | null = null;
  let part: Manifest | null = null;
  let added = 0;
  let sourceCommit: string | null = null;
  const slice = update.slice ?? null;
  const dir = partDir(runId, slice);
  const change = async (tip: Tip | null): Promise<Edits | null> => {
    const appendOnly = update.sourceCommit !== undefined && !update.manifest && !update.dedupe;
    const current = !tip ? null : appendOnly ? null : await readManifestAt(store, tip.tree, runId, slice);
    const exists = tip !== null && (current !== null || (appendOnly && (await store.readTree(tip.tree, dir)) !== null));
    if (!tip || !exists) {
      throw new AgentvError('RUN_NOT_FOUND', slice ? `slice ${slice.index}/${slice.count} of run ${runId} not found` : `run ${runId} not found`, { run_id: runId });
    }
    sourceCommit = current ? current.source_commit : (update.sourceCommit ?? null);
    const edits: Edits = new Map();
    let rows = update.rows ?? [];
    // Appending needs only the last chunk number (a tree listing); reading every
    // committed row is for dedupe and manifest counts, which are rare (recovery, finish).
    const needRows = update.dedupe || update.manifest !== undefined;
    const existing = needRows
      ? requireIntact(runId, await readRowsAt(store, tip.tree, runId, slice, update.known))
      : { rows: [], positions: [], chunkCount: 0, lastChunk: rows.length ? await lastRowChunk(store, tip.tree, runId, slice) : 0 };
    if (update.dedupe) {
      const key = (r: Row) => `${r.test_id}\u0000${r.attempt}\u0000${r.grade_seq ?? 0}`;
      const have = new Set(existing.rows.map(key));
      rows = rows.filter((r) => !have.has(key(r)));
    }
    if (rows.length) {
      const name = `${ROWS_DIR}/${rowChunkName(existing.lastChunk + 1)}`;
      const chunk = Buffer.from(toJsonl(rows));
      edits.set(`${dir}/${name}`, chunk);
      // The call index follows the rows in the same commit (SPEC 3.9); its paths are relative to the run's directory.
      await callIndexEdits(store, tip.tree, entriesOfChunk(runId, `${dir.slice(runDir(runId).length + 1)}${slice ? '/' : ''}${name}`, numberedRows(rows)), edits);
      // A later read of this run finds these rows by the blob id of what is written,
      // exactly as a reader would parse them (a chunk with a rarer row shape is parsed then).
      const asRead = update.known ? rows.map(quickRow) : [];
      if (update.known && !asRead.includes(null)) update.known.set(objectId('blob', chunk, store.repo.objectFormat), asRead as Row[]);
    }
    if (update.inputs?.size) inputEdits(update.inputs, edits);
    added = rows.length;
    result = current;
    part = slice ? current : null;
    if (update.manifest && current) {
      let next = parseManifestValue(update.manifest(current, [...existing.rows, ...rows]));
      if (slice) {
        // The slice's part changed: the run's manifest.json follows from all parts.
        part = next;
        edits.set(manifestPath(runId, slice), serializeManifest(next));
        const whole = await readManifestAt(store, tip.tree, runId);
        if (!whole) throw new AgentvError('CORRUPT', `run ${runId} has slice parts but no manifest.json; check with: agentv results fsck`, { run_id: runId });
        const others = (await readSlicePartsAt(store, tip.tree, runId)).filter((p) => p.slice?.index !== slice.index);
        next = parseManifestValue(wholeManifest(whole, [...others, next], slice.count));
      }
      result = next;
      edits.set(manifestPath(runId), serializeManifest(next));
      for (const [k, v] of await indexEdits(store, tip.tree, [summaryOf(next)])) edits.set(k, v);
      // The results digest follows the manifest: every row has just been read. A sharded run has none.
      if (!slice && !next.slices) {
        const seq = existing.lastChunk + 1;
        const all = [...existing.rows, ...rows];
        const positions = [...existing.positions, ...rows.map((_, line) => ({ chunk: seq, line }))];
        const chunks = rows.length ? { count: existing.chunkCount + 1, last: seq } : { count: existing.chunkCount, last: existing.lastChunk };
        edits.set(digestPath(runId), serializeDigest(digestOf(next.planned_tests, all, positions, chunks)));
      }
    }
    return edits.size ? edits : null;
  };
  await store.commit({
    subject: update.subject,
    runId,
    // Known only once the change has read the manifest.
    sourceCommit: () => sourceCommit,
    change,
  });
  return { manifest: result, part, added };
}

