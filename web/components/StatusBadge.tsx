// A coloured pill for run, job and test statuses; the text is the status itself.
export function StatusBadge({ status, testid }: { status: string; testid?: string }) {
  return (
    <span class={`badge badge-${status}`} data-testid={testid}>
      {status}
    </span>
  );
}
