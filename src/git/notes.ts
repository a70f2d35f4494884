// Annotating source commits with `Agentv-Run: <id>`: as a trailer by amending
// an unpublished HEAD, or as a note on refs/notes/agentv. The amend is done
// with plumbing (commit-tree + update-ref CAS on HEAD), so the index and the
// work tree are never read or written: staged changes stay staged.
import { AgentvError } from '../errors.js';
import { runGit } from './exec.js';

export const NOTES_REF = 'refs/notes/agentv';

/** The note on `commit`, or null when it has none. */
export async function readNote({ cwd, commit, notesRef = NOTES_REF }: { cwd: string; commit: string; notesRef?: string }): Promise<string | null> {
  const r = await runGit({ cwd, args: ['notes', `--ref=${notesRef}`, 'show', commit], allowFail: true });
  return r.code === 0 ? r.stdout : null;
}

/** Append a paragraph to the note on `commit` (creating it). */
export async function appendNote({ cwd, commit, text, notesRef = NOTES_REF }: { cwd: string; commit: string; text: string; notesRef?: string }): Promise<void> {
  await runGit({ cwd, args: ['notes', `--ref=${notesRef}`, 'append', '-m', text, commit] });
}

/** Values of the trailer `key` in `commit`'s message. */
export async function trailerValues({ cwd, commit, key }: { cwd: string; commit: string; key: string }): Promise<string[]> {
  const r = await runGit({ cwd, args: ['log', '-1', `--format=%(trailers:key=${key},valueonly)`, commit], allowFail: true });
  return r.code === 0 ? r.stdout.split('\n').map((l) => l.trim()).filter(Boolean) : [];
}

/** Whether any remote-tracking branch contains `commit` (it has been published). */
export async function onRemoteBranch({ cwd, commit }: { cwd: string; commit: string }): Promise<boolean> {
  const r = await runGit({ cwd, args: ['branch', '-r', '--contains', commit, '--format=%(refname)'] });
  return r.stdout.trim().length > 0;
}

/**
 * Rewrite HEAD (which must be `expected`) with `Key: value` added to its
 * message, same tree, parents and author; the committer is the current user,
 * as with `git commit --amend`. Returns the new commit.
 * @example const sha = await amendHeadTrailer({ cwd, expected: head, trailer: 'Agentv-Run: r1' })
 */
export async function amendHeadTrailer({ cwd, expected, trailer }: { cwd: string; expected: string; trailer: string }): Promise<string> {
  const show = await runGit({ cwd, args: ['show', '-s', '--date=raw', '--format=%T%x00%P%x00%an%x00%ae%x00%ad%x00%B', expected] });
  const [tree, parents, name, email, date, ...rest] = show.stdout.split('\0');
  const message = rest.join('\0').replace(/\n$/, '');
  const withTrailer = await runGit({
    cwd,
    args: ['interpret-trailers', '--if-exists', 'addIfDifferent', '--trailer', trailer],
    input: `${message}\n`,
  });
  const parentArgs = (parents ?? '').split(' ').filter(Boolean).flatMap((p) => ['-p', p]);
  const created = await runGit({
    cwd,
    args: ['commit-tree', tree!, ...parentArgs, '-F', '-'],
    input: withTrailer.stdout,
    env: { GIT_AUTHOR_NAME: name!, GIT_AUTHOR_EMAIL: email!, GIT_AUTHOR_DATE: date! },
  });
  const amended = created.stdout.trim();
  // HEAD moves only if it is still the commit we read: a concurrent commit wins.
  const moved = await runGit({ cwd, args: ['update-ref', '-m', `agentv: link (${trailer})`, 'HEAD', amended, expected], allowFail: true });
  if (moved.code !== 0) throw new AgentvError('GIT', `HEAD moved while linking; run the command again (${moved.stderr.trim()})`, { expected });
  return amended;
}
