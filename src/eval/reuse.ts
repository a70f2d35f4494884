// `agentv eval --reuse` (SPEC 3.9): each test the plan would call the target
// for is looked up in the call index on the ref by its call key; where the
// history holds an earlier output of the same call (same rendered prompt or
// messages, vars, target configuration and repeat index: the call key covers
// them all, so "the same target" needs no separate check), the test is graded
// from that output under the current assertions instead of calling the target,
// and its row names the run the output came from (carried_from).
import { hasCallIndex, lookupCalls, readIndexedRows, type Store } from '../store/index.js';
import type { Plan } from './resume-plan.js';
import type { WorkItem } from './runner.js';

export interface ReuseResult {
  plan: Plan;
  /** Tests graded from an earlier output (no target call). */
  reused: number;
  /** The ref has no call index (a store written before it): nothing can be found until `results reindex`. */
  noIndex: boolean;
}

/**
 * Turn the plan's target calls into grading of earlier outputs where the call
 * index has them. Items already carrying a stored output (re-grades) are left
 * as they are; a row of the run being continued is never its own source.
 * @example const { plan, reused } = await applyReuse({ store, plan })
 */
export async function applyReuse({ store, plan }: { store: Store; plan: Plan }): Promise<ReuseResult> {
  const tip = await store.tip();
  if (!tip) return { plan, reused: 0, noIndex: false };
  // A test that reads run-time values (storeOutputAs, _conversation) is keyed by its recipe, not by
  // the prompt it will be sent: its call is only known when it runs, so it is never reused.
  const reusable = (i: WorkItem) => !i.stored && !i.test.runtime && i.planned.call_key !== undefined;
  const wanted = plan.items.filter(reusable);
  if (!(await hasCallIndex(store, tip.tree))) return { plan, reused: 0, noIndex: true };
  const found = await readIndexedRows(store, tip.tree, await lookupCalls(store, tip.tree, wanted.map((i) => i.planned.call_key!)));
  let reused = 0;
  const items = plan.items.map((item): WorkItem => {
    const key = item.planned.call_key;
    const hit = reusable(item) ? found.get(key!) : undefined;
    if (!hit || hit.entry.run_id === plan.runId) return item;
    reused++;
    return Object.assign({}, item, { stored: { row: hit.row, gradeSeq: 0, carriedFrom: hit.entry.run_id } });
  });
  const toCall = items.length - items.filter((i) => i.stored).length;
  const summary =
    plan.mode === 'new'
      ? `${plan.summary}, ${reused} reused, ${toCall} to run`
      : `${plan.summary}; ${reused} of them reused from earlier runs, ${toCall} to call`;
  return { plan: { ...plan, items, summary }, reused, noIndex: false };
}
