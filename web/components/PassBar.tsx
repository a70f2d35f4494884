// Stacked bar of passed / failed / errored over the planned total; the rest is not run yet.
export interface PassBarProps {
  passed: number;
  failed: number;
  errored: number;
  total: number;
}

export function PassBar({ passed, failed, errored, total }: PassBarProps) {
  const denom = Math.max(total, passed + failed + errored, 1);
  const w = (n: number) => `${(n / denom) * 100}%`;
  const label = `${passed} passed, ${failed} failed, ${errored} errored of ${total}`;
  return (
    <span class="passbar" role="img" aria-label={label} title={label}>
      <span class="seg seg-pass" style={{ width: w(passed) }} />
      <span class="seg seg-fail" style={{ width: w(failed) }} />
      <span class="seg seg-error" style={{ width: w(errored) }} />
    </span>
  );
}
