// One run: header, resume/rerun actions (when the server says it is resumable), aggregates,
// events, and one expandable row per test. Polls while the run is still running.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { RunDetailResponse } from '../../src/schemas/api.js';
import type { Row } from '../../src/schemas/row.js';
import type { EvalRunRequest } from '../../src/schemas/studio.js';
import { api, errorMessage } from '../api.js';
import { launchAndFollow } from '../launch.js';
import { config, isReadOnly, useSignal } from '../state.js';
import type { PageProps } from '../routes.js';
import { absoluteTime, percent, score, span } from '../format.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { PassBar } from '../components/PassBar.js';
import { CommitLink } from '../components/CommitLink.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { Time } from '../components/Time.js';
import { TestRow, testState } from '../components/TestRow.js';

const REASONS: Record<string, string> = {
  execution_errors: 'some tests ended with execution errors',
  incomplete: 'not every planned test has a result',
  interrupted: 'its process died before finishing',
  stopped: 'it was stopped before finishing',
};
const PAGE = 500;

export function RunDetail({ params }: PageProps) {
  const runId = params.run_id!;
  const cfg = useSignal(config);
  const [data, setData] = useState<RunDetailResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [history, setHistory] = useState(false);
  const [launching, setLaunching] = useState(false);
  const [launchError, setLaunchError] = useState<string | null>(null);
  const [show, setShow] = useState<'all' | 'passed' | 'failed' | 'error'>('all');
  const [search, setSearch] = useState('');
  const [limit, setLimit] = useState(PAGE);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      api.run(runId, history).then(
        (d) => {
          if (!live) return;
          setData(d);
          setError(null);
          document.title = `${d.run.run_id} · agentv Studio`;
          if (d.run.status === 'running') timer = setTimeout(load, 3000);
        },
        (e) => live && setError(errorMessage(e)),
      );
    load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [runId, history]);

  if (!data) {
    return (
      <section>
        <h1 class="mono">{runId}</h1>
        {error ? <ErrorBox message={error} /> : <p class="muted">Loading…</p>}
      </section>
    );
  }

  const { run, results } = data;
  const launch = (mode: 'resume' | 'rerun_failed') => {
    const body: EvalRunRequest = { suite: run.suite.path, target: run.target.name, run_id: run.run_id, [mode]: true };
    setLaunching(true);
    setLaunchError(null);
    launchAndFollow(body).catch((e) => {
      setLaunching(false);
      setLaunchError(errorMessage(e));
    });
  };

  const counts = { passed: 0, failed: 0, error: 0 };
  for (const r of results) counts[testState(r)]++;
  const scored = results.filter((r) => r.execution_status !== 'execution_error');
  const avg = run.counts?.avg_score ?? (scored.length ? scored.reduce((a, r) => a + r.score, 0) / scored.length : null);
  const rate = run.counts?.pass_rate ?? (results.length ? counts.passed / results.length : null);
  const planned = data.planned_test_count;

  const order = new Map(run.planned_tests.map((t, i) => [t.test_id, i]));
  const sorted = [...results].sort((a, b) => (order.get(a.test_id) ?? 1e9) - (order.get(b.test_id) ?? 1e9));
  const q = search.trim().toLowerCase();
  const visible = sorted.filter((r) => (show === 'all' || testState(r) === show) && (!q || r.test_id.toLowerCase().includes(q)));
  const done = new Set(results.map((r) => r.test_id));
  const notRun = run.planned_tests.filter((t) => !done.has(t.test_id));
  const older = new Map<string, Row[]>();
  for (const h of data.history ?? []) older.set(h.test_id, [...(older.get(h.test_id) ?? []), h]);

  return (
    <section>
      <div class="page-head">
        <div>
          <p class="crumb">
            <a href="/">Runs</a> /
          </p>
          <h1 class="mono">
            {run.run_id} <StatusBadge status={run.status} />
          </h1>
        </div>
        {data.is_resumable && !isReadOnly(cfg) && (
          <div class="actions">
            <button type="button" class="btn btn-primary" data-testid="resume-button" disabled={launching} onClick={() => launch('resume')}>
              Resume run
            </button>
            <button type="button" class="btn" data-testid="rerun-failed-button" disabled={launching} onClick={() => launch('rerun_failed')}>
              Rerun failed cases
            </button>
          </div>
        )}
      </div>
      <ErrorBox message={launchError} />
      <ErrorBox message={error} />
      {data.is_resumable && data.resume_reason && (
        <p class="notice">
          Resumable: {REASONS[data.resume_reason] ?? data.resume_reason} ({results.length}/{planned} tests have results).
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
        <Meta k="Duration">{span(run.started_at, run.finished_at)}</Meta>
        <Meta k="Host">{run.host}</Meta>
        <Meta k="agentv">{run.agentv_version}</Meta>
        {run.tags.length > 0 && <Meta k="Tags">{run.tags.join(', ')}</Meta>}
      </dl>

      <div class="cards">
        <Card k="Pass rate" v={percent(rate)}>
          <PassBar passed={counts.passed} failed={counts.failed} errored={counts.error} total={planned} />
        </Card>
        <Card k="Avg score" v={score(avg)} />
        <Card k="Done" v={`${results.length}/${planned}`} />
        <Card k="Passed" v={String(counts.passed)} cls="ok" />
        <Card k="Failed" v={String(counts.failed)} cls="bad" />
        <Card k="Errors" v={String(counts.error)} cls="warn" />
      </div>

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
          <select value={show} onChange={(e) => setShow(e.currentTarget.value as typeof show)}>
            <option value="all">all ({results.length})</option>
            <option value="passed">passed ({counts.passed})</option>
            <option value="failed">failed ({counts.failed})</option>
            <option value="error">errors ({counts.error})</option>
          </select>
        </label>
        <label>
          <span>Search</span>
          <input type="search" value={search} placeholder="test id" onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={history} onChange={(e) => setHistory(e.currentTarget.checked)} /> earlier attempts
        </label>
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
            {visible.slice(0, limit).map((r) => (
              <TestRow key={r.test_id} row={r} history={older.get(r.test_id)} />
            ))}
          </tbody>
        </table>
      </div>
      {visible.length === 0 && <p class="empty">{results.length ? 'No tests match.' : 'No test has a result yet.'}</p>}
      {visible.length > limit && (
        <p class="center">
          <button type="button" class="btn" onClick={() => setLimit(limit + PAGE)}>
            Show {Math.min(PAGE, visible.length - limit)} more of {visible.length - limit}
          </button>
        </p>
      )}
      {notRun.length > 0 && (
        <details class="notrun">
          <summary>{notRun.length} planned tests have no result yet</summary>
          <p class="mono small">{notRun.map((t) => t.test_id).join(', ')}</p>
        </details>
      )}
    </section>
  );
}

function Meta({ k, children }: { k: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{k}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Card({ k, v, cls, children }: { k: string; v: string; cls?: string; children?: ComponentChildren }) {
  return (
    <div class={`card ${cls ?? ''}`}>
      <div class="card-k">{k}</div>
      <div class="card-v">{v}</div>
      {children}
    </div>
  );
}
