// Markdown for $GITHUB_STEP_SUMMARY and pull-request comments: a run, or a
// comparison with regressions first. Cells are escaped for GitHub tables.
import type { RunDetailResponse } from '../schemas/api.js';
import type { Change, CompareDocument, CompareTest } from '../schemas/compare.js';
import { failReason, oneLine, pct, points, rowStatus } from './text.js';

function cell(s: string, max = 160): string {
  return oneLine(s, max).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function code(s: string): string {
  return `\`${s.replace(/`/g, "'")}\``;
}

const TITLES: Record<Change, string> = {
  regressed: 'Regressions',
  new_error: 'New errors',
  fixed: 'Fixed',
  still_failing: 'Still failing (known failures)',
  added: 'Added',
  removed: 'Removed',
  unchanged: 'Unchanged',
};

function score(t: CompareTest): string {
  const b = t.base ? t.base.score.toFixed(2) : '–';
  const h = t.head ? t.head.score.toFixed(2) : '–';
  return `${b} → ${h}`;
}

export function diffMarkdown(doc: CompareDocument, { maxRows = 50 }: { maxRows?: number } = {}): string {
  const s = doc.summary;
  const bad = s.regressed + s.new_error;
  const out: string[] = [];
  out.push(`## agentv: ${cell(doc.head.suite)} — ${bad === 0 ? 'no regressions' : `${bad} regression${bad === 1 ? '' : 's'}`}`);
  out.push('');
  out.push(`Base ${code(doc.base.run_id)}${doc.base.source_commit ? ` (${code(doc.base.source_commit.slice(0, 12))})` : ''} → head ${code(doc.head.run_id)}${doc.head.source_commit ? ` (${code(doc.head.source_commit.slice(0, 12))})` : ''}, target ${cell(doc.head.target)}`);
  out.push('');
  out.push('| | base | head |');
  out.push('|---|---|---|');
  out.push(`| pass rate | ${pct(doc.base.pass_rate)} (${doc.base.passed} passed) | ${pct(doc.head.pass_rate)} (${doc.head.passed} passed) |`);
  out.push(`| failed / errored | ${doc.base.failed} / ${doc.base.errored} | ${doc.head.failed} / ${doc.head.errored} |`);
  out.push('');
  const ci = s.pass_rate_delta_ci;
  out.push(
    `Over the ${s.paired} tests in both runs the pass rate changed by **${points(s.pass_rate_delta)}**${ci ? ` (95 % interval ${points(ci[0])} to ${points(ci[1])}, paired)` : ''}. ` +
      `${s.regressed} regressed · ${s.new_error} new errors · ${s.fixed} fixed · ${s.still_failing} still failing · ${s.unchanged} unchanged · ${s.added} added · ${s.removed} removed · ${s.changed_input} with changed input.`,
  );
  for (const w of doc.warnings) out.push('', `> **Warning:** ${cell(w, 400)}`);
  for (const change of ['regressed', 'new_error', 'fixed', 'still_failing', 'added', 'removed'] as Change[]) {
    const tests = doc.tests.filter((t) => t.change === change);
    if (!tests.length) continue;
    const open = change === 'regressed' || change === 'new_error';
    out.push('');
    out.push(open ? `### ${TITLES[change]} (${tests.length})` : `<details><summary>${TITLES[change]} (${tests.length})</summary>`);
    out.push('');
    out.push('| test | score | reason | input changed |');
    out.push('|---|---|---|---|');
    for (const t of tests.slice(0, maxRows)) {
      const row = t.head ?? t.base!;
      out.push(`| ${cell(t.test_id, 80)} | ${score(t)} | ${cell(failReason(row)) || '–'} | ${t.changed_input ? 'yes' : ''} |`);
    }
    if (tests.length > maxRows) out.push(`| … ${tests.length - maxRows} more | | | |`);
    if (!open) out.push('', '</details>');
  }
  return `${out.join('\n')}\n`;
}

export function runMarkdown(detail: RunDetailResponse, { maxRows = 200 }: { maxRows?: number } = {}): string {
  const m = detail.run;
  const c = m.counts;
  const out: string[] = [];
  out.push(`## agentv run ${code(m.run_id)}: ${cell(m.suite.name)} on ${cell(m.target.name)}`);
  out.push('');
  out.push(
    `**${m.status}** · ${c?.passed ?? 0} of ${c?.completed_count ?? 0} run passed (${pct(c?.pass_rate ?? null)}) · ${c?.failed ?? 0} failed · ${c?.errored ?? 0} errored · ${detail.planned_test_count} planned` +
      (m.source_commit ? ` · source ${code(m.source_commit.slice(0, 12))}` : ''),
  );
  out.push('');
  const order = { error: 0, failed: 1, passed: 2 } as const;
  const rows = [...detail.results].sort((a, b) => order[rowStatus(a)] - order[rowStatus(b)]);
  out.push('| test | status | score | reason |');
  out.push('|---|---|---|---|');
  for (const r of rows.slice(0, maxRows)) out.push(`| ${cell(r.test_id, 80)} | ${rowStatus(r)} | ${r.score.toFixed(2)} | ${cell(failReason(r)) || '–'} |`);
  if (rows.length > maxRows) out.push(`| … ${rows.length - maxRows} more | | | |`);
  return `${out.join('\n')}\n`;
}
