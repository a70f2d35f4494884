// One run: header with actions, aggregates with the counts behind the pass rate,
// events, and its tests paged from the server (filter, search, sort and the open
// test live in the URL). Live while running: the header and first page refresh.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { RunDetailResponse } from '../../src/schemas/api.js';
import type { ResultPreview } from '../../src/schemas/run-results.js';
import type { BaselineResponse } from '../../src/schemas/compare.js';
import { api, errorMessage } from '../api.js';
import { navigate } from '../state.js';
import type { PageProps } from '../routes.js';
import { absoluteTime, activeMs, duration, passCounts, percent, score } from '../format.js';
import { RunBadge, StatusBadge } from '../components/StatusBadge.js';
import { PassBar } from '../components/PassBar.js';
import { CommitLink } from '../components/CommitLink.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { Time } from '../components/Time.js';
import { TestRow } from '../components/TestRow.js';
import { RunActions } from '../components/RunActions.js';

const REASONS: Record<string, string> = {
  execution_errors: 'some tests ended with execution errors',
  incomplete: 'not every planned test has a result',
  interrupted: 'its process died before finishing',
  stopped: 'it was stopped before finishing',
};
const PAGE = 100;
const LIVE_MS = 2000;

interface Page {
  rows: ResultPreview[];
  cursor: string | null;
  total: number;
  loading: boolean;
  error: string | null;
}

export function RunDetail({ params, query }: PageProps) {
  const runId = params.run_id!;
  const view = { status: query.get('status') ?? '', q: query.get('q') ?? '', sort: query.get('sort') ?? '', test: query.get('test') ?? '' };
  const [data, setData] = useState<RunDetailResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [page, setPage] = useState<Page>({ rows: [], cursor: null, total: 0, loading: true, error: null });
  const [tick, setTick] = useState(0);
  const filterKey = `${view.status}\n${view.q}\n${view.sort}`;

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      api.runDoc(runId).then(
        (d) => {
          if (!live) return;
          setData(d);
          setError(null);
          document.title = `${d.run.suite.name} · ${d.run.run_id} · agentv Studio`;
          if (d.run.status === 'running') {
            timer = setTimeout(() => {
              setTick((n) => n + 1);
              load();
            }, LIVE_MS);
          }
        },
        (e) => live && setError(errorMessage(e)),
      );
    load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [runId]);

  // The run just older than this one of the same suite and target: "compare with the previous run".
  // And the run `eval --baseline <this run's commit>~1` would pick: "the run of the base commit".
  const [previous, setPrevious] = useState<string | null>(null);
  const [baseline, setBaseline] = useState<BaselineResponse | null>(null);
  const pair = data ? `${data.run.suite.name}\n${data.run.target.name}\n${data.run.source_commit}` : '';
  useEffect(() => {
    if (!data) return;
    let live = true;
    const { suite, target, source_commit: sha } = data.run;
    previousRun(runId, suite.name, target.name).then(
      (id) => live && setPrevious(id),
      () => undefined,
    );
    // No parent commit or no such run: no link.
    if (sha)
      api.baseline(suite.name, target.name, `${sha}~1`).then(
        (b) => live && setBaseline(b),
        () => undefined,
      );
    return () => {
      live = false;
    };
  }, [runId, pair]);

  const fetchPage = (cursor: string | null) =>
    api.results(runId, { limit: PAGE, cursor, status: view.status, q: view.q, sort: view.sort });

  // First page on open, on a filter change, and on each live refresh (unless more pages are shown).
  useEffect(() => {
    let live = true;
    if (tick > 0 && page.rows.length > PAGE) return;
    fetchPage(null).then(
      (r) => live && setPage({ rows: r.results, cursor: r.next_cursor, total: r.total, loading: false, error: null }),
      (e) => live && setPage((p) => ({ ...p, loading: false, error: errorMessage(e) })),
    );
    return () => {
      live = false;
    };
  }, [runId, filterKey, tick]);

  const more = () => {
    setPage((p) => ({ ...p, loading: true }));
    fetchPage(page.cursor).then(
      (r) => setPage((p) => ({ rows: [...p.rows, ...r.results], cursor: r.next_cursor, total: r.total, loading: false, error: null })),
      (e) => setPage((p) => ({ ...p, loading: false, error: errorMessage(e) })),
    );
  };

  const setView = (k: 'status' | 'q' | 'sort' | 'test', v: string) => {
    const q = new URLSearchParams(query);
    if (v) q.set(k, v);
    else q.delete(k);
    const s = q.toString();
    navigate(`/runs/${encodeURIComponent(runId)}${s ? `?${s}` : ''}`, { replace: true });
  };

  if (!data) {
    return (
      <section>
        <h1 class="mono">{runId}</h1>
        {error ? <ErrorBox message={error} /> : <p class="muted">Loading…</p>}
      </section>
    );
  }

  const { run } = data;
  const c = run.counts ?? { completed_count: 0, passed: 0, failed: 0, errored: 0, pass_rate: null, avg_score: null };
  const planned = data.planned_test_count;
  const active = activeMs(data.events, run.started_at, run.status === 'running' ? null : run.finished_at);

  return (
    <section>
      <div class="page-head">
        <div>
          <p class="crumb">
            <a href="/">Runs</a> / {run.suite.name} · {run.target.name}
          </p>
          <h1 class="mono">
            {run.run_id} <RunBadge status={run.status} outcome={run.outcome} testid="run-status" />
          </h1>
        </div>
        <RunActions data={data} onStopped={() => setTick((n) => n + 1)} />
      </div>
      {(previous || baseline?.run) && (
        <p class="run-compare">
          {previous && (
            <span>
              <a href={compareHref(previous, runId)} data-testid="compare-previous">
                Compare with the previous run of {run.suite.name} · {run.target.name}
              </a>{' '}
              <span class="muted mono small">({previous})</span>
            </span>
          )}
          {baseline?.run && (
            <span>
              <a href={compareHref(baseline.run.run_id, runId)} data-testid="compare-base-commit" title="the newest completed run at the nearest first-parent ancestor of this run's commit that has one">
                Compare with the run of the base commit
              </a>{' '}
              <span class="muted mono small">
                ({baseline.run.source_commit?.slice(0, 8)}, {baseline.run.run_id})
              </span>
            </span>
          )}
        </p>
      )}
      <ErrorBox message={error} />
      {data.is_resumable && data.resume_reason && (
        <p class="notice">
          Resumable: {REASONS[data.resume_reason] ?? data.resume_reason} ({c.completed_count} of {planned} tests have results).
        </p>
      )}

      <dl class="meta">
        <Meta k="Suite">
          {run.suite.name} <span class="muted mono">{run.suite.path}</span>
        </Meta>
        <Meta k="Target">
          {run.target.name} <span class="muted">({run.target.provider})</span>
        </Meta>
        {run.grader && <Meta k="Grader">{run.grader.name}</Meta>}
        <Meta k="Source commit">
          <CommitLink sha={run.source_commit} dirty={run.source_dirty} />
        </Meta>
        <Meta k="Started">
          <Time iso={run.started_at} /> <span class="muted">{absoluteTime(run.started_at)}</span>
        </Meta>
        <Meta k="Duration">
          <span title="time spent running; time stopped between a stop and a resume is not counted">{duration(active)}</span>
        </Meta>
        <Meta k="Host">{run.host}</Meta>
        {run.slices && (
          <Meta k="Slices">
            <span data-testid="run-slices">
              {run.slices.arrived.length} of {run.slices.count} arrived
              {run.slices.arrived.map((a) => (
                <span class="muted small" key={a.index}>
                  {' '}· {a.index}/{run.slices!.count} {a.status} ({a.completed_count}/{a.planned_test_count}, {a.host})
                </span>
              ))}
            </span>
          </Meta>
        )}
        {run.tags.length > 0 && <Meta k="Tags">{run.tags.join(', ')}</Meta>}
      </dl>

      <div class="cards">
        <Card k="Pass rate" v={percent(c.pass_rate)} testid="pass-rate">
          <PassBar passed={c.passed} failed={c.failed} errored={c.errored} total={planned} />
          <div class="small" data-testid="pass-counts">
            {passCounts(c.passed, c.completed_count, planned)}
          </div>
        </Card>
        <Card k="Avg score" v={score(c.avg_score)} />
        <Card k="Done" v={`${c.completed_count}/${planned}`} testid="done-count" />
        <Card k="Passed" v={String(c.passed)} cls="ok" />
        <Card k="Failed" v={String(c.failed)} cls="bad" />
        <Card k="Errors" v={String(c.errored)} cls="warn" />
      </div>

      {data.metrics.length > 0 && (
        <div class="cards" data-testid="metrics">
          {data.metrics.map((m) => (
            <Card key={m.metric} k={`metric ${m.metric}`} v={percent(m.passed / m.total)}>
              <div class="small">
                {m.passed} of {m.total} passed · avg {score(m.avg_score)}
              </div>
            </Card>
          ))}
        </div>
      )}

      {data.events.length > 0 && (
        <details class="events" open={data.events.length <= 6}>
          <summary>Events ({data.events.length})</summary>
          <ol>
            {data.events.map((ev, i) => (
              <li key={i}>
                <StatusBadge status={ev.type} /> <Time iso={ev.at} />
                {ev.mode && <span> · {ev.mode.replace('_', ' ')}</span>}
                {ev.planned !== undefined && <span> · planned {ev.planned}</span>}
                {ev.executed !== undefined && <span> · executed {ev.executed}</span>}
                {ev.detail && <span class="muted"> · {ev.detail}</span>}
              </li>
            ))}
          </ol>
        </details>
      )}

      <div class="toolbar">
        <h2>Tests</h2>
        <label>
          <span>Show</span>
          <select data-testid="results-status" value={view.status} onChange={(e) => setView('status', e.currentTarget.value)}>
            <option value="">all</option>
            <option value="passed">passed</option>
            <option value="failed">failed</option>
            <option value="errored">errors</option>
            <option value="not_ok">not ok</option>
          </select>
        </label>
        <label>
          <span>Sort</span>
          <select data-testid="results-sort" value={view.sort} onChange={(e) => setView('sort', e.currentTarget.value)}>
            <option value="">planned order</option>
            <option value="test_id">test id</option>
            <option value="score">score ↑</option>
            <option value="-score">score ↓</option>
            <option value="duration">duration ↑</option>
            <option value="-duration">duration ↓</option>
          </select>
        </label>
        <label>
          <span>Search</span>
          <input
            type="search"
            data-testid="results-search"
            value={view.q}
            placeholder="id, input, output, reason"
            onChange={(e) => setView('q', e.currentTarget.value.trim())}
          />
        </label>
        <span class="total">{page.total.toLocaleString()} tests</span>
      </div>
      <div class="table-wrap">
        <table class="table tests">
          <thead>
            <tr>
              <th>Test</th>
              <th>Status</th>
              <th class="num">Score</th>
              <th class="num">Duration</th>
              <th class="num">Attempt</th>
            </tr>
          </thead>
          <tbody>
            {page.rows.map((r) => (
              <TestRow key={r.test_id} runId={runId} row={r} open={view.test === r.test_id} onToggle={() => setView('test', view.test === r.test_id ? '' : r.test_id)} />
            ))}
          </tbody>
        </table>
      </div>
      <ErrorBox message={page.error} />
      {!page.loading && page.rows.length === 0 && <p class="empty">{c.completed_count ? 'No tests match.' : 'No test has a result yet.'}</p>}
      {page.cursor && (
        <p class="center">
          <button type="button" class="btn" data-testid="more-results" disabled={page.loading} onClick={more}>
            {page.loading ? 'Loading…' : `Show ${Math.min(PAGE, page.total - page.rows.length)} more of ${page.total - page.rows.length}`}
          </button>
        </p>
      )}
      {data.missing_test_ids.length > 0 && (
        <details class="notrun" data-testid="not-run">
          <summary>{data.missing_test_ids.length} planned tests have no result yet</summary>
          <p class="mono small">{data.missing_test_ids.join(', ')}</p>
        </details>
      )}
    </section>
  );
}

const compareHref = (base: string, head: string) => `/compare?base=${encodeURIComponent(base)}&head=${encodeURIComponent(head)}`;

/** The newest run of this suite and target older than `runId` (runs come newest first); a few pages at most. */
async function previousRun(runId: string, suite: string, target: string): Promise<string | null> {
  let cursor: string | null = null;
  let seen = false;
  for (let i = 0; i < 5; i++) {
    const page = await api.runs({ suite, target, limit: 200, cursor });
    for (const r of page.runs) {
      if (seen) return r.run_id;
      if (r.run_id === runId) seen = true;
    }
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return null;
}

function Meta({ k, children }: { k: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{k}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Card({ k, v, cls, testid, children }: { k: string; v: string; cls?: string; testid?: string; children?: ComponentChildren }) {
  return (
    <div class={`card ${cls ?? ''}`} data-testid={testid}>
      <div class="card-k">{k}</div>
      <div class="card-v">{v}</div>
      {children}
    </div>
  );
}
