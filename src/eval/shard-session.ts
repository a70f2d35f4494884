// Planning one slice of a sharded run (`agentv eval --shard I/N`, SPEC 3.9):
// which tests this machine executes, whether its slice may join the run, and
// for `--resume ID --shard I/N` the diff of the slice's own part against the
// suite. Nothing here writes; the session commits the part when it starts.
import { AgentvError, isAgentvError } from '../errors.js';
import type { PlannedTest, SliceRef } from '../schemas/manifest.js';
import { needsRecovery, readManifestAt, readRowsAt, recoverRun, requireIntact, sliceMismatch } from '../store/index.js';
import { diffPlan, newPlan, type Base, type EvalMode, type Plan } from './resume-plan.js';
import type { EvalRequest } from './session.js';
import { sliceOf } from './shard.js';
import type { Suite } from './types.js';

export interface SlicePlan {
  shard: SliceRef;
  /** The whole run's planned tests (every slice's), in suite order. */
  wholePlanned: PlannedTest[];
  /** The slice's plan: its items and `planned` are the slice's tests only. */
  plan: Plan;
}

export async function prepareSlice({
  req,
  shard,
  mode,
  tests,
  base,
}: {
  req: EvalRequest;
  shard: SliceRef;
  mode: EvalMode;
  tests: Suite['tests'];
  base: Base;
}): Promise<SlicePlan> {
  const label = `${shard.index}/${shard.count}`;
  if (mode === 'retry_errors' || mode === 'regrade') {
    throw new AgentvError('USAGE', `--shard ${label} goes with a new run (--run-id ID) or a resume of one (--resume ID, --rerun-failed ID), not ${mode === 'regrade' ? 'regrade' : '--retry-errors'}`);
  }
  const runId = mode === 'new' ? req.runId : req.fromRunId;
  if (!runId) {
    throw new AgentvError(
      'USAGE',
      mode === 'new'
        ? `--shard ${label} needs --run-id ID: every slice of one run is started with the same id (in CI, for example ci-\${{ github.run_id }})`
        : `--shard ${label} continues a slice of the run you name: --${mode === 'resume' ? 'resume' : 'rerun-failed'} ID --shard ${label}`,
    );
  }
  const inSlice = tests.map((t) => sliceOf(t.id, shard.count) === shard.index);
  const sliceTests = tests.filter((_, i) => inSlice[i]);
  const sliceBase: Base = { ...base, planned: base.planned.filter((_, i) => inSlice[i]) };
  const { store } = req;
  let tip = await store.tip();
  const whole = tip ? await readManifestAt(store, tip.tree, runId) : null;
  if (!whole && mode !== 'new') {
    throw new AgentvError('RUN_NOT_FOUND', `run ${runId} not found; start its slice with: --shard ${label} --run-id ${runId}`, { run_id: runId });
  }
  if (whole) {
    const why = sliceMismatch(whole, {
      run_id: runId,
      slice: shard,
      suite_hash: base.suite.hash,
      target: { name: base.target.name, provider: base.target.provider, config_hash: base.target.configHash },
    });
    if (why) throw new AgentvError('USAGE', why, { run_id: runId });
    // Rows a dead slice left in its journal are committed first (and it reads interrupted).
    if (needsRecovery(store, whole) && (await recoverRun({ store, runId }))) tip = await store.tip();
  }
  const part = tip && whole ? await readManifestAt(store, tip.tree, runId, shard) : null;
  const of = `${sliceTests.length} of ${tests.length} tests`;
  if (!part) {
    const plan = newPlan({ ...req, runId }, sliceBase, sliceTests);
    return { shard, wholePlanned: base.planned, plan: { ...plan, summary: `run ${runId} slice ${label}: ${of}${whole ? `, joining the run` : ''}` } };
  }
  if (mode === 'new') {
    throw new AgentvError('USAGE', `slice ${label} of run ${runId} already exists; continue it with: --resume ${runId} --shard ${label}`, { run_id: runId });
  }
  const rows = requireIntact(runId, await readRowsAt(store, tip!.tree, runId, shard)).rows;
  try {
    const plan = diffPlan({ req, mode, previous: part, rows, tests: sliceTests, ...sliceBase });
    return { shard, wholePlanned: base.planned, plan: { ...plan, summary: plan.summary.replace(`run ${runId}:`, `run ${runId} slice ${label}:`) } };
  } catch (e) {
    if (!isAgentvError(e, 'RUN_COMPLETE')) throw e;
    const left = whole!.slices!.count - whole!.slices!.arrived.filter((a) => a.status === 'completed').length;
    throw new AgentvError(
      'RUN_COMPLETE',
      `slice ${label} of run ${runId} is complete (${of})${left ? `; ${left} other slice(s) of the run have not completed here yet` : ''}`,
      { run_id: runId, slice: label },
    );
  }
}
