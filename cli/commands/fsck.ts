// `agentv results fsck [--repair] [--json]`: check the results ref and the local
// journals, name every problem; exit 0 clean, 1 problems found (or left after
// --repair). The --json document is FsckReport (src/schemas/fsck.ts).
import { FsckReport } from '../../src/schemas/fsck.js';
import { fsck } from '../../src/store/index.js';
import type { CommandContext, CommandResult } from '../context.js';

export async function resultsFsck(ctx: CommandContext, opts: { repair?: boolean; json?: boolean }): Promise<CommandResult> {
  const store = await ctx.openStore();
  const report = FsckReport.parse(await fsck({ store, repair: opts.repair }));
  const say = ctx.io.stderr;
  const c = report.checked;
  for (const p of report.repaired) say(`repaired: ${p.kind}: ${p.message}\n`);
  for (const p of report.problems) say(`${p.kind}: ${p.message}\n`);
  say(
    `checked ${report.ref} (${report.object_format}${report.tip ? `, tip ${report.tip.slice(0, 12)}` : ', no runs yet'}): ` +
      `${c.commits} commits, ${c.objects} objects, ${c.runs} runs, ${c.row_chunks} row chunks, ${c.index_rows} index rows, ` +
      `${c.incoming_refs} incoming refs, ${c.journals} journals\n`,
  );
  if (report.ok) say(report.repaired.length ? `repaired ${report.repaired.length} problem(s); everything checks out now\n` : 'no problems found\n');
  else {
    const fixable = report.problems.filter((p) => p.repairable).length;
    say(`${report.problems.length} problem(s)${fixable && !opts.repair ? `; ${fixable} can be fixed with: agentv results fsck --repair` : ''}\n`);
  }
  return { exitCode: report.ok ? 0 : 1, json: opts.json ? report : undefined };
}
