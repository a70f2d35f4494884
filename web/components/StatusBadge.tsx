// Coloured pills. A run's badge shows its outcome as well as its lifecycle: a
// completed run with failures is red, never green; a finished job whose run
// failed says so. The text names both when they differ.
export function StatusBadge({ status, testid }: { status: string; testid?: string }) {
  return (
    <span class={`badge badge-${status}`} data-testid={testid}>
      {status}
    </span>
  );
}

/** Lifecycle plus outcome: "passed", "completed · failed", "stopped · incomplete", "running". */
export function RunBadge({ status, outcome, testid }: { status: string; outcome: string | null | undefined; testid?: string }) {
  const ended = status === 'completed' || status === 'finished';
  if (!outcome) return <StatusBadge status={status} testid={testid} />;
  const text = ended && outcome === 'passed' ? 'passed' : `${status} · ${outcome}`;
  const tone = outcome === 'passed' ? (ended ? 'passed' : status) : outcome === 'failed' ? 'failed' : status === 'completed' ? 'stopped' : status;
  return (
    <span class={`badge badge-${tone}`} data-testid={testid} data-status={status} data-outcome={outcome}>
      {text}
    </span>
  );
}

/** A job's colour: its run's outcome wins over "finished" (an exit-1 job is red, an incomplete one amber). */
export function jobTone(job: { status: string; outcome: string | null | undefined }): string {
  if (job.outcome === 'failed') return 'failed';
  if (job.outcome === 'incomplete' && job.status === 'finished') return 'stopped';
  return job.status;
}
