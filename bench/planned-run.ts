// A bench fixture: a run committed from a prepared session's plan, with rows
// as if its target had answered some of the planned tests. The resume-planning
// and regrade rows start from such a run.
import type { Plan } from '../src/eval/session.js';
import type { Manifest } from '../src/schemas/manifest.js';
import type { Row } from '../src/schemas/row.js';
import { createRun, type Store } from '../src/store/index.js';
import { syntheticRuns } from '../src/store/seed.js';

/** A passing row of planned test `p` whose target answered `output`. */
export function answeredRow(p: Plan['planned'][number], output: string, ms: number, now: string): Row {
  return {
    ...p,
    execution_status: 'ok',
    passed: true,
    score: 1,
    assertions: [{ type: 'contains', passed: true, score: 1, reason: null }],
    output,
    error: null,
    duration_ms: ms,
    started_at: now,
    finished_at: now,
    attempt: 1,
    token_usage: null,
    cost_usd: null,
  };
}

/** Commit run `runId` of `plan` (suite file suite.yaml) with `rows`, owned by another host. */
export async function commitPlannedRun({
  store,
  plan,
  runId,
  suiteName,
  status,
  rows,
}: {
  store: Store;
  plan: Plan;
  runId: string;
  suiteName: string;
  status: Manifest['status'];
  rows: Row[];
}): Promise<void> {
  const [run] = [...syntheticRuns({ runs: 1, rowsPerRun: 1, startAt: new Date() })];
  const target = plan.target;
  await createRun({
    store,
    manifest: {
      ...run!.manifest,
      run_id: runId,
      suite: { name: suiteName, path: 'suite.yaml' },
      target: { name: target.name, provider: target.provider, config_hash: target.configHash },
      planned_tests: plan.planned,
      planned_test_count: plan.planned.length,
      status,
      host: 'elsewhere',
      options: { suite_paths: ['suite.yaml'], target: target.name, grader: null, workers: null, test_ids: [], tags: [] },
    },
    rows,
  });
}
