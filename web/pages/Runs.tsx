// Runs list: newest first, paged by the server's opaque cursor and windowed (only
// the rows near the viewport are in the DOM, however deep the scroll), with the
// total from the index, live updates of the newest page, filters in the URL, and
// a pass-rate trend per suite and target from GET /api/trends.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useWindowVirtualizer } from '../virtual.js';
import type { RunSummary } from '../../src/schemas/summary.js';
import type { SuitesResponse } from '../../src/schemas/studio.js';
import { api, errorMessage } from '../api.js';
import { config, isReadOnly, navigate, useSignal } from '../state.js';
import type { PageProps } from '../routes.js';
import { duration, passCounts, percent, summaryDurationMs } from '../format.js';
import { RunBadge } from '../components/StatusBadge.js';
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
  total: number | null;
}

const fresh = (gen: number): ListState => ({ gen, runs: [], cursor: null, done: false, loading: false, error: null, total: null });
const LIVE_MS = 4000;
const phone = () => typeof matchMedia !== 'undefined' && matchMedia('(max-width: 720px)').matches;

export function Runs({ query }: PageProps) {
  const cfg = useSignal(config);
  const filter = { suite: query.get('suite') ?? '', target: query.get('target') ?? '', status: query.get('status') ?? '' };
  // Newest first, or oldest first with ?sort=started_at (both flat at any depth: the index is kept in start order).
  const oldestFirst = query.get('sort') === 'started_at';
  const key = `${filter.suite}\n${filter.target}\n${filter.status}\n${oldestFirst}`;

  // The list lives in a ref so the observer callback always sees the latest page state.
  const list = useRef<ListState>(fresh(0));
  const [, rerender] = useState(0);
  const bump = () => rerender((n) => n + 1);
  const listRef = useRef<HTMLDivElement>(null);
  const [rowSize, setRowSize] = useState(phone() ? 132 : 44);
  const [options, setOptions] = useState<SuitesResponse | null>(null);
  // Two runs picked with their checkboxes open the Compare page (older as base).
  const [picked, setPicked] = useState<RunSummary[]>([]);
  const togglePick = (r: RunSummary) =>
    setPicked((p) => (p.some((x) => x.run_id === r.run_id) ? p.filter((x) => x.run_id !== r.run_id) : [...p, r].slice(-2)));
  const [sync, setSync] = useState<{ busy: boolean; message: string | null; error: string | null }>({ busy: false, message: null, error: null });

  const load = useCallback(
    (manual = false) => {
      const s = list.current;
      if (s.loading || s.done || (s.error && !manual)) return;
      s.loading = true;
      s.error = null;
      bump();
      api
        .runs({ ...filter, sort: oldestFirst ? 'started_at' : '', limit: PAGE, cursor: s.cursor })
        .then((res) => {
          if (s !== list.current) return;
          const seen = new Set(s.runs.map((r) => r.run_id));
          s.runs = s.runs.concat(res.runs.filter((r) => !seen.has(r.run_id)));
          s.cursor = res.next_cursor;
          s.done = res.next_cursor === null;
          if (res.total !== undefined && (res.total !== null || s.total === null)) s.total = res.total ?? null;
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
  const v = useWindowVirtualizer({ count: s.runs.length, size: rowSize, listRef });
  const items = v.getVirtualItems();
  const lastShown = items.length ? items[items.length - 1]!.index : -1;
  // Near the end of what is loaded: fetch the next page.
  useEffect(() => {
    if (!s.done && !s.loading && !s.error && lastShown >= s.runs.length - 15) load();
  }, [lastShown, s.runs.length, s.loading, s.done, s.error, s.gen]);

  useEffect(() => {
    const mq = typeof matchMedia !== 'undefined' ? matchMedia('(max-width: 720px)') : null;
    const on = () => setRowSize(mq?.matches ? 132 : 44);
    mq?.addEventListener('change', on);
    return () => mq?.removeEventListener('change', on);
  }, []);

  // Live: the newest page is re-read every few seconds; running runs update in place, new runs appear on top
  // (oldest first: at the end, once the list is loaded to its end).
  useEffect(() => {
    const timer = setInterval(() => {
      const cur = list.current;
      // Oldest first and not loaded to the end: the newest page holds nothing on screen and nothing to append.
      if (document.hidden || cur.loading || cur.runs.length === 0 || (oldestFirst && !cur.done)) return;
      api.runs({ ...filter, limit: PAGE }).then((res) => {
        if (cur !== list.current) return;
        const fresh = new Map(res.runs.map((r) => [r.run_id, r]));
        const known = new Set(cur.runs.map((r) => r.run_id));
        const newest = oldestFirst ? cur.runs[cur.runs.length - 1]! : cur.runs[0]!;
        const added = res.runs.filter((r) => !known.has(r.run_id) && r.started_at > newest.started_at);
        let changed = added.length > 0;
        const updated = cur.runs.map((r) => {
          const f = fresh.get(r.run_id);
          if (f && (f.status !== r.status || f.passed + f.failed + f.errored !== r.passed + r.failed + r.errored)) {
            changed = true;
            return f;
          }
          return r;
        });
        cur.runs = oldestFirst ? [...updated, ...added.reverse()] : [...added, ...updated];
        if (res.total !== undefined && res.total !== cur.total) {
          cur.total = res.total ?? null;
          changed = true;
        }
        if (changed) bump();
      }, () => undefined);
    }, LIVE_MS);
    return () => clearInterval(timer);
  }, [key]);

  const setFilter = (name: 'suite' | 'target' | 'status' | 'sort', value: string) => {
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
        <label>
          <span>Sort</span>
          <select data-testid="runs-sort" value={oldestFirst ? 'started_at' : ''} onChange={(e) => setFilter('sort', e.currentTarget.value)}>
            <option value="">Newest first</option>
            <option value="started_at">Oldest first</option>
          </select>
        </label>
        {filtered && (
          <a class="clear" href="/">
            Clear filters
          </a>
        )}
      </form>

      {s.runs.length > 0 && <TrendChart pairs={pairsOf(s.runs)} />}

      <p class="total" data-testid="runs-total">
        {s.total !== null ? `${s.total.toLocaleString()} runs` : filtered ? `${s.runs.length}${s.done ? '' : '+'} matching runs` : ''}
        {s.total !== null && s.runs.length < s.total ? ` · ${s.runs.length.toLocaleString()} loaded` : ''}
      </p>
      {picked.length > 0 && (
        <p class="notice" data-testid="compare-bar">
          {picked.length === 1 ? 'Pick one more run to compare with ' : 'Compare '}
          <span class="mono">{picked.map((r) => r.run_id).join(' and ')}</span>{' '}
          {picked.length === 2 && (
            <button
              type="button"
              class="btn btn-primary btn-sm"
              data-testid="compare-selected"
              onClick={() => {
                const [a, b] = [...picked].sort((x, y) => x.started_at.localeCompare(y.started_at));
                navigate(`/compare?base=${encodeURIComponent(a!.run_id)}&head=${encodeURIComponent(b!.run_id)}`);
              }}
            >
              Compare
            </button>
          )}{' '}
          <button type="button" class="btn btn-sm" onClick={() => setPicked([])}>
            Clear
          </button>
        </p>
      )}
      <div class="vlist" data-testid="runs-table" role="table" aria-rowcount={s.total ?? s.runs.length} data-loaded={s.runs.length} data-done={s.done ? "1" : "0"}>
        <div class="vhead" role="row">
          <span>Run</span>
          <span>Status</span>
          <span>Pass rate</span>
          <span>Suite · target</span>
          <span>Commit</span>
          <span>Created</span>
          <span>Duration</span>
          <span>Tests</span>
        </div>
        <div ref={listRef} style={{ position: 'relative', height: `${v.getTotalSize()}px` }}>
          {items.map((it) => (
            <RunRow
              key={s.runs[it.index]!.run_id}
              run={s.runs[it.index]!}
              top={it.start - (v.options.scrollMargin ?? 0)}
              index={it.index}
              picked={picked.some((p) => p.run_id === s.runs[it.index]!.run_id)}
              onPick={togglePick}
              canStop={!isReadOnly(cfg)}
            />
          ))}
        </div>
        {s.loading && <p class="center muted">Loading…</p>}
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
      {s.done && s.runs.length > 0 && <p class="center muted">End of the list: {s.runs.length} runs</p>}
    </section>
  );
}

/** Each suite and target among the newest runs (a few): the trend charts to show. */
function pairsOf(runs: RunSummary[]): { suite: string; target: string }[] {
  const seen = new Map<string, { suite: string; target: string }>();
  for (const r of runs.slice(0, 50)) if (seen.size < 6) seen.set(`${r.suite}\u0000${r.target}`, { suite: r.suite, target: r.target });
  return [...seen.values()];
}

interface RowProps {
  run: RunSummary;
  top: number;
  index: number;
  picked: boolean;
  onPick: (r: RunSummary) => void;
  canStop: boolean;
}

function RunRow({ run: r, top, index, picked, onPick, canStop }: RowProps) {
  const total = r.planned_test_count;
  const completed = r.passed + r.failed + r.errored;
  // Time spent running (active_ms from the index, plus the current span while running): stopped time is not counted.
  const dur = duration(summaryDurationMs(r));
  return (
    <div class="vrow" role="row" aria-rowindex={index + 1} style={{ transform: `translateY(${top}px)` }} data-testid="run-row" data-run-id={r.run_id}>
      <span>
        <input type="checkbox" class="pick" checked={picked} onChange={() => onPick(r)} aria-label={`Pick ${r.run_id} to compare`} data-testid="pick-run" />
        <a class="mono" href={`/runs/${encodeURIComponent(r.run_id)}`}>
          {r.run_id}
        </a>
      </span>
      <span>
        <RunBadge status={r.status} outcome={r.outcome} testid="run-badge" />
      </span>
      <span class="rate">
        <PassBar passed={r.passed} failed={r.failed} errored={r.errored} total={total} />
        <small title={passCounts(r.passed, completed, total)}>
          {percent(r.pass_rate)} · {passCounts(r.passed, completed, total)}
        </small>
      </span>
      <span>
        {r.suite} <span class="muted">· {r.target}</span>
      </span>
      <span>
        <CommitLink sha={r.source_commit} />
      </span>
      <span>
        <Time iso={r.started_at} />
      </span>
      <span>{dur}</span>
      <span class="num">
        {r.status === 'running' ? (
          <>
            {completed}/{total}{' '}
            <a href={`/jobs/${encodeURIComponent(r.run_id)}`} data-testid="row-job-link">
              job
            </a>
            {canStop && <StopButton runId={r.run_id} />}
          </>
        ) : (
          `${completed}/${total}`
        )}
      </span>
    </div>
  );
}

/** Stop a running run from its row (its job is found by the run id, as the run page does); the list's live refresh shows it stopped. */
function StopButton({ runId }: { runId: string }) {
  const [state, setState] = useState<'idle' | 'stopping' | 'error'>('idle');
  return (
    <button
      type="button"
      class="btn btn-sm row-stop"
      data-testid="row-stop-button"
      disabled={state === 'stopping'}
      title={state === 'error' ? 'the stop request failed: open the job to retry' : 'finish the tests in flight, then stop'}
      onClick={() => {
        setState('stopping');
        api.stop(runId).then(
          () => undefined,
          () => setState('error'),
        );
      }}
    >
      {state === 'stopping' ? 'Stopping…' : 'Stop'}
    </button>
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
