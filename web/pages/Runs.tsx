// Runs list: newest first, paged by the server's opaque cursor (infinite scroll with a
// "Load more" fallback), filters mirrored in the URL query, a pass-rate trend per suite.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { RunSummary } from '../../src/schemas/summary.js';
import type { SuitesResponse } from '../../src/schemas/studio.js';
import { api, errorMessage } from '../api.js';
import { config, navigate, useSignal } from '../state.js';
import type { PageProps } from '../routes.js';
import { duration, parseTime, percent, span } from '../format.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { PassBar } from '../components/PassBar.js';
import { CommitLink } from '../components/CommitLink.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { Time } from '../components/Time.js';
import { TrendChart } from '../components/TrendChart.js';

const STATUSES = ['running', 'completed', 'stopped', 'interrupted', 'failed'];
const PAGE = 50;

interface ListState {
  gen: number;
  runs: RunSummary[];
  cursor: string | null;
  done: boolean;
  loading: boolean;
  error: string | null;
}

const fresh = (gen: number): ListState => ({ gen, runs: [], cursor: null, done: false, loading: false, error: null });

export function Runs({ query }: PageProps) {
  const cfg = useSignal(config);
  const filter = { suite: query.get('suite') ?? '', target: query.get('target') ?? '', status: query.get('status') ?? '' };
  const key = `${filter.suite}\n${filter.target}\n${filter.status}`;

  // The list lives in a ref so the observer callback always sees the latest page state.
  const list = useRef<ListState>(fresh(0));
  const [, rerender] = useState(0);
  const bump = () => rerender((n) => n + 1);
  const sentinel = useRef<HTMLTableRowElement>(null);
  const [options, setOptions] = useState<SuitesResponse | null>(null);
  const [sync, setSync] = useState<{ busy: boolean; message: string | null; error: string | null }>({ busy: false, message: null, error: null });

  const load = useCallback(
    (manual = false) => {
      const s = list.current;
      if (s.loading || s.done || (s.error && !manual)) return;
      s.loading = true;
      s.error = null;
      bump();
      api
        .runs({ ...filter, limit: PAGE, cursor: s.cursor })
        .then((res) => {
          if (s !== list.current) return;
          const seen = new Set(s.runs.map((r) => r.run_id));
          s.runs = s.runs.concat(res.runs.filter((r) => !seen.has(r.run_id)));
          s.cursor = res.next_cursor;
          s.done = res.next_cursor === null;
        })
        .catch((e) => {
          if (s === list.current) s.error = errorMessage(e);
        })
        .finally(() => {
          if (s !== list.current) return;
          s.loading = false;
          bump();
        });
    },
    [key],
  );

  const reset = useCallback(() => {
    list.current = fresh(list.current.gen + 1);
    load();
  }, [load]);

  useEffect(reset, [reset]);

  useEffect(() => {
    document.title = 'Runs · agentv Studio';
    api.suites().then(setOptions, () => setOptions(null));
  }, []);

  const s = list.current;
  // Re-observe after every page: a fresh observer reports the sentinel at once if it
  // is still on screen, which keeps loading until the viewport is full.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || s.done || s.loading || s.error || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && load(), { rootMargin: '300px' });
    io.observe(el);
    return () => io.disconnect();
  }, [load, s.gen, s.runs.length, s.loading, s.done, s.error]);

  const setFilter = (name: 'suite' | 'target' | 'status', value: string) => {
    const q = new URLSearchParams(query);
    if (value) q.set(name, value);
    else q.delete(name);
    const qs = q.toString();
    navigate(qs ? `/?${qs}` : '/');
  };

  const onSync = () => {
    setSync({ busy: true, message: null, error: null });
    api.sync().then(
      (r) => {
        setSync({ busy: false, message: r.message, error: null });
        reset();
      },
      (e) => setSync({ busy: false, message: null, error: errorMessage(e) }),
    );
  };

  const uniq = (xs: string[]) => [...new Set(xs.filter(Boolean))].sort((a, b) => a.localeCompare(b));
  const suiteNames = uniq([...(options?.suites.map((x) => x.name) ?? []), ...s.runs.map((r) => r.suite), filter.suite]);
  const targetNames = uniq([...(options?.targets.map((x) => x.name) ?? []), ...s.runs.map((r) => r.target), filter.target]);
  const filtered = Boolean(filter.suite || filter.target || filter.status);

  return (
    <section>
      <div class="page-head">
        <h1>Runs</h1>
        <div class="actions">
          {cfg?.remote && (
            <button type="button" class="btn" onClick={onSync} disabled={sync.busy} data-testid="sync-button" title={`Fetch runs from ${cfg.remote}`}>
              {sync.busy ? 'Syncing…' : 'Sync'}
            </button>
          )}
        </div>
      </div>
      {sync.message && <p class="notice">{sync.message}</p>}
      <ErrorBox message={sync.error} />

      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter runs">
        <Select label="Suite" testid="filter-suite" value={filter.suite} options={suiteNames} onChange={(v) => setFilter('suite', v)} />
        <Select label="Target" testid="filter-target" value={filter.target} options={targetNames} onChange={(v) => setFilter('target', v)} />
        <Select label="Status" testid="filter-status" value={filter.status} options={STATUSES} onChange={(v) => setFilter('status', v)} />
        {filtered && (
          <a class="clear" href="/">
            Clear filters
          </a>
        )}
      </form>

      {s.runs.length > 0 && <TrendChart runs={s.runs} />}

      <div class="table-wrap">
        <table class="table" data-testid="runs-table">
          <thead>
            <tr>
              <th>Run</th>
              <th>Status</th>
              <th>Pass rate</th>
              <th class="num">Passed</th>
              <th>Suite</th>
              <th>Target</th>
              <th>Commit</th>
              <th>Created</th>
              <th class="num">Duration</th>
            </tr>
          </thead>
          <tbody>
            {s.runs.map((r) => (
              <RunRow key={r.run_id} run={r} />
            ))}
            {!s.done && (
              <tr ref={sentinel} class="sentinel" aria-hidden="true">
                <td colSpan={9}>{s.loading ? 'Loading…' : ''}</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {s.done && s.runs.length === 0 && (
        <p class="empty">
          {filtered ? 'No runs match these filters.' : 'No runs yet. Start one with `agentv eval <suite>` or the New run button.'}
        </p>
      )}
      <ErrorBox message={s.error} />
      {!s.done && !s.loading && (
        <p class="center">
          <button type="button" class="btn" data-testid="load-more" onClick={() => load(true)}>
            {s.error ? 'Retry' : 'Load more'}
          </button>
        </p>
      )}
      {s.done && s.runs.length > 0 && <p class="center muted">{s.runs.length} runs</p>}
    </section>
  );
}

function RunRow({ run: r }: { run: RunSummary }) {
  const total = r.planned_test_count;
  const end = r.finished_at ?? null;
  const started = parseTime(r.started_at);
  const dur = end ? span(r.started_at, end) : r.status === 'running' && started !== null ? duration(Date.now() - started) : '—';
  return (
    <tr data-testid="run-row" data-run-id={r.run_id}>
      <td>
        <a class="mono" href={`/runs/${encodeURIComponent(r.run_id)}`}>
          {r.run_id}
        </a>
      </td>
      <td>
        <StatusBadge status={r.status} />
      </td>
      <td class="rate">
        <PassBar passed={r.passed} failed={r.failed} errored={r.errored} total={total} />
        <span class="rate-text">{percent(r.pass_rate)}</span>
      </td>
      <td class="num">
        {r.passed}/{total}
      </td>
      <td>{r.suite}</td>
      <td>{r.target}</td>
      <td>
        <CommitLink sha={r.source_commit} />
      </td>
      <td>
        <Time iso={r.started_at} />
      </td>
      <td class="num">{dur}</td>
    </tr>
  );
}

interface SelectProps {
  label: string;
  testid: string;
  value: string;
  options: string[];
  onChange: (value: string) => void;
}

function Select({ label, testid, value, options, onChange }: SelectProps) {
  return (
    <label>
      <span>{label}</span>
      <select data-testid={testid} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">All</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}
