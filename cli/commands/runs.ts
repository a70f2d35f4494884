// `agentv runs list`: the document of GET /api/runs, or a table for people.
// A one-shot command that should cost little more than starting Node: it
// imports store modules by name (never the barrel) and nothing that loads zod;
// test/cli/startup.test.ts fails if it starts loading a heavy module.
import { commandLine } from '../../src/command-line.js';
import { listRuns } from '../../src/store/list.js';
import { foldIncoming } from '../../src/store/remote.js';
import type { CommandContext, CommandResult } from '../context.js';
import { summaryDurationMs } from '../../src/store/tally.js';
import { colorsFor, paintStatus } from '../color.js';
import { duration, percent, shortTime, table } from '../format.js';

export interface RunsListOptions {
  limit?: string;
  cursor?: string;
  suite?: string;
  target?: string;
  status?: string;
  commit?: string;
  sort?: string;
  json?: boolean;
}

/** The filters a listing takes, in the order the "More:" hint repeats them. */
const FILTERS = ['suite', 'target', 'status', 'commit'] as const;

export async function runsList(ctx: CommandContext, opts: RunsListOptions): Promise<CommandResult> {
  const { json: _json, ...query } = opts;
  const store = await ctx.openStore();
  // A repository others push to (a bare results repository) may hold runs on incoming refs: fold them first.
  // Listing must still work where this user cannot write (a shared read-only copy): then list what is there.
  await foldIncoming({ store }).catch((e: Error) => ctx.io.stderr(`warning: runs on incoming refs not folded in: ${e.message}\n`));
  const page = await listRuns({ store, query });
  const limit = Number(opts.limit ?? 50);
  if (opts.json) return { exitCode: 0, json: page };
  if (page.runs.length === 0) {
    const filtered = FILTERS.some((k) => opts[k]);
    ctx.io.stderr(
      opts.cursor ? 'No more runs.\n' : filtered ? 'No runs match these filters.\n' : 'No runs yet. Start one with: agentv eval <suite.yaml>\n',
    );
    return { exitCode: 0 };
  }
  // The status in its colour on a terminal (colour.ts: NO_COLOR, FORCE_COLOR, a pipe gets none).
  const c$ = colorsFor(ctx.env, Boolean(process.stdout.isTTY));
  const STATUS = 3;
  ctx.io.stdout(
    table(
      ['ID', 'SUITE', 'TARGET', 'STATUS', 'TESTS', 'PASSED', 'CREATED', 'DURATION'],
      page.runs.map((r) => [
        r.run_id,
        r.suite,
        r.target,
        r.status,
        String(r.planned_test_count),
        `${r.passed} (${percent(r.pass_rate)})`,
        shortTime(r.started_at),
        // Time spent running (the index row's active_ms): a stop and a later resume do not count the gap.
        duration(summaryDurationMs(r)),
      ]),
      (cell, col, row) => (col === STATUS ? paintStatus(c$, cell, page.runs[row]!.outcome) : cell),
    ),
  );
  if (page.next_cursor) {
    // The next page is the same query continued: the same filters and order, with the cursor.
    const same = FILTERS.flatMap((k) => (opts[k] ? [`--${k}`, opts[k]!] : []));
    if (opts.sort === 'started_at') same.push('--sort', 'started_at');
    ctx.io.stderr(`More: ${commandLine(['agentv', 'runs', 'list', '--limit', String(limit), ...same, '--cursor', page.next_cursor])}\n`);
  }
  return { exitCode: 0 };
}
