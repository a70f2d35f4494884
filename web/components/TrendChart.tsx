// Pass-rate trend per suite and target, from GET /api/trends (the index, not the
// loaded page): an axis from 0 to 100 %, first and last dates, and each point's
// value on hover ("75% · 3 of 4 run passed").
import { useEffect, useState } from 'preact/hooks';
import type { TrendsResponse } from '../../src/schemas/run-results.js';
import { api } from '../api.js';
import { percent, passCounts } from '../format.js';

const W = 240;
const H = 64;
const PAD = { l: 30, r: 6, t: 6, b: 16 };

export function TrendChart({ pairs }: { pairs: { suite: string; target: string }[] }) {
  const [trends, setTrends] = useState<TrendsResponse[]>([]);
  const key = pairs.map((p) => `${p.suite}\u0000${p.target}`).join('\n');
  useEffect(() => {
    let live = true;
    Promise.all(pairs.map((p) => api.trends(p.suite, p.target).catch(() => null))).then((xs) => {
      if (live) setTrends(xs.filter((x): x is TrendsResponse => x !== null && x.points.length > 0));
    });
    return () => {
      live = false;
    };
  }, [key]);
  if (!trends.length) return null;
  return (
    <section class="trends" data-testid="trend-chart" aria-label="Pass-rate trend per suite and target">
      {trends.map((t) => (
        <Trend key={`${t.suite}|${t.target}`} t={t} />
      ))}
    </section>
  );
}

function Trend({ t }: { t: TrendsResponse }) {
  const pts = t.points;
  const x = (i: number) => PAD.l + (pts.length < 2 ? (W - PAD.l - PAD.r) / 2 : (i * (W - PAD.l - PAD.r)) / (pts.length - 1));
  const y = (v: number) => PAD.t + (1 - v) * (H - PAD.t - PAD.b);
  const line = pts.map((p, i) => (p.pass_rate === null ? null : `${x(i)},${y(p.pass_rate)}`)).filter(Boolean).join(' ');
  const latest = pts[pts.length - 1]!;
  return (
    <figure class="trend" data-suite={t.suite}>
      <figcaption>
        <span class="trend-name" title={`${t.suite} · ${t.target}`}>
          {t.suite} <span class="muted">· {t.target}</span>
        </span>
        <span class="trend-latest">{percent(latest.pass_rate)}</span>
      </figcaption>
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`pass rate of the last ${pts.length} runs`}>
        {[0, 0.5, 1].map((v) => (
          <g key={v}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} stroke="var(--line)" stroke-width="1" />
            <text x={PAD.l - 4} y={y(v) + 3} text-anchor="end" font-size="9" fill="var(--muted)">
              {v * 100}%
            </text>
          </g>
        ))}
        <polyline points={line} fill="none" stroke="var(--accent)" stroke-width="1.5" />
        {pts.map((p, i) =>
          p.pass_rate === null ? null : (
            <circle key={p.run_id} cx={x(i)} cy={y(p.pass_rate)} r="3" fill="var(--accent)">
              <title>{`${p.run_id}\n${percent(p.pass_rate)} · ${passCounts(p.passed, p.completed_count, p.completed_count)}\n${p.started_at.slice(0, 16).replace('T', ' ')}`}</title>
            </circle>
          ),
        )}
        <text x={PAD.l} y={H - 3} font-size="9" fill="var(--muted)">
          {pts[0]!.started_at.slice(0, 10)}
        </text>
        <text x={W - PAD.r} y={H - 3} font-size="9" fill="var(--muted)" text-anchor="end">
          {latest.started_at.slice(0, 10)}
        </text>
      </svg>
    </figure>
  );
}
