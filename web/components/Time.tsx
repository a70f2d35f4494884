// Relative time with the absolute local time in the tooltip.
import { absoluteTime, relativeTime } from '../format.js';

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={absoluteTime(iso)}>
      {relativeTime(iso)}
    </time>
  );
}
