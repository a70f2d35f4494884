// Re-grading (SPEC 3.4, 3.9): what a resume does with one planned test given
// its current row, and the plan of `agentv regrade`. A stored output is graded
// again only when the target would be asked the same thing (same call key):
// a re-grade appends a row with the same attempt and grade_seq + 1, so the
// earlier verdict stays as history and the target is never called.
import { AgentvError } from '../errors.js';
import type { Manifest, PlannedTest } from '../schemas/manifest.js';
import type { Row } from '../schemas/row.js';
import { currentRows, effectiveStatus } from '../store/index.js';
import type { Base, EvalMode, Plan } from './resume-plan.js';
import { liveRunError } from './resume-plan.js';
import type { WorkItem } from './runner.js';
import type { EvalRequest } from './session.js';
import type { Suite, SuiteTest } from './types.js';

/** What a resume mode does with a planned test. */
export type TestAction = 'missing' | 'changed' | 'regrade' | 'errored' | 'failed' | 'done';

/** A row whose output can be judged again: it has one, and the target did not fail. */
export function hasStoredOutput(row: Row): boolean {
  return row.output !== null && (row.execution_status !== 'execution_error' || row.error_phase === 'grading');
}

/**
 * Classify one planned test against its current row. Rows with a call key
 * compare keys: another call key is a changed input; the same call key with
 * another grading key, or a grading-phase error, is re-graded from the stored
 * output. Rows written before the keys existed compare input_hash as before.
 */
export function classifyTest({ row, keys, mode }: { row: Row | undefined; keys: PlannedTest; mode: Exclude<EvalMode, 'new' | 'regrade'> }): TestAction {
  if (!row) return 'missing';
  if (row.call_key !== undefined && keys.call_key !== undefined) {
    if (row.call_key !== keys.call_key) return 'changed';
    const graderError = row.execution_status === 'execution_error';
    if (hasStoredOutput(row) && (row.grading_key !== keys.grading_key || graderError)) return 'regrade';
  } else if (row.input_hash !== keys.input_hash) return 'changed';
  else if (row.execution_status === 'execution_error' && hasStoredOutput(row)) return 'regrade';
  if (row.execution_status === 'execution_error') return 'errored';
  if (mode === 'rerun_failed' && row.execution_status === 'quality_failure') return 'failed';
  return 'done';
}

/**
 * A work item that grades `row`'s output under the test's current assertions
 * (no target call). An output carried from another run still says where it came from.
 */
export function regradeItem({ test, keys, row, carriedFrom = row.carried_from }: { test: SuiteTest; keys: PlannedTest; row: Row; carriedFrom?: string }): WorkItem {
  return {
    test,
    planned: keys,
    attempt: row.attempt,
    stored: { row, gradeSeq: (row.grade_seq ?? 0) + 1, ...(carriedFrom !== undefined && { carriedFrom }) },
  };
}

/**
 * `agentv regrade`: every selected test whose current row holds an output is
 * graded again. Target-phase errors have nothing to grade and stay as they
 * are; a test whose call changed since (prompt, vars, target) is left alone,
 * since its output answers another question. The run's status is not changed:
 * a stopped or incomplete run is re-graded where it has rows and stays resumable.
 */
export function regradePlan({
  req,
  previous,
  rows,
  tests,
  suite,
  target,
  grader,
  planned,
}: Base & { req: EvalRequest; previous: Manifest; rows: Row[]; tests: Suite['tests'] }): Plan {
  if (effectiveStatus(req.store, previous) === 'running') throw liveRunError(previous);
  const current = currentRows(rows);
  const items: WorkItem[] = [];
  const keysOf = new Map<string, PlannedTest>();
  let targetErrors = 0;
  let missing = 0;
  const changed: string[] = [];
  tests.forEach((test, i) => {
    const keys = planned[i]!;
    const row = current.get(test.id);
    if (!row) return void missing++;
    if (!hasStoredOutput(row)) return void targetErrors++;
    if (row.call_key !== undefined && row.call_key !== keys.call_key) return void changed.push(test.id);
    items.push(regradeItem({ test, keys, row }));
    keysOf.set(test.id, keys);
  });
  const id = previous.run_id;
  if (items.length === 0) {
    throw new AgentvError(
      'USAGE',
      `run ${id} has no stored output to re-grade` +
        `${targetErrors ? ` (${targetErrors} target error(s))` : ''}${changed.length ? ` (${changed.length} test(s) whose call changed)` : ''}` +
        `${missing ? ` (${missing} test(s) without a row)` : ''}; continue it with: agentv resume ${id}`,
      { run_id: id },
    );
  }
  const ids = new Set(tests.map((t) => t.id));
  const removed = previous.planned_tests.filter((p) => !ids.has(p.test_id)).length;
  const notes = [
    targetErrors && `${targetErrors} target error(s) stay as they are (no output to grade; agentv resume ${id} re-executes them)`,
    changed.length &&
      `${changed.length} test(s) whose prompt, vars or target changed keep their rows (${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', ...' : ''}; ` +
        `re-execute them with --resume ${id} --accept-changed)`,
    missing && `${missing} test(s) without a row are not run (agentv resume ${id} runs them)`,
    removed && `${removed} test(s) no longer in the suite keep their rows`,
  ].filter(Boolean);
  return {
    suite,
    target,
    grader,
    // The planned set stays the run's; re-graded tests record their new keys.
    planned: previous.planned_tests.map((p) => keysOf.get(p.test_id) ?? p),
    runId: id,
    mode: 'regrade',
    items,
    done: 0,
    missing,
    errored: targetErrors,
    failed: 0,
    changed: changed.length,
    regrade: items.length,
    carried: [],
    previous,
    summary: `re-grading run ${id}: ${items.length} to re-grade${notes.length ? `; ${notes.join('; ')}` : ''}`,
  };
}
