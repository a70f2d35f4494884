// Rebuild the run index from the manifests (the index is only a projection of
// them), or with `check` only report where the two disagree.
import { canonicalJson } from '../canonical-json.js';
import { isAgentvError } from '../errors.js';
import type { ReindexReport } from '../schemas/api.js';
import type { RunSummary } from '../schemas/summary.js';
import { IndexView, buildIndexFiles, summaryOf } from './run-index.js';
import { callIndexFiles, checkCallIndex } from './call-index.js';
import { buildCallIndex } from './call-rows.js';
import { runDirShards } from './walk.js';
import { readManifestAt } from './runs.js';
import type { Edits, Store } from './store.js';

export interface Walked {
  summaries: RunSummary[];
  /** Run directories whose manifest is missing or does not parse. */
  broken: { run_id: string; reason: string }[];
}

/** Every run's summary, from the manifests under runs/<ab>/<cd>/<run_id>/. */
export async function walkManifests(store: Store, tree: string): Promise<Walked> {
  const summaries: RunSummary[] = [];
  const broken: Walked['broken'] = [];
  for await (const runs of runDirShards(store, tree)) {
    const results = await Promise.all(
      runs.map(async (r) => {
        try {
          const m = await readManifestAt(store, tree, r.name);
          return m ? { s: summaryOf(m) } : { bad: { run_id: r.name, reason: 'no manifest.json' } };
        } catch (e) {
          if (isAgentvError(e, 'CORRUPT')) return { bad: { run_id: r.name, reason: e.message } };
          throw e;
        }
      }),
    );
    for (const x of results) {
      if ('s' in x && x.s) summaries.push(x.s);
      else if ('bad' in x && x.bad) broken.push(x.bad);
    }
  }
  return { summaries, broken };
}

/** Fields added to index rows later: a row written before them is not drift, but `reindex` adds them. */
const LATER_FIELDS = ['active_ms', 'running_since'] as const;

/** Drift between the manifests' summaries and the index; `legacy` counts rows that only lack LATER_FIELDS. */
export function diffIndex(expected: RunSummary[], actual: RunSummary[]): { drift: ReindexReport['drift']; legacy: number } {
  const want = new Map(expected.map((s) => [s.run_id, s]));
  const seen = new Map<string, number>();
  const drift: ReindexReport['drift'] = [];
  let legacy = 0;
  for (const s of actual) {
    seen.set(s.run_id, (seen.get(s.run_id) ?? 0) + 1);
    const w = want.get(s.run_id);
    if (w === undefined) {
      drift.push({ run_id: s.run_id, kind: 'extra' });
      continue;
    }
    let same = canonicalJson(w) === canonicalJson(s);
    if (!same && LATER_FIELDS.every((f) => s[f] === undefined)) {
      const older = { ...w };
      for (const f of LATER_FIELDS) delete older[f];
      same = canonicalJson(older) === canonicalJson(s);
      if (same) legacy++;
    }
    if (!same || seen.get(s.run_id)! > 1) drift.push({ run_id: s.run_id, kind: 'different' });
  }
  for (const id of want.keys()) if (!seen.has(id)) drift.push({ run_id: id, kind: 'missing' });
  return { drift, legacy };
}

/**
 * @example const report = await reindex({ store, check: true }); if (report.drift.length) exit(1)
 */
type Report = ReindexReport & { broken: Walked['broken']; damaged: number; damage: IndexView['damage'] };

export async function reindex({ store, check = false }: { store: Store; check?: boolean }): Promise<Report> {
  let report: Report | null = null;
  const compute = async (tree: string) => {
    const walked = await walkManifests(store, tree);
    const view = new IndexView(store, tree, undefined, true);
    const actual = await view.all();
    const { drift, legacy } = diffIndex(walked.summaries, actual);
    // An index written before index/count (or with a wrong one) is rewritten too, so totals become answerable.
    const countOk = (await view.count()) === walked.summaries.length;
    // The call index is a projection of the rows, checked the same way.
    const calls = await buildCallIndex(store, tree);
    const callDrift = await checkCallIndex(store, tree, calls);
    return { walked, drift, damaged: view.damaged, damage: view.damage, countOk, legacy, calls, callDrift };
  };
  const reportOf = (r: Awaited<ReturnType<typeof compute>>): Report => ({
    runs: r.walked.summaries.length,
    drift: r.drift,
    rewritten: false,
    call_index: { entries: r.calls.size, drift: r.callDrift },
    broken: r.walked.broken,
    damaged: r.damaged,
    damage: r.damage,
  });
  const empty: Report = { runs: 0, drift: [], rewritten: false, call_index: { entries: 0, drift: [] }, broken: [], damaged: 0, damage: [] };
  if (check) {
    const tip = await store.tip();
    if (!tip) return empty;
    const r = await compute(tip.tree);
    return reportOf(r);
  }
  let changed: string[] = [];
  await store.commit({
    subject: 'reindex: rebuild the run index from manifests',
    // The runs whose index rows this commit changes; known once change() has compared.
    runId: () => changed,
    sourceCommit: null,
    change: async (tip) => {
      if (!tip) return null;
      const r = await compute(tip.tree);
      report = reportOf(r);
      // Rows written before active_ms are not drift, but a reindex brings them up to date.
      const runsOk = r.drift.length === 0 && r.damaged === 0 && r.countOk && r.legacy === 0;
      if (runsOk && r.callDrift.length === 0) return null;
      changed = [...new Set(r.drift.map((d) => d.run_id))];
      const edits: Edits = new Map();
      if (!runsOk) {
        edits.set('index', null);
        for (const [p, v] of buildIndexFiles(r.walked.summaries)) edits.set(p, v);
      }
      // Written whole whenever anything under index/ is rewritten (the run index's rewrite clears the folder).
      callIndexFiles(r.calls, edits);
      report.rewritten = true;
      return edits;
    },
  });
  return report ?? empty;
}

