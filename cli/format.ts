// Human-readable formatting shared by commands: tables, durations, ratios.

/**
 * Columns padded to their widest cell. `paint` colours a body cell after it is
 * padded, so escape codes never count toward a column's width.
 */
export function table(headers: string[], rows: string[][], paint?: (cell: string, col: number, row: number) => string): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[], row = -1) =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c : c.padEnd(widths[i]!);
        return paint && row >= 0 ? paint(c, i, row) + padded.slice(c.length) : padded;
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map((r, i) => line(r, i))].join('\n') + '\n';
}

export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}


export function percent(x: number | null): string {
  return x === null ? '-' : `${Math.round(x * 100)}%`;
}

export function shortTime(iso: string): string {
  return iso.replace('T', ' ').slice(0, 19);
}
