// Where things live on refs/agentv/runs/v1. Run directories are sharded by a
// hash of the run id (runs/ab/cd/<run_id>/) so that no tree level passes ~1,000
// entries at a million runs: 256 x 256 shards, ~15 runs per leaf.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { SliceRef } from '../schemas/manifest.js';

export const RESULTS_REF = 'refs/agentv/runs/v1';
export const MANIFEST_FILE = 'manifest.json';
export const ROWS_DIR = 'rows';
export const INDEX_HEAD = 'index/runs.jsonl';
export const INDEX_SEALED = 'index/sealed';
/** The number of runs in the index (decimal text), so a total costs one small read. */
export const INDEX_COUNT = 'index/count';

export function runShard(runId: string): string {
  const h = createHash('sha1').update(runId).digest('hex');
  return `${h.slice(0, 2)}/${h.slice(2, 4)}`;
}

export function runDir(runId: string): string {
  return `runs/${runShard(runId)}/${runId}`;
}

/** A sharded run keeps each slice's manifest part and rows under <run>/shards/<I>-of-<N>/. */
export const SLICES_DIR = 'shards';

export function sliceKey(s: SliceRef): string {
  return `${s.index}-of-${s.count}`;
}

export function parseSliceKey(name: string): SliceRef | null {
  const m = /^(\d+)-of-(\d+)$/.exec(name);
  if (!m) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return index >= 1 && index <= count ? { index, count } : null;
}

/** The directory of a run, or of one slice of a sharded run (which has the same shape: manifest.json, rows/). */
export function partDir(runId: string, slice?: SliceRef | null): string {
  return slice ? `${runDir(runId)}/${SLICES_DIR}/${sliceKey(slice)}` : runDir(runId);
}

/**
 * The name of a run's local lock and journal: the run id, or `<run_id>@<I>-of-<N>`
 * for a slice (`@` never appears in a run id, so names cannot collide).
 */
export function localName(runId: string, slice?: SliceRef | null): string {
  return slice ? `${runId}@${sliceKey(slice)}` : runId;
}

/** A run's (or slice's, by its localName) journal: <git-common-dir>/agentv/journal/<name>.jsonl. */
export function journalPath(localDir: string, runId: string): string {
  return path.join(localDir, 'journal', `${runId}.jsonl`);
}

export function parseLocalName(name: string): { runId: string; slice: SliceRef | null } {
  const i = name.indexOf('@');
  if (i < 0) return { runId: name, slice: null };
  return { runId: name.slice(0, i), slice: parseSliceKey(name.slice(i + 1)) };
}

export function rowChunkName(seq: number): string {
  return `${String(seq).padStart(6, '0')}.jsonl`;
}

export function parseRowChunkSeq(name: string): number | null {
  const m = /^(\d{6,})\.jsonl$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** Sealed index chunk `seq` lives at index/sealed/<bucket>/<seq>.jsonl, 1,000 chunks per bucket. */
export function sealedChunkPath(seq: number): string {
  return `${INDEX_SEALED}/${String(Math.floor(seq / 1000)).padStart(4, '0')}/${String(seq).padStart(7, '0')}.jsonl`;
}

/** A commit names at most this many runs in `Agentv-Run:` trailers (SPEC 3.5). */
export const MAX_RUN_TRAILERS = 20;

/**
 * Trailers every commit on the ref carries, so `git log --grep` and `%(trailers)`
 * find a run: one `Agentv-Run:` per run the commit changes, and the source
 * commit when there is one. A commit that covers many runs (a merge, a reindex,
 * a seed) names the first MAX_RUN_TRAILERS and says how many it covers in
 * `Agentv-Run-Count:`, so a commit object stays small however many runs it
 * touches; each run's own commits stay reachable through the parents.
 */
export function commitMessage({
  subject,
  runId,
  sourceCommit,
}: {
  subject: string;
  runId: string | string[] | null;
  sourceCommit: string | null;
}): string {
  const runs = runId === null ? [] : Array.isArray(runId) ? runId : [runId];
  const named = runs.slice(0, MAX_RUN_TRAILERS);
  const trailers = [
    ...named.map((r) => `Agentv-Run: ${r}`),
    ...(runs.length > named.length ? [`Agentv-Run-Count: ${runs.length}`] : []),
    ...(sourceCommit ? [`Agentv-Source-Commit: ${sourceCommit}`] : []),
  ];
  return trailers.length ? `${subject}\n\n${trailers.join('\n')}\n` : `${subject}\n`;
}

/**
 * The call index (SPEC 3.9): a trie of bucket files under index/calls/
 * naming where the newest reusable row of each call key lives (layout in
 * call-index.ts and docs/formats.md).
 */
export const CALLS_DIR = 'index/calls';
