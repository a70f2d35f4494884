// A launched `agentv eval` process: live status over server-sent events (polling every
// second if the stream fails), log tail, and Stop. Stop shows "Stopping…" at once; the
// server's status catches up when the process has committed its rows and exited.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { JobStatus } from '../../src/schemas/studio.js';
import { ApiError, api, errorMessage } from '../api.js';
import { config, isReadOnly, useSignal } from '../state.js';
import type { PageProps } from '../routes.js';
import { span } from '../format.js';
import { StatusBadge, jobTone } from '../components/StatusBadge.js';
import { PassBar } from '../components/PassBar.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { Time } from '../components/Time.js';

const TERMINAL = new Set(['finished', 'failed', 'stopped']);

export function Job({ params }: PageProps) {
  const id = params.id!;
  const cfg = useSignal(config);
  const [job, setJob] = useState<JobStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [stopClicked, setStopClicked] = useState(false);
  const [stopError, setStopError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    let es: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      es?.close();
      es = null;
      clearTimeout(timer);
    };
    const apply = (j: JobStatus) => {
      if (!live) return;
      setJob(j);
      setError(null);
      if (TERMINAL.has(j.status)) finish();
    };
    const poll = () => {
      api.job(id).then(
        (j) => {
          apply(j);
          if (live && !TERMINAL.has(j.status)) timer = setTimeout(poll, 1000);
        },
        (e) => {
          if (!live) return;
          setError(errorMessage(e));
          // An unknown job will not appear later; anything else may be transient.
          if (!(e instanceof ApiError && e.status === 404)) timer = setTimeout(poll, 2000);
        },
      );
    };
    const stream = () => {
      if (typeof EventSource === 'undefined') return poll();
      es = new EventSource(api.jobEventsUrl(id));
      es.onmessage = (m) => {
        try {
          apply(JSON.parse(m.data) as JobStatus);
        } catch {
          // ignore a malformed frame; the next one carries the whole state again
        }
      };
      es.onerror = () => {
        // Closed by the server after the end, or broken: either way polling settles it.
        es?.close();
        es = null;
        if (live) poll();
      };
    };
    api.job(id).then(
      (j) => {
        apply(j);
        if (live && !TERMINAL.has(j.status)) stream();
      },
      (e) => {
        if (!live) return;
        setError(errorMessage(e));
        if (!(e instanceof ApiError && e.status === 404)) stream();
      },
    );
    document.title = `Job ${id} · agentv Studio`;
    return () => {
      live = false;
      finish();
    };
  }, [id]);

  const onStop = () => {
    // While stopping, a second Stop is "Stop now": the server sends the second signal.
    setStopClicked(true);
    setStopError(null);
    api.stop(id).then(
      (r) => {
        if (!r.stopped) api.job(id).then(setJob, () => undefined);
      },
      (e) => {
        setStopClicked(false);
        setStopError(errorMessage(e));
      },
    );
  };

  if (!job) {
    return (
      <section>
        <h1>Job {id}</h1>
        {error ? <ErrorBox message={error} /> : <p class="muted">Loading…</p>}
      </section>
    );
  }

  const p = job.progress;
  const terminal = TERMINAL.has(job.status);
  const stopping = stopClicked || job.status === 'stopping';
  const canStop = !isReadOnly(cfg) && !terminal && ['starting', 'running', 'stopping'].includes(job.status);
  const tone = jobTone(job);
  const resumed = job.kind === 'resume' || job.kind === 'rerun_failed';
  const title = job.suite ? `${job.suite}${job.target ? ` · ${job.target}` : ''}` : 'Job';
  if (typeof document !== 'undefined') document.title = `${title} · job · agentv Studio`;
  return (
    <section>
      <div class="page-head">
        <div>
          <p class="crumb">
            <a href="/">Runs</a> / <a href="/jobs">Jobs</a> / <span class="mono">{job.id}</span>
          </p>
          <h1>
            {title} <span class={`badge badge-${tone}`} data-testid="job-status" data-outcome={job.outcome ?? ''}>{job.status}</span>
            {job.outcome && <StatusBadge status={job.outcome} testid="job-outcome" />}
            <span class="muted small">{job.kind.replace('_', ' ')}</span>
          </h1>
        </div>
        {canStop && (
          <div class="actions">
            {stopping && <span class="muted">Stopping…</span>}
            <button type="button" class="btn" data-testid="stop-button" onClick={onStop} title={stopping ? 'end the target processes at once' : 'finish the tests in flight, then stop'}>
              {stopping ? 'Stop now' : 'Stop'}
            </button>
          </div>
        )}
      </div>
      <ErrorBox message={stopError} />
      <ErrorBox message={error} />

      <div class="progress-block">
        <div class="progress-line">
          <strong data-testid="job-progress">
            {p.done}/{p.to_execute || p.planned}
          </strong>
          <span class="muted">{job.kind === 'regrade' ? ' re-graded (no target calls)' : resumed ? ` re-run of ${p.planned} planned` : ' tests done'}</span>
          <span class="counts">
            <span class="ok">{p.passed} passed</span> · <span class="bad">{p.failed} failed</span> ·{' '}
            <span class="warn">{p.errored} errored</span>
          </span>
        </div>
        <PassBar passed={p.passed} failed={p.failed} errored={p.errored} total={p.to_execute || p.planned} />
      </div>

      <dl class="meta">
        <div>
          <dt>Run</dt>
          <dd>
            {job.run_id ? (
              <a class="mono" href={`/runs/${encodeURIComponent(job.run_id)}`} data-testid="run-link">
                {terminal ? 'View results of ' : ''}
                {job.run_id}
              </a>
            ) : (
              <span class="muted">not known yet</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>
            <Time iso={job.started_at} />
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{span(job.started_at, job.finished_at ?? new Date().toISOString())}</dd>
        </div>
        {job.exit_code !== null && (
          <div>
            <dt>Exit code</dt>
            <dd data-testid="exit-reason">
              <span class="mono">{job.exit_code}</span> {job.exit_reason && <span class="muted">· {job.exit_reason}</span>}
            </dd>
          </div>
        )}
      </dl>

      <h2>Command</h2>
      <pre class="pre cmd">{job.command}</pre>
      <h2>Log</h2>
      <LogTail lines={job.log_tail} />
    </section>
  );
}

/** Follows new lines while the reader is at the bottom; leaves them alone after scrolling up. */
function LogTail({ lines }: { lines: string[] }) {
  const ref = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);
  const onScroll = () => {
    const el = ref.current;
    if (el) stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
  };
  return (
    <pre class="pre log" ref={ref} onScroll={onScroll} data-testid="job-log" tabIndex={0} aria-label="Log tail">
      {lines.length ? lines.join('\n') : 'No output yet.'}
    </pre>
  );
}
