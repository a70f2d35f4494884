// `agentv runs diff BASE HEAD`: the per-test comparison of two runs (SPEC 3.8),
// for people (regressions first, with the reason each failed), as JSON, as
// Markdown for a pull request, or as JUnit XML. Also the comparison printout
// `agentv eval --baseline` ends with.
import { AgentvError } from '../../src/errors.js';
import { RunId } from '../../src/schemas/common.js';
import { CompareDocument, type CompareTest } from '../../src/schemas/compare.js';
import { compareRuns } from '../../src/store/index.js';
import { diffJunit, diffMarkdown, failReason, oneLine, pct, points } from '../../src/report/index.js';
import type { CommandContext, CommandResult, Io } from '../context.js';

export interface DiffOptions {
  json?: boolean;
  format?: string;
  failOnRegression?: boolean;
}

export function checkRunId(id: string, what: string): void {
  if (!RunId.safeParse(id).success) throw new AgentvError('USAGE', `invalid ${what} run id: ${JSON.stringify(id)}`);
}

/** 1 when a test regressed or newly errors (the gate), else 0. */
export function gateExit(doc: CompareDocument): number {
  return doc.summary.regressed + doc.summary.new_error > 0 ? 1 : 0;
}

export async function runsDiff(ctx: CommandContext, base: string, head: string, opts: DiffOptions): Promise<CommandResult> {
  checkRunId(base, 'base');
  checkRunId(head, 'head');
  const format = opts.format ?? (opts.json ? 'json' : 'text');
  if (opts.json && opts.format && opts.format !== 'json') throw new AgentvError('USAGE', '--json and --format cannot be combined: choose one');
  if (!['json', 'text', 'markdown', 'junit'].includes(format)) throw new AgentvError('USAGE', `--format takes markdown or junit, not ${JSON.stringify(format)}`);
  const store = await ctx.openStore();
  const doc = CompareDocument.parse(await compareRuns({ store, base, head, inputs: format === 'json' }));
  for (const w of doc.warnings) ctx.io.stderr(`warning: ${w}\n`);
  const exitCode = opts.failOnRegression ? gateExit(doc) : 0;
  if (format === 'json') return { exitCode, json: doc };
  if (format === 'markdown') ctx.io.stdout(diffMarkdown(doc));
  else if (format === 'junit') ctx.io.stdout(diffJunit(doc));
  else printDiff(ctx.io.stdout, doc);
  return { exitCode };
}

const LABEL: Record<CompareTest['change'], string> = {
  regressed: 'REGRESSED',
  new_error: 'NEW ERROR',
  fixed: 'FIXED',
  still_failing: 'STILL FAILING',
  added: 'ADDED',
  removed: 'REMOVED',
  unchanged: 'unchanged',
};

/** The human comparison: counts, the pass-rate change with its interval, then regressions first. */
export function printDiff(out: Io['stdout'], doc: CompareDocument, { listUnchanged = false }: { listUnchanged?: boolean } = {}): void {
  const s = doc.summary;
  const commit = (c: string | null) => (c ? ` @ ${c.slice(0, 12)}` : '');
  out(`Comparing base ${doc.base.run_id}${commit(doc.base.source_commit)} → head ${doc.head.run_id}${commit(doc.head.source_commit)} (${doc.head.suite}, ${doc.head.target})\n`);
  out(
    `  ${s.regressed} regressed, ${s.new_error} new errors, ${s.fixed} fixed, ${s.still_failing} still failing, ${s.unchanged} unchanged, ${s.added} added, ${s.removed} removed; ${s.changed_input} with changed input\n`,
  );
  const ci = s.pass_rate_delta_ci;
  out(
    `  pass rate ${pct(doc.base.pass_rate)} → ${pct(doc.head.pass_rate)}; over the ${s.paired} tests in both: ${points(s.pass_rate_delta)}` +
      (ci ? ` (95% interval ${points(ci[0])} to ${points(ci[1])}, paired)` : '') +
      '\n',
  );
  const listed = doc.tests.filter((t) => listUnchanged || t.change !== 'unchanged');
  if (!listed.length) return;
  out('\n');
  const width = Math.max(...listed.map((t) => t.test_id.length), 4);
  for (const t of listed) {
    const b = t.base ? t.base.score.toFixed(2) : '  - ';
    const h = t.head ? t.head.score.toFixed(2) : '  - ';
    const row = t.head ?? t.base!;
    const why = row.passed ? '' : oneLine(failReason(row), 160);
    out(`  ${LABEL[t.change].padEnd(13)}  ${t.test_id.padEnd(width)}  ${b} → ${h}${t.changed_input ? '  (input changed)' : ''}${why ? `  ${why}` : ''}\n`);
  }
}
