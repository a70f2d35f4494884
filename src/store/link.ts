// Source links (SPEC 3.7): `Agentv-Run: <id>` on the commit a run measured.
// An unpublished HEAD gets it as a trailer (amended, same tree); anything
// already on a remote gets a note on refs/notes/agentv instead, so published
// history is never rewritten. Both live in the source repository, which is
// not the store's repository once results are promoted.
import { AgentvError } from '../errors.js';
import { amendHeadTrailer, appendNote, onRemoteBranch, readNote, readRef, trailerValues } from '../git/index.js';
import type { LinkResult } from '../schemas/results.js';
import type { RunSummary } from '../schemas/summary.js';
import { sourceRootOf } from './config.js';
import { readManifestAt } from './runs.js';
import type { Store } from './store.js';

const KEY = 'Agentv-Run';

/** The `results link --json` document (src/schemas/results.ts). */
export type { LinkResult };

async function resolveCommit(cwd: string, rev: string): Promise<string | null> {
  // A leading dash would be read by git as an option.
  if (rev.startsWith('-')) throw new AgentvError('USAGE', `not a revision: ${JSON.stringify(rev)}`);
  return readRef({ cwd, ref: rev });
}

/** Run ids linked to `commit` by trailers in its message or by its agentv note. */
export async function linkedRunIds({ cwd, commit }: { cwd: string; commit: string }): Promise<Set<string>> {
  const ids = new Set(await trailerValues({ cwd, commit, key: KEY }));
  const note = await readNote({ cwd, commit });
  for (const m of (note ?? '').matchAll(/^Agentv-Run:\s*(\S+)\s*$/gm)) ids.add(m[1]!);
  return ids;
}

/**
 * Attach `Agentv-Run: <runId>` to the run's source commit (or `rev`).
 * @example await linkRun({ store, runId: '20261122-101500-k3f9qa' })
 */
export async function linkRun({ store, runId, rev }: { store: Store; runId: string; rev?: string }): Promise<LinkResult> {
  const tip = await store.tip();
  const manifest = tip ? await readManifestAt(store, tip.tree, runId) : null;
  if (!manifest) throw new AgentvError('RUN_NOT_FOUND', `run ${runId} not found`, { run_id: runId });
  const cwd = sourceRootOf(store);
  const wanted = rev ?? manifest.source_commit;
  if (!wanted) throw new AgentvError('USAGE', `run ${runId} recorded no source commit; name one with --commit REV`, { run_id: runId });
  const commit = await resolveCommit(cwd, wanted);
  if (!commit) throw new AgentvError('USAGE', `${wanted} is not a commit in ${cwd}`, { run_id: runId, rev: wanted });
  if ((await linkedRunIds({ cwd, commit })).has(runId)) return { run_id: runId, commit, mode: 'already_linked', new_commit: null };
  const trailer = `${KEY}: ${runId}`;
  const head = await readRef({ cwd, ref: 'HEAD' });
  if (commit === head && !(await onRemoteBranch({ cwd, commit }))) {
    const amended = await amendHeadTrailer({ cwd, expected: commit, trailer });
    return { run_id: runId, commit, mode: 'trailer', new_commit: amended };
  }
  await appendNote({ cwd, commit, text: trailer });
  return { run_id: runId, commit, mode: 'note', new_commit: null };
}

/**
 * The `runs list --commit REV` test: the recorded source commit starts with
 * REV (a sha prefix, even of a commit this clone lacks), or REV resolves to a
 * commit that is the source commit or links the run by trailer or note.
 */
export async function commitFilter({ store, rev }: { store: Store; rev: string }): Promise<(s: RunSummary) => boolean> {
  const cwd = sourceRootOf(store);
  const commit = await resolveCommit(cwd, rev);
  const ids = commit ? await linkedRunIds({ cwd, commit }) : new Set<string>();
  return (s) => (s.source_commit ?? '').startsWith(rev) || (commit !== null && s.source_commit === commit) || ids.has(s.run_id);
}
