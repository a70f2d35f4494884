// One sparkline per suite of the pass rates of that suite's loaded runs, oldest → newest.
import type { RunSummary } from '../../src/schemas/summary.js';
import { percent } from '../format.js';
import { Sparkline } from './Sparkline.js';

const MAX_SUITES = 12;

export function TrendChart({ runs }: { runs: RunSummary[] }) {
  // `runs` is newest first, so insertion order of the map is "most recently run suite first".
  const bySuite = new Map<string, (number | null)[]>();
  for (const r of runs) {
    const xs = bySuite.get(r.suite) ?? [];
    xs.push(r.pass_rate);
    bySuite.set(r.suite, xs);
  }
  const suites = [...bySuite.entries()].slice(0, MAX_SUITES);
  const hidden = bySuite.size - suites.length;
  return (
    <section class="trends" data-testid="trend-chart" aria-label="Pass-rate trend per suite">
      {suites.map(([suite, newestFirst]) => {
        const values = [...newestFirst].reverse();
        const latest = newestFirst.find((v) => v !== null) ?? null;
        return (
          <figure class="trend" key={suite} data-suite={suite}>
            <figcaption>
              <span class="trend-name" title={suite}>
                {suite}
              </span>
              <span class="trend-latest">{percent(latest)}</span>
            </figcaption>
            <Sparkline values={values} label={`${suite}: pass rate over ${values.length} loaded runs, latest ${percent(latest)}`} />
          </figure>
        );
      })}
      {hidden > 0 && <p class="muted trend-more">+{hidden} more suites (filter by suite to see one)</p>}
    </section>
  );
}
