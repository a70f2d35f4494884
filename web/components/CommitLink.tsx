// A source commit as a short sha, linked to the remote's web page when the host is known.
import { config, useSignal } from '../state.js';
import { commitHref, shortSha } from '../format.js';

export function CommitLink({ sha, dirty }: { sha: string | null; dirty?: boolean }) {
  const cfg = useSignal(config);
  if (!sha) return <span class="muted">—</span>;
  const href = commitHref(cfg?.commit_url, sha);
  const text = shortSha(sha) + (dirty ? ' (dirty)' : '');
  return href ? (
    <a class="mono" href={href} target="_blank" rel="noopener noreferrer" title={sha}>
      {text}
    </a>
  ) : (
    <span class="mono" title={sha}>
      {text}
    </span>
  );
}
