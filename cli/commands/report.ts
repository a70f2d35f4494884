// `agentv report RUN [--base RUN] -o FILE.html`: the self-contained HTML report.
// Everything is read and rendered before the file is written (temp + rename),
// so a bad run id writes nothing.
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AgentvError } from '../../src/errors.js';
import { CompareDocument } from '../../src/schemas/compare.js';
import { reportHtml } from '../../src/report/index.js';
import { compareRuns, showRun } from '../../src/store/index.js';
import type { CommandContext, CommandResult } from '../context.js';
import { checkRunId } from './compare.js';

export async function report(ctx: CommandContext, runId: string, opts: { base?: string; output: string }): Promise<CommandResult> {
  checkRunId(runId, 'the');
  if (opts.base !== undefined) checkRunId(opts.base, 'base');
  const store = await ctx.openStore();
  const run = await showRun({ store, runId });
  const comparison = opts.base ? CompareDocument.parse(await compareRuns({ store, base: opts.base, head: runId })) : null;
  for (const w of comparison?.warnings ?? []) ctx.io.stderr(`warning: ${w}\n`);
  const file = path.resolve(ctx.cwd, opts.output);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, reportHtml({ run, comparison }));
    renameSync(tmp, file);
  } catch (e) {
    throw new AgentvError('USAGE', `cannot write ${opts.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  ctx.io.stderr(`Wrote ${path.relative(ctx.cwd, file) || file}\n`);
  return { exitCode: 0 };
}
