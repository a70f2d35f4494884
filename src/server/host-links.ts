// Web links to a source commit when the remote is a host we know the URL
// scheme of (GitHub, GitLab, Bitbucket, Codeberg/Gitea): `{sha}` is the placeholder.
const HOSTS: Record<string, string> = {
  'github.com': 'https://github.com/{path}/commit/{sha}',
  'gitlab.com': 'https://gitlab.com/{path}/-/commit/{sha}',
  'bitbucket.org': 'https://bitbucket.org/{path}/commits/{sha}',
  'codeberg.org': 'https://codeberg.org/{path}/commit/{sha}',
};

/** `git@github.com:o/r.git`, `https://github.com/o/r`, `ssh://git@github.com/o/r.git` → a commit URL pattern. */
export function commitUrlPattern(remoteUrl: string | null): string | null {
  if (!remoteUrl) return null;
  let host: string;
  let p: string;
  const scp = /^[\w.-]+@([\w.-]+):(.+)$/.exec(remoteUrl);
  if (scp) {
    host = scp[1]!;
    p = scp[2]!;
  } else {
    try {
      const u = new URL(remoteUrl);
      host = u.hostname;
      p = u.pathname.replace(/^\//, '');
    } catch {
      return null;
    }
  }
  const pattern = HOSTS[host.toLowerCase()];
  if (!pattern) return null;
  p = p.replace(/\.git$/, '').replace(/\/$/, '');
  if (!/^[\w.-]+(\/[\w.-]+)+$/.test(p)) return null;
  return pattern.replace('{path}', p);
}
