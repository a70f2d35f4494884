// Walking the source history for baselines (SPEC 3.8): a revision and its
// first-parent ancestors, nearest first.
import { AgentvError } from '../errors.js';
import { runGit } from './exec.js';

/**
 * REV resolved to a commit, then up to `max` first-parent ancestors, nearest
 * first (the commit itself at index 0). null when REV does not resolve.
 * @example await firstParentAncestors({ cwd, rev: 'origin/main', max: 1000 })
 */
export async function firstParentAncestors({ cwd, rev, max = 1000 }: { cwd: string; rev: string; max?: number }): Promise<string[] | null> {
  // A leading dash would be read by git as an option.
  if (rev.startsWith('-') || rev.length === 0) throw new AgentvError('USAGE', `not a revision: ${JSON.stringify(rev)}`);
  const head = await runGit({ cwd, args: ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], allowFail: true });
  if (head.code !== 0) return null;
  const commit = head.stdout.trim();
  const r = await runGit({ cwd, args: ['rev-list', '--first-parent', `--max-count=${max + 1}`, commit], allowFail: true });
  // A shallow clone ends early: what is there is searched.
  const list = r.code === 0 ? r.stdout.split('\n').filter(Boolean) : [];
  return list.length ? list : [commit];
}
