// `agentv results ...`: maintenance of the results ref (reindex now; push,
// pull, sync, promote and link arrive with remotes).
import { reindex } from '../../src/store/index.js';
import type { CommandContext, CommandResult } from '../context.js';

export async function resultsReindex(ctx: CommandContext, opts: { check?: boolean; json?: boolean }): Promise<CommandResult> {
  const store = await ctx.openStore();
  const report = await reindex({ store, check: opts.check });
  const { broken, damaged, ...doc } = report;
  for (const b of broken) ctx.io.stderr(`warning: run ${b.run_id} skipped: ${b.reason}\n`);
  if (damaged) ctx.io.stderr(`warning: ${damaged} damaged index line(s)\n`);
  if (opts.json) return { exitCode: opts.check && (doc.drift.length || damaged) ? 1 : 0, json: doc };
  if (opts.check) {
    if (doc.drift.length === 0 && !damaged) {
      ctx.io.stderr(`index ok: ${doc.runs} runs, no drift\n`);
      return { exitCode: 0 };
    }
    for (const d of doc.drift.slice(0, 50)) ctx.io.stderr(`drift: ${d.kind} ${d.run_id}\n`);
    if (doc.drift.length > 50) ctx.io.stderr(`... and ${doc.drift.length - 50} more\n`);
    ctx.io.stderr(`index drift in ${doc.drift.length} run(s); fix with: agentv results reindex\n`);
    return { exitCode: 1 };
  }
  ctx.io.stderr(doc.rewritten ? `index rebuilt: ${doc.runs} runs (${doc.drift.length} fixed)\n` : `index already matches ${doc.runs} runs\n`);
  return { exitCode: 0 };
}
