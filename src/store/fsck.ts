// `agentv results fsck`: check everything on the results ref and beside it —
// the history's objects, trees, manifests, row chunks, the index (against a
// rebuild from manifests), incoming refs and local journals — and name each
// problem. `repair` rebuilds only what is derivable (the index, results digests) and commits
// journaled rows of dead runs; it never deletes a row or a journal line.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { isAgentvError } from '../errors.js';
import { MODE_DIR, listRefs, reachable } from '../git/index.js';
import type { FsckProblem, FsckReport } from '../schemas/fsck.js';
import { readJournal } from './journal.js';
import { describeDamage } from './jsonl.js';
import { journalPath, parseLocalName, runShard } from './layout.js';
import { effectiveStatus } from './owner.js';
import { recoverRun } from './recover.js';
import { reindex } from './reindex.js';
import { INCOMING_PREFIX } from './remote.js';
import { readManifestAt, readRowsAt, readSlicePartsAt, requireIntact, type RunRows } from './runs.js';
import { digestOfRows, digestPath, serializeDigest } from './digest.js';
import { RunDigest } from '../schemas/digest.js';
import type { Manifest } from '../schemas/manifest.js';
import type { Edits, Store } from './store.js';
import { isDeepStrictEqual } from 'node:util';


type Checked = FsckReport['checked'];

/**
 * @example const report = await fsck({ store, repair: true }); process.exitCode = report.ok ? 0 : 1
 */
export async function fsck({ store, repair = false }: { store: Store; repair?: boolean }): Promise<FsckReport> {
  const first = await check(store);
  if (!repair || !first.problems.some((p) => p.repairable)) return first;
  const repaired: FsckProblem[] = [];
  // Journals first: their rows change manifests' counts, which the index follows.
  for (const p of first.problems.filter((x) => x.kind === 'pending_journal' && x.run_id)) {
    const r = await recoverRun({ store, runId: p.run_id! });
    if (r) repaired.push(p);
  }
  const digests = first.problems.filter((p) => p.kind === 'bad_digest' && p.run_id);
  if (digests.length) repaired.push(...(await rebuildDigests(store, digests)));
  const derived = (p: FsckProblem) => p.kind === 'index_drift' || p.kind === 'damaged_index' || p.kind === 'call_index_drift';
  if (first.problems.some(derived)) {
    const r = await reindex({ store });
    if (r.rewritten) repaired.push(...first.problems.filter(derived));
  }
  const after = await check(store);
  return { ...after, repaired };
}

async function check(store: Store): Promise<FsckReport> {
  const problems: FsckProblem[] = [];
  const checked: Checked = { commits: 0, objects: 0, runs: 0, row_chunks: 0, index_rows: 0, incoming_refs: 0, journals: 0 };
  const ref = store.ref;
  const report = (tip: string | null): FsckReport => ({
    ref,
    tip,
    object_format: store.repo.objectFormat,
    checked,
    problems,
    repaired: [],
    ok: problems.length === 0,
  });
  await checkIncoming(store, problems, checked);
  let tip;
  try {
    tip = await store.tip();
  } catch (e) {
    if (!isAgentvError(e, 'CORRUPT')) throw e;
    problems.push({ kind: 'bad_tip', message: e.message, ref, object: e.data.object as string | undefined, repairable: false });
    await checkJournals(store, null, problems, checked);
    return report(null);
  }
  if (tip) {
    const walk = await reachable({ cwd: store.repo.root, tip: tip.commit });
    checked.commits = walk.commits;
    checked.objects = walk.objects;
    if (walk.error) problems.push({ kind: 'unreadable_history', message: `the history of ${ref} cannot be read: ${walk.error}`, ref, repairable: false });
    for (const oid of walk.missing) {
      problems.push({ kind: 'missing_object', message: `object ${oid}, reachable from ${ref}, is missing`, ref, object: oid, repairable: false });
    }
    await checkRuns(store, tip.tree, problems, checked);
    await checkIndex(store, problems, checked);
  }
  await checkJournals(store, tip?.tree ?? null, problems, checked);
  return report(tip?.commit ?? null);
}

/** Run directories under runs/<ab>/<cd>/: a valid manifest for the right run, readable row chunks. */
async function checkRuns(store: Store, tree: string, problems: FsckProblem[], checked: Checked): Promise<void> {
  const tryTree = async (oid: string, where: string) => {
    try {
      return await store.treeEntries(oid);
    } catch (e) {
      if (!isAgentvError(e, 'CORRUPT')) throw e;
      problems.push({ kind: 'bad_tree', message: `${where}: ${e.message}`, file: where, object: oid, repairable: false });
      return [];
    }
  };
  const shards = (await store.readTree(tree, 'runs')) ?? [];
  for (const a of shards) {
    if (a.mode !== MODE_DIR) continue;
    for (const b of await tryTree(a.oid, `runs/${a.name}`)) {
      if (b.mode !== MODE_DIR) continue;
      for (const r of await tryTree(b.oid, `runs/${a.name}/${b.name}`)) {
        if (r.mode !== MODE_DIR) continue;
        checked.runs++;
        await checkRun(store, tree, `${a.name}/${b.name}`, r.name, problems, checked);
      }
    }
  }
}

async function checkRun(store: Store, tree: string, shard: string, runId: string, problems: FsckProblem[], checked: Checked): Promise<void> {
  const dir = `runs/${shard}/${runId}`;
  if (runShard(runId) !== shard) {
    problems.push({ kind: 'bad_tree', message: `run ${runId} is stored under runs/${shard}/, not runs/${runShard(runId)}/: readers cannot find it`, file: dir, run_id: runId, repairable: false });
    return;
  }
  let m: Manifest | null = null;
  let sliced = false;
  try {
    m = await readManifestAt(store, tree, runId);
    if (!m) problems.push({ kind: 'bad_manifest', message: `run ${runId} has no manifest.json`, file: dir, run_id: runId, repairable: false });
    else if (m.run_id !== runId) {
      problems.push({ kind: 'bad_manifest', message: `the manifest in ${dir} is for run ${m.run_id}`, file: `${dir}/manifest.json`, run_id: runId, repairable: false });
      m = null;
    }
  } catch (e) {
    if (!isAgentvError(e, 'CORRUPT')) throw e;
    problems.push({ kind: 'bad_manifest', message: e.message, file: `${dir}/manifest.json`, run_id: runId, object: e.data.object as string | undefined, repairable: false });
  }
  try {
    // A sharded run's slice parts (the run's manifest.json is derived from them).
    sliced = (await readSlicePartsAt(store, tree, runId)).length > 0;
  } catch (e) {
    sliced = true;
    if (!isAgentvError(e, 'CORRUPT')) throw e;
    problems.push({ kind: 'bad_manifest', message: e.message, file: (e.data.file as string | undefined) ?? dir, run_id: runId, object: e.data.object as string | undefined, repairable: false });
  }
  try {
    const rows = await readRowsAt(store, tree, runId);
    checked.row_chunks += rows.lastChunk;
    // A sharded run keeps no digest; a run whose rows cannot all be read has no digest to compare with.
    if (m && !m.slices && !sliced && rows.damage.length === 0) await checkDigest(store, tree, m, rows, problems);
    for (const d of rows.damage) {
      problems.push({
        kind: 'damaged_rows',
        message: `run ${runId}: ${d.file} (blob ${d.object}): ${describeDamage(d.lines)}`,
        file: d.file,
        object: d.object,
        run_id: runId,
        lines: d.lines.map((l) => l.line),
        repairable: false,
      });
    }
  } catch (e) {
    if (!isAgentvError(e, 'CORRUPT')) throw e;
    problems.push({ kind: 'damaged_rows', message: `run ${runId}: ${e.message}`, run_id: runId, file: e.data.file as string | undefined, object: e.data.object as string | undefined, repairable: false });
  }
}

/**
 * A run's digest against its rows. A digest that does not cover the run's row
 * chunks (rows arrived since: a running run, a merge) is not used by readers
 * and is not a problem; one that covers them must say what the rows say.
 */
async function checkDigest(store: Store, tree: string, m: Manifest, rows: RunRows, problems: FsckProblem[]): Promise<void> {
  const file = digestPath(m.run_id);
  const buf = await store.readBlob(tree, file);
  if (!buf) return; // runs written before digests: readers read their rows
  const bad = (why: string) =>
    problems.push({ kind: 'bad_digest', message: `run ${m.run_id}: ${file} ${why}; --repair rebuilds it from the rows`, file, run_id: m.run_id, repairable: true });
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    return void bad(`is not valid JSON (${(e as Error).message})`);
  }
  // A digest of an older version is not damage: readers ignore it and read the rows, as for runs without one.
  const version = (json as { schema_version?: unknown } | null)?.schema_version;
  if (typeof version === 'number' && version < 2) return;
  const parsed = RunDigest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return void bad(`does not match the digest schema (${issue?.path.join('.') || 'value'}: ${issue?.message})`);
  }
  const d = parsed.data;
  if (d.chunks !== rows.chunkCount || d.last_chunk !== rows.lastChunk) return;
  const want = digestOfRows(m.planned_tests, rows);
  const differ = (Object.keys(want) as (keyof RunDigest)[]).filter((k) => !isDeepStrictEqual(d[k], want[k]));
  if (differ.length) bad(`disagrees with the run's rows (${differ.join(', ')})`);
}

/** Rewrite the digests of these runs from their rows, in one commit. */
async function rebuildDigests(store: Store, problems: FsckProblem[]): Promise<FsckProblem[]> {
  const done: FsckProblem[] = [];
  const runIds = [...new Set(problems.map((p) => p.run_id!))];
  await store.commit({
    subject: `fsck: rebuild the results digest of ${runIds.length} run(s)`,
    runId: runIds,
    sourceCommit: null,
    change: async (tip) => {
      done.length = 0;
      if (!tip) return null;
      const edits: Edits = new Map();
      for (const p of problems) {
        const m = await readManifestAt(store, tip.tree, p.run_id!);
        if (!m || m.slices) continue;
        const rows = requireIntact(p.run_id!, await readRowsAt(store, tip.tree, p.run_id!));
        edits.set(digestPath(p.run_id!), serializeDigest(digestOfRows(m.planned_tests, rows)));
        done.push(p);
      }
      return edits;
    },
  });
  return done;
}

/** The index against a rebuild from manifests (reindex --check), damaged lines included. */
async function checkIndex(store: Store, problems: FsckProblem[], checked: Checked): Promise<void> {
  const r = await reindex({ store, check: true });
  checked.index_rows = r.runs;
  for (const d of r.damage) {
    problems.push({
      kind: 'damaged_index',
      message: `index file ${d.file} (blob ${d.object}): ${describeDamage(d.lines)}; --repair rebuilds it from the manifests`,
      file: d.file,
      object: d.object,
      lines: d.lines.map((l) => l.line),
      repairable: true,
    });
  }
  for (const d of r.drift) {
    const what = { missing: 'is missing from the index', extra: 'is in the index but has no readable manifest', different: 'differs between its index row and its manifest' }[d.kind];
    problems.push({ kind: 'index_drift', message: `run ${d.run_id} ${what}; --repair rebuilds the index`, run_id: d.run_id, repairable: true });
  }
  const calls = r.call_index?.drift ?? [];
  if (calls.length) {
    const kinds = (['missing', 'extra', 'different'] as const).map((k) => [k, calls.filter((d) => d.kind === k).length] as const).filter(([, c]) => c > 0);
    const what = calls[0]!.kind === 'layout'
      ? 'holds the right entries in a shape a rebuild would not write (a bucket over its size or a key in the wrong bucket)'
      : `disagrees with the runs' rows for ${calls.length} call key(s) (${kinds.map(([k, c]) => `${c} ${k}`).join(', ')}, e.g. ${calls[0]!.call_key})`;
    problems.push({
      kind: 'call_index_drift',
      message: `the call index (index/calls/) ${what}; --repair rebuilds it`,
      file: `index/calls`,
      repairable: true,
    });
  }
}

async function checkIncoming(store: Store, problems: FsckProblem[], checked: Checked): Promise<void> {
  const refs = await listRefs({ cwd: store.repo.root, prefix: INCOMING_PREFIX });
  checked.incoming_refs = refs.length;
  for (const { ref, oid } of refs) {
    const obj = await store.reader.info(oid);
    if (!obj || obj.type !== 'commit') {
      problems.push({ kind: 'bad_incoming_ref', message: `${ref} points at ${oid}, which is ${obj ? `a ${obj.type}` : 'missing'}`, ref, object: oid, repairable: false });
      continue;
    }
    const walk = await reachable({ cwd: store.repo.root, tip: oid });
    if (walk.error || walk.missing.length) {
      const why = walk.error ?? `${walk.missing.length} object(s) missing, e.g. ${walk.missing[0]}`;
      problems.push({ kind: 'bad_incoming_ref', message: `${ref} cannot be folded in: ${why}`, ref, object: walk.missing[0] ?? oid, repairable: false });
    }
  }
}

/** Local journals: damaged lines, rows a dead run never committed, journals of unknown runs. */
async function checkJournals(store: Store, tree: string | null, problems: FsckProblem[], checked: Checked): Promise<void> {
  const dir = path.join(store.localDir, 'journal');
  const rel = (name: string) => `agentv/journal/${name}`;
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')) : [];
  for (const name of files) {
    checked.journals++;
    // `<run_id>.jsonl`, or `<run_id>@<I>-of-<N>.jsonl` for a slice of a sharded run.
    const local = name.slice(0, -'.jsonl'.length);
    const { runId, slice } = parseLocalName(local);
    const j = readJournal(journalPath(store.localDir, local));
    if (j.bad.length) {
      problems.push({ kind: 'damaged_journal', message: `journal of run ${runId} (${rel(name)} in the git directory): ${describeDamage(j.bad)}`, file: rel(name), run_id: runId, lines: j.bad.map((b) => b.line), repairable: false });
    }
    const m = tree ? await readManifestAt(store, tree, runId, slice).catch(() => null) : null;
    if (!m) {
      if (tree) problems.push({ kind: 'orphan_journal', message: `journal ${rel(name)} belongs to run ${runId}, which is not on ${store.ref}`, file: rel(name), run_id: runId, repairable: false });
      continue;
    }
    if (m.status === 'running' && effectiveStatus(store, m) === 'running') continue;
    problems.push({ kind: 'pending_journal', message: `run ${runId} (${m.status}, no live owner) has ${j.rows.length} journaled row(s) to commit; --repair commits them`, file: rel(name), run_id: runId, repairable: true });
  }
  const kept = path.join(dir, 'damaged');
  for (const name of existsSync(kept) ? readdirSync(kept) : []) {
    checked.journals++;
    problems.push({
      kind: 'kept_damaged_journal',
      message: `${rel(`damaged/${name}`)} (in the git directory) holds journal lines that could not be read when run ${name.replace(/\.jsonl$/, '')} was recovered; inspect it, then delete it`,
      file: rel(`damaged/${name}`),
      run_id: name.replace(/\.jsonl$/, ''),
      repairable: false,
    });
  }
}
