// Facts about the source repository recorded with a run: HEAD and dirtiness.
import { runGit } from './exec.js';

export async function sourceState({ cwd }: { cwd: string }): Promise<{ commit: string | null; dirty: boolean }> {
  const [head, status] = await Promise.all([
    runGit({ cwd, args: ['rev-parse', '--verify', '--quiet', 'HEAD'], allowFail: true }),
    runGit({ cwd, args: ['status', '--porcelain', '--untracked-files=no'], allowFail: true }),
  ]);
  return {
    commit: head.code === 0 ? head.stdout.trim() : null,
    dirty: status.code === 0 && status.stdout.trim().length > 0,
  };
}

/** The configured identity for commits on the results ref, or agentv's own. */
export async function commitIdentity({ cwd }: { cwd: string }): Promise<{ name: string; email: string }> {
  const r = await runGit({ cwd, args: ['config', '--get-regexp', '^user\\.(name|email)$'], allowFail: true });
  let name = 'agentv';
  let email = 'agentv@localhost';
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(' ');
    if (i < 0) continue;
    const k = line.slice(0, i);
    const v = line.slice(i + 1).trim();
    if (k === 'user.name' && v) name = v;
    if (k === 'user.email' && v) email = v;
  }
  return { name, email };
}

/** Files git would show (tracked, plus untracked not ignored) matching the pathspecs. */
export async function listFiles({ cwd, pathspecs }: { cwd: string; pathspecs: string[] }): Promise<string[]> {
  const r = await runGit({ cwd, args: ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', ...pathspecs], allowFail: true });
  return r.code === 0 ? [...new Set(r.stdout.split('\0').filter(Boolean))] : [];
}

/** The URL of a remote, or null. */
export async function remoteUrl({ cwd, remote }: { cwd: string; remote: string }): Promise<string | null> {
  const r = await runGit({ cwd, args: ['remote', 'get-url', remote], allowFail: true });
  return r.code === 0 ? r.stdout.trim() : null;
}

/** The default remote: `origin`, else the only one; null when there is none. */
export async function defaultRemote({ cwd }: { cwd: string }): Promise<string | null> {
  const r = await runGit({ cwd, args: ['remote'], allowFail: true });
  const names = r.stdout.split('\n').filter(Boolean);
  return names.includes('origin') ? 'origin' : names.length === 1 ? names[0]! : null;
}
