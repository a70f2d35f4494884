// `agentv eval --baseline REV [--fail-on-regression] [--require-baseline]`:
// baselines are found before anything runs; after each run the comparison is
// printed and, with --fail-on-regression, decides the exit code.
import { AgentvError } from '../../src/errors.js';
import { CompareDocument, EvalBaseline } from '../../src/schemas/compare.js';
import { compareRuns, describeSearch, findBaseline, type Baseline, type Store } from '../../src/store/index.js';
import type { CommandContext } from '../context.js';
import { printDiff } from './compare.js';

export interface BaselineOptions {
  baseline?: string;
  failOnRegression?: boolean;
  requireBaseline?: boolean;
}

export function checkBaselineFlags(opts: BaselineOptions): void {
  if (opts.baseline === undefined && (opts.failOnRegression || opts.requireBaseline)) {
    throw new AgentvError('USAGE', `${opts.failOnRegression ? '--fail-on-regression' : '--require-baseline'} needs --baseline REV (or compare two runs with agentv runs diff)`);
  }
}

/** One baseline per run about to start; exit 2 before anything runs for a bad REV or a required baseline that is missing. */
export async function resolveBaselines(
  ctx: CommandContext,
  store: Store,
  runs: { suite: string; target: string }[],
  opts: BaselineOptions,
): Promise<(Baseline | null)[]> {
  if (opts.baseline === undefined) return runs.map(() => null);
  const found: Baseline[] = [];
  for (const r of runs) {
    const b = await findBaseline({ store, rev: opts.baseline, suite: r.suite, target: r.target });
    if (!b.run && opts.requireBaseline) {
      throw new AgentvError('USAGE', `no baseline: found no ${describeSearch(b.searched)} (--require-baseline)`, { ...b.searched });
    }
    if (!b.run) ctx.io.stderr(`warning: no baseline: found no ${describeSearch(b.searched)}; nothing to compare with\n`);
    else ctx.io.stderr(`Baseline: run ${b.run.run_id} at ${b.run.source_commit?.slice(0, 12)}${b.distance ? ` (${b.distance} commit${b.distance === 1 ? '' : 's'} before ${opts.baseline})` : ''}\n`);
    found.push(b);
  }
  return found;
}

/** Compare a finished run with its baseline, print it, and return what --json carries and the gate's verdict. */
export async function compareWithBaseline(
  ctx: CommandContext,
  store: Store,
  baseline: Baseline | null,
  headRunId: string,
): Promise<{ json: EvalBaseline | null; regressed: boolean }> {
  if (!baseline?.run) return { json: null, regressed: false };
  const doc = CompareDocument.parse(await compareRuns({ store, base: baseline.run.run_id, head: headRunId, inputs: false }));
  for (const w of doc.warnings) ctx.io.stderr(`warning: ${w}\n`);
  printDiff(ctx.io.stderr, doc);
  const regressions = doc.tests.filter((t) => t.change === 'regressed' || t.change === 'new_error').map((t) => ({ test_id: t.test_id, change: t.change }));
  return {
    json: EvalBaseline.parse({ base: doc.base, distance: baseline.distance ?? 0, summary: doc.summary, regressions, warnings: doc.warnings }),
    regressed: regressions.length > 0,
  };
}
