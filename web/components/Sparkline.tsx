// Inline SVG line of values in [0, 1], oldest to newest; nulls are skipped.
export interface SparklineProps {
  values: (number | null)[];
  width?: number;
  height?: number;
  label: string;
}

export function Sparkline({ values, width = 160, height = 32, label }: SparklineProps) {
  const pad = 3;
  const n = values.length;
  const x = (i: number) => (n <= 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (n - 1));
  const y = (v: number) => pad + (1 - Math.min(1, Math.max(0, v))) * (height - 2 * pad);
  const pts = values.flatMap((v, i) => (v === null ? [] : [[x(i), y(v)] as const]));
  const last = pts[pts.length - 1];
  return (
    <svg class="spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <title>{label}</title>
      <line class="spark-axis" x1={pad} x2={width - pad} y1={y(1)} y2={y(1)} />
      <line class="spark-axis" x1={pad} x2={width - pad} y1={y(0)} y2={y(0)} />
      {pts.length > 1 && <polyline class="spark-line" points={pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')} />}
      {last && <circle class="spark-dot" cx={last[0]} cy={last[1]} r={2.5} />}
    </svg>
  );
}
