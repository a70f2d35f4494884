// Jobs: running first, then recent ones (GET /api/jobs, kept across Studio restarts).
// Refreshes while any job runs.
import { useEffect, useState } from 'preact/hooks';
import type { JobStatus } from '../../src/schemas/studio.js';
import { api, errorMessage } from '../api.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { Time } from '../components/Time.js';
import { jobTone } from '../components/StatusBadge.js';

const TERMINAL = new Set(['finished', 'failed', 'stopped']);

export function Jobs() {
  const [jobs, setJobs] = useState<JobStatus[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      api.jobs().then(
        (r) => {
          if (!live) return;
          setJobs(r.jobs);
          if (r.jobs.some((j) => !TERMINAL.has(j.status))) timer = setTimeout(load, 2000);
        },
        (e) => live && setError(errorMessage(e)),
      );
    load();
    document.title = 'Jobs · agentv Studio';
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, []);
  return (
    <section>
      <h1>Jobs</h1>
      <ErrorBox message={error} />
      {jobs && jobs.length === 0 && <p class="empty">No job yet. Launch one from New run, or from a run's page.</p>}
      <div class="vlist joblist" data-testid="jobs-list">
        {jobs?.map((j) => {
          const tone = jobTone(j);
          return (
            <div class="vrow" key={j.id} data-testid="job-row" data-job-id={j.id}>
              <a class="mono" href={`/jobs/${encodeURIComponent(j.id)}`}>
                {j.suite ?? j.id}
                {j.target ? ` · ${j.target}` : ''}
              </a>
              <span>
                <span class={`badge badge-${tone}`}>{j.outcome && j.status === 'finished' ? `finished · ${j.outcome}` : j.status}</span>
              </span>
              <span>{j.kind.replace('_', ' ')}</span>
              <span>
                {j.progress.done}/{j.progress.to_execute || j.progress.planned} {j.exit_reason ? <span class="muted small">· {j.exit_reason}</span> : null}
              </span>
              <span>{j.run_id ? <a class="mono" href={`/runs/${encodeURIComponent(j.run_id)}`}>{j.run_id}</a> : '—'}</span>
              <span>
                <Time iso={j.started_at} />
              </span>
            </div>
          );
        })}
      </div>
    </section>
  );
}
