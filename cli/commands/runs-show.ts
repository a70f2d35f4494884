// `agentv runs show`: the document of GET /api/runs/:run_id, an export of it
// (--format), or a header and a table for people.
import { AgentvError } from '../../src/errors.js';
import { isRunId } from '../../src/schemas/ids.js';
import type { RowWithInput } from '../../src/schemas/input.js';
import { failReason, oneLine } from '../../src/report/text.js';
import { showRun } from '../../src/store/queries.js';
import type { CommandContext, CommandResult } from '../context.js';
import { activeMs } from '../../src/store/tally.js';
import { colorsFor, paintStatus } from '../color.js';
import { duration, percent, shortTime, table } from '../format.js';

/** `--history`: with --json the document's `history`; in the table, the superseded rows after the current ones. */
export async function runsShow(ctx: CommandContext, runId: string, opts: { json?: boolean; history?: boolean; format?: string }): Promise<CommandResult> {
  if (!isRunId(runId)) throw new AgentvError('USAGE', `invalid run id: ${JSON.stringify(runId)}`);
  // The export formats load with an export; showing a run does not load their schemas.
  const format = opts.format === undefined ? undefined : (await import('../../src/schemas/export.js')).ExportFormat.safeParse(opts.format);
  if (format && !format.success) throw new AgentvError('USAGE', `--format takes json, csv, junit or markdown, not ${JSON.stringify(opts.format)}`);
  const store = await ctx.openStore();
  const detail = await showRun({ store, runId, history: opts.history, onWarning: (w) => ctx.io.stderr(`warning: ${w}\n`) });
  if (opts.json && (!format || format.data === 'json')) return { exitCode: 0, json: detail };
  if (format) {
    if (opts.json) throw new AgentvError('USAGE', '--json and --format cannot be combined: choose one');
    const { exportRun } = await import('../../src/report/export.js');
    ctx.io.stdout(exportRun(detail, format.data));
    return { exitCode: 0 };
  }
  const m = detail.run;
  const c = m.counts;
  // Rows of tests removed from the suite are kept but do not count toward completeness.
  const planned = new Set(m.planned_tests.map((p) => p.test_id));
  const out = ctx.io.stdout;
  const c$ = colorsFor(ctx.env, Boolean(process.stdout.isTTY));
  out(`Run ${m.run_id}  ${paintStatus(c$, m.status, m.outcome)}${m.outcome && m.status !== 'running' ? ` (${paintStatus(c$, m.outcome, m.outcome)})` : ''}\n`);
  out(`  suite    ${m.suite.name} (${m.suite.path})\n`);
  out(`  target   ${m.target.name} [${m.target.provider}]${m.grader ? `  grader ${m.grader.name}` : ''}\n`);
  out(`  source   ${m.source_commit ?? '-'}${m.source_dirty ? ' (dirty)' : ''}\n`);
  if (m.options.reuse) out(`  reuse    on: outputs of unchanged calls were taken from earlier runs (no target call for them)\n`);
  // Duration excludes the time the run sat stopped between a stop and a resume.
  out(`  started  ${shortTime(m.started_at)}   duration ${duration(activeMs(detail.events, m.started_at, m.status === 'running' ? null : m.finished_at))}\n`);
  out(
    `  tests    ${detail.results.filter((r) => planned.has(r.test_id)).length}/${detail.planned_test_count} done, ${c?.passed ?? 0} passed, ${c?.failed ?? 0} failed, ${c?.errored ?? 0} errored, pass rate ${percent(c?.pass_rate ?? null)}, avg score ${c?.avg_score?.toFixed(2) ?? '-'}\n`,
  );
  // Named metrics (`metric:` on assertions), aggregated by the store over the current rows.
  for (const m of detail.metrics) {
    out(`  metric   ${m.metric}: ${m.passed}/${m.total} passed (${percent(m.passed / m.total)}), avg score ${m.avg_score.toFixed(2)}\n`);
  }
  for (const e of detail.events) {
    if (e.type === 'resumed') out(`  event    ${shortTime(e.at)} resumed (${e.mode}): ${e.executed ?? 0} of ${e.planned ?? 0} executed\n`);
    else if (e.type === 'regraded') out(`  event    ${shortTime(e.at)} regraded: ${e.executed ?? 0}${e.planned !== undefined ? ` of ${e.planned}` : ''} stored output(s) graded again, no target calls\n`);
    else out(`  event    ${shortTime(e.at)} ${e.type}${e.detail ? `: ${e.detail}` : ''}\n`);
  }
  if (detail.is_resumable) out(`  resume   agentv resume ${m.run_id}   (${detail.resume_reason})\n`);
  out('\n');
  out(
    table(
      ['TEST', 'STATUS', 'SCORE', 'ATTEMPT', 'DURATION', 'DETAIL'],
      detail.results.map((r) => [
        r.test_id,
        r.execution_status === 'ok' ? 'passed' : r.execution_status === 'quality_failure' ? 'failed' : 'error',
        r.score.toFixed(2),
        String(r.attempt),
        duration(r.duration_ms),
        failReason(r).replace(/\s+/g, ' ').slice(0, 80),
      ]),
    ),
  );
  printFailures(out, detail.results);
  if (detail.missing_test_ids.length) {
    // A stopped or interrupted run names what never ran (a resume runs exactly these).
    out(`\n${c$.yellow(`Not run (${detail.missing_test_ids.length}):`)} ${detail.missing_test_ids.join(', ')}\n`);
  }
  if (opts.history && detail.history?.length) {
    out(`\nSuperseded rows (earlier attempts):\n`);
    out(
      table(
        ['TEST', 'STATUS', 'SCORE', 'ATTEMPT', 'FINISHED'],
        detail.history.map((r) => [r.test_id, r.execution_status, r.score.toFixed(2), String(r.attempt), shortTime(r.finished_at)]),
      ),
    );
  }
  return { exitCode: 0 };
}

/** Why each failed test failed: what it was asked, what was expected, what came back, each failed assertion. */
function printFailures(out: (s: string) => void, rows: RowWithInput[], max = 20): void {
  const failed = rows.filter((r) => !r.passed);
  if (!failed.length) return;
  const text = (v: unknown) => oneLine(typeof v === 'string' ? v : JSON.stringify(v), 160);
  out(`\nNot passed (${failed.length}${failed.length > max ? `, first ${max}` : ''}):\n`);
  for (const r of failed.slice(0, max)) {
    out(`  ${r.test_id}  ${r.execution_status === 'execution_error' ? 'error' : 'failed'}  score ${r.score.toFixed(2)}\n`);
    if (r.input) {
      out(`    asked     ${text(r.input.prompt ?? r.input.messages)}\n`);
      if (r.input.expected_output !== null) out(`    expected  ${text(r.input.expected_output)}\n`);
    }
    if (r.output !== null) out(`    got       ${text(r.output)}\n`);
    if (r.error) out(`    error     ${oneLine(r.error, 160)}\n`);
    for (const a of r.assertions.filter((x) => !x.passed)) out(`    ✗ ${a.type}: ${oneLine(a.reason ?? 'failed', 160)}\n`);
  }
}
