// Baselines from git (SPEC 3.8): for `eval --baseline REV`, the newest
// completed run of the same suite and target whose source commit is REV, else
// the nearest first-parent ancestor of REV that has one (at most 1,000 back).
// Resolved before anything runs; the index is read once, page by page.
import { AgentvError } from '../errors.js';
import { firstParentAncestors } from '../git/index.js';
import type { RunSummary } from '../schemas/summary.js';
import { sourceRootOf } from './config.js';
import { IndexView, readPage } from './run-index.js';
import type { Store } from './store.js';

export const BASELINE_DEPTH = 1000;

export interface BaselineSearch {
  rev: string;
  /** REV resolved in the source repository. */
  commit: string;
  suite: string;
  target: string;
  /** Commits searched (REV and its first-parent ancestors). */
  depth: number;
}

export interface Baseline {
  run: RunSummary | null;
  /** How many first-parent steps from REV the baseline's commit is (0 = REV itself). */
  distance: number | null;
  searched: BaselineSearch;
}

/** In words, what a baseline search looked for (for the warning and the --require-baseline error). */
export function describeSearch(s: BaselineSearch): string {
  return `completed run of suite ${s.suite} with target ${s.target} at ${s.rev} (${s.commit.slice(0, 12)}) or its ${s.depth - 1} nearest first-parent ancestors`;
}

/**
 * @example await findBaseline({ store, rev: 'origin/main', suite: 'support', target: 'gpt' })
 */
export async function findBaseline({
  store,
  rev,
  suite,
  target,
  maxDepth = BASELINE_DEPTH,
}: {
  store: Store;
  rev: string;
  suite: string;
  target: string;
  maxDepth?: number;
}): Promise<Baseline> {
  const commits = await firstParentAncestors({ cwd: sourceRootOf(store), rev, max: maxDepth });
  if (!commits) throw new AgentvError('USAGE', `--baseline ${rev} does not resolve to a commit in the source repository`, { rev });
  const searched: BaselineSearch = { rev, commit: commits[0]!, suite, target, depth: commits.length };
  const distance = new Map(commits.map((c, i) => [c, i]));
  const tip = await store.tip();
  let best: { run: RunSummary; distance: number } | null = null;
  if (tip) {
    const view = new IndexView(store, tip.tree);
    const filter = (s: RunSummary) => s.suite === suite && s.target === target && s.status === 'completed' && s.source_commit !== null && distance.has(s.source_commit);
    let cursor: string | undefined;
    // Newest first: the first run met at a distance is the newest there.
    do {
      const page = await readPage(view, { limit: 500, cursor, filter });
      for (const run of page.runs) {
        const d = distance.get(run.source_commit!)!;
        if (!best || d < best.distance) best = { run, distance: d };
      }
      if (best?.distance === 0) break;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return { run: best?.run ?? null, distance: best?.distance ?? null, searched };
}
