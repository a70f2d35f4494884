// A run's actions: Resume (when resumable), Rerun failed cases (whenever a test
// is not ok), Regrade (when it has rows: stored outputs judged again, no target
// call), Stop and a link to its job while it runs. In read-only mode the same
// actions are shown as the CLI commands that do them.
import { useEffect, useState } from 'preact/hooks';
import type { RunDetailResponse } from '../../src/schemas/api.js';
import type { EvalRunRequest } from '../../src/schemas/studio.js';
import { api, errorMessage } from '../api.js';
import { launchAndFollow } from '../launch.js';
import { config, isReadOnly, navigate, useSignal } from '../state.js';
import { ErrorBox } from './ErrorBox.js';

const quote = (s: string) => (/^[\w./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function RunActions({ data, onStopped }: { data: RunDetailResponse; onStopped: () => void }) {
  const cfg = useSignal(config);
  const { run } = data;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const running = run.status === 'running';

  // The job that runs it: one this Studio launched, else the run itself (adopted by id).
  useEffect(() => {
    if (!running) return;
    api.jobs().then(
      (r) => setJobId(r.jobs.find((j) => j.run_id === run.run_id && !['finished', 'failed', 'stopped'].includes(j.status))?.id ?? run.run_id),
      () => setJobId(run.run_id),
    );
  }, [running, run.run_id]);

  const suite = quote(run.suite.path);
  const resumeCmd = `agentv resume ${run.run_id}`;
  const rerunCmd = `agentv eval ${suite} --target ${quote(run.target.name)} --rerun-failed ${run.run_id}`;
  const regradeCmd = `agentv regrade ${run.run_id}`;
  const canRegrade = !running && (run.counts?.completed_count ?? 0) > 0;

  // A sharded run is continued slice by slice, on the machine that owns each (SPEC 3.9).
  if (run.slices && !running) {
    const count = run.slices.count;
    const done = new Set(run.slices.arrived.filter((a) => a.status === 'completed' && a.completed_count >= a.planned_test_count).map((a) => a.index));
    const open = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !done.has(i));
    if (!open.length || (!data.is_resumable && !data.has_not_ok)) return null;
    return (
      <div class="actions cli-actions" data-testid="slice-commands">
        <p class="muted small">
          Slices {open.map((i) => `${i}/${count}`).join(', ')} have not completed here: pull them (agentv results pull), or continue one where it belongs:
        </p>
        {open.map((i) => (
          <code class="cmdline" key={i}>{`agentv eval ${suite} --target ${quote(run.target.name)} --resume ${run.run_id} --shard ${i}/${count}`}</code>
        ))}
      </div>
    );
  }

  if (isReadOnly(cfg)) {
    if (!data.is_resumable && !data.has_not_ok && !canRegrade) return null;
    return (
      <div class="actions cli-actions" data-testid="cli-commands">
        <p class="muted small">Read-only Studio: run these in a terminal.</p>
        {data.is_resumable && <code class="cmdline">{resumeCmd}</code>}
        {data.has_not_ok && !running && <code class="cmdline">{rerunCmd}</code>}
        {canRegrade && <code class="cmdline">{regradeCmd}</code>}
      </div>
    );
  }

  const launch = (mode: 'resume' | 'rerun_failed') => {
    const body: EvalRunRequest = { suite: run.suite.path, target: run.target.name, run_id: run.run_id, [mode]: true };
    setBusy(true);
    setError(null);
    launchAndFollow(body).catch((e) => {
      setBusy(false);
      setError(errorMessage(e));
    });
  };
  const regrade = () => {
    setBusy(true);
    setError(null);
    api.regrade(run.run_id).then(
      (job) => navigate(`/jobs/${encodeURIComponent(job.id)}`),
      (e) => {
        setBusy(false);
        setError(errorMessage(e));
      },
    );
  };
  const stop = () => {
    if (!jobId) return;
    setBusy(true);
    api.stop(jobId).then(
      () => onStopped(),
      (e) => setError(errorMessage(e)),
    );
  };

  return (
    <div class="actions">
      {running && jobId && (
        <>
          <a class="btn" href={`/jobs/${encodeURIComponent(jobId)}`} data-testid="job-link">
            Job
          </a>
          <button type="button" class="btn" data-testid="run-stop-button" disabled={busy} onClick={stop}>
            {busy ? 'Stopping…' : 'Stop'}
          </button>
        </>
      )}
      {data.is_resumable && (
        <button type="button" class="btn btn-primary" data-testid="resume-button" disabled={busy} onClick={() => launch('resume')}>
          Resume run
        </button>
      )}
      {data.has_not_ok && !running && (
        <button type="button" class="btn" data-testid="rerun-failed-button" disabled={busy} onClick={() => launch('rerun_failed')}>
          Rerun failed cases
        </button>
      )}
      {canRegrade && (
        <button type="button" class="btn" data-testid="regrade-button" disabled={busy} onClick={regrade} title="judge the stored outputs again under the suite's current assertions; the target is not called">
          Regrade
        </button>
      )}
      <ErrorBox message={error} />
    </div>
  );
}
