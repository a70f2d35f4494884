// `agentv results ...`: maintenance and sharing of the results ref: reindex,
// push / pull / sync with a remote, promote to a results repository, link a
// run to its source commit. Progress on stderr, --json documents on stdout.
import { AgentvError } from '../../src/errors.js';
import { RunId } from '../../src/schemas/common.js';
import {
  chooseRemote,
  linkRun,
  promoteResults,
  pullRuns,
  pushRuns,
  reindex,
} from '../../src/store/index.js';
import { LinkResult, PromoteResult, PullResult, PushResult, SyncResult } from '../../src/schemas/results.js';
import type { CommandContext, CommandResult } from '../context.js';

export async function resultsReindex(ctx: CommandContext, opts: { check?: boolean; json?: boolean }): Promise<CommandResult> {
  const store = await ctx.openStore();
  const report = await reindex({ store, check: opts.check });
  const { broken, damaged, damage: _damage, ...doc } = report;
  for (const b of broken) ctx.io.stderr(`warning: run ${b.run_id} skipped: ${b.reason}\n`);
  if (damaged) ctx.io.stderr(`warning: ${damaged} damaged index line(s)\n`);
  const calls = doc.call_index ?? { entries: 0, drift: [] };
  if (opts.json) return { exitCode: opts.check && (doc.drift.length || damaged || calls.drift.length) ? 1 : 0, json: doc };
  if (opts.check) {
    if (doc.drift.length === 0 && !damaged && calls.drift.length === 0) {
      ctx.io.stderr(`index ok: ${doc.runs} runs, ${calls.entries} call keys, no drift\n`);
      return { exitCode: 0 };
    }
    for (const d of doc.drift.slice(0, 50)) ctx.io.stderr(`drift: ${d.kind} ${d.run_id}\n`);
    if (doc.drift.length > 50) ctx.io.stderr(`... and ${doc.drift.length - 50} more\n`);
    if (doc.drift.length) ctx.io.stderr(`index drift in ${doc.drift.length} run(s); fix with: agentv results reindex\n`);
    for (const d of calls.drift.slice(0, 20)) ctx.io.stderr(`call index drift: ${d.kind} ${d.call_key}\n`);
    if (calls.drift.length > 20) ctx.io.stderr(`... and ${calls.drift.length - 20} more\n`);
    if (calls.drift.length) ctx.io.stderr(`call index drift in ${calls.drift.length} call key(s); fix with: agentv results reindex\n`);
    return { exitCode: 1 };
  }
  const fixed = doc.drift.length + calls.drift.length;
  ctx.io.stderr(
    doc.rewritten
      ? `index rebuilt: ${doc.runs} runs, ${calls.entries} call keys (${fixed} fixed)\n`
      : `index already matches ${doc.runs} runs and ${calls.entries} call keys\n`,
  );
  return { exitCode: 0 };
}

interface RemoteOptions {
  remote?: string;
  json?: boolean;
  pushTimeout?: string;
}

/** `--push-timeout`: seconds, or a number with s, m or h. */
export function parsePushTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$/i.exec(value);
  if (!m || Number(m[1]) <= 0) throw new AgentvError('USAGE', `--push-timeout takes a duration such as 90s, 10m or 1h (got ${JSON.stringify(value)})`);
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's').toLowerCase() as 's' | 'm' | 'h'];
}

const short = (oid: string | null) => (oid ? oid.slice(0, 7) : '-');

function describePull(r: PullResult): string {
  switch (r.result) {
    case 'no_remote_runs':
      return `${r.remote} has no runs yet`;
    case 'up_to_date':
      return `already up to date with ${r.remote}`;
    case 'fast_forward':
      return `pulled ${r.new_runs} new run(s) from ${r.remote} (fast-forward to ${short(r.commit)})${r.partial ? '; rows are fetched when a run is opened' : ''}`;
    case 'merged':
      return `merged ${r.new_runs} new run(s) from ${r.remote}${r.incoming ? ` (with ${r.incoming} incoming ref(s))` : ''} (${short(r.commit)})${r.conflicts.length ? `; ${r.conflicts.length} run(s) present on both sides kept their newer state` : ''}`;
  }
}

function describePush(r: PushResult): string {
  if (r.result === 'nothing_to_push') return 'no runs to push yet';
  if (r.result === 'up_to_date') return `${r.remote} is up to date (${short(r.commit)})`;
  const merged = r.merges ? ` after merging with runs pushed meanwhile` : '';
  const folded = r.folded ? `; folded ${r.folded} incoming ref(s) of other machines` : '';
  if (r.landed === 'incoming') {
    return `pushed runs to ${r.remote} as ${r.incoming_ref} (${short(r.commit)}): another machine pushed at the same moment; the next pull or push folds them into refs/agentv/runs/v1`;
  }
  return `pushed runs to ${r.remote} (${short(r.commit)})${merged}${folded}`;
}

const onRetry = (ctx: CommandContext) => (attempt: number, why: string) =>
  ctx.io.stderr(`push did not land (${why}): fetching, merging and pushing again (attempt ${attempt + 1})\n`);

export async function resultsPull(ctx: CommandContext, opts: RemoteOptions): Promise<CommandResult> {
  const store = await ctx.openStore();
  const remote = await chooseRemote({ store, remote: opts.remote });
  const r = await pullRuns({ store, remote });
  ctx.io.stderr(`${describePull(r)}\n`);
  return { exitCode: 0, json: opts.json ? PullResult.parse(r) : undefined };
}

export async function resultsPush(ctx: CommandContext, opts: RemoteOptions): Promise<CommandResult> {
  const timeoutMs = parsePushTimeout(opts.pushTimeout);
  const store = await ctx.openStore();
  const remote = await chooseRemote({ store, remote: opts.remote });
  const r = await pushRuns({ store, remote, timeoutMs, onRetry: onRetry(ctx) });
  ctx.io.stderr(`${describePush(r)}\n`);
  return { exitCode: 0, json: opts.json ? PushResult.parse(r) : undefined };
}

export async function resultsSync(ctx: CommandContext, opts: RemoteOptions): Promise<CommandResult> {
  const timeoutMs = parsePushTimeout(opts.pushTimeout);
  const store = await ctx.openStore();
  const remote = await chooseRemote({ store, remote: opts.remote });
  const pull = await pullRuns({ store, remote });
  ctx.io.stderr(`${describePull(pull)}\n`);
  const push = await pushRuns({ store, remote, timeoutMs, onRetry: onRetry(ctx) });
  ctx.io.stderr(`${describePush(push)}\n`);
  return { exitCode: 0, json: opts.json ? SyncResult.parse({ remote, pull, push }) : undefined };
}

export async function resultsPromote(ctx: CommandContext, opts: { to: string; json?: boolean }): Promise<CommandResult> {
  if (!opts.to.trim()) throw new AgentvError('USAGE', '--to needs a URL or a path');
  const store = await ctx.openStore();
  const r = await promoteResults({ store, to: opts.to, cwd: ctx.cwd, onRetry: onRetry(ctx) });
  ctx.io.stderr(
    `${r.push.result === 'nothing_to_push' ? 'no runs to copy yet' : `copied every run to ${r.to}`}\n` +
      `future runs go to ${r.config_value} (results.repo in .agentv/config.yaml; commit that file to share the setting)\n`,
  );
  return { exitCode: 0, json: opts.json ? PromoteResult.parse(r) : undefined };
}

export async function resultsLink(ctx: CommandContext, runId: string, opts: { commit?: string; json?: boolean }): Promise<CommandResult> {
  if (!RunId.safeParse(runId).success) throw new AgentvError('USAGE', `invalid run id: ${JSON.stringify(runId)}`);
  const store = await ctx.openStore();
  const r = await linkRun({ store, runId, rev: opts.commit });
  const msg = {
    trailer: `amended ${short(r.commit)} (unpublished HEAD) with the trailer Agentv-Run: ${runId}; HEAD is now ${short(r.new_commit)}`,
    note: `added the note "Agentv-Run: ${runId}" to ${short(r.commit)} (refs/notes/agentv; share it with: git push <remote> refs/notes/agentv)`,
    already_linked: `${short(r.commit)} already links run ${runId}`,
  }[r.mode];
  ctx.io.stderr(`${msg}\n`);
  return { exitCode: 0, json: opts.json ? LinkResult.parse(r) : undefined };
}
