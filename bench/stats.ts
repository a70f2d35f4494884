// Small statistics and formatting shared by the bench modules.
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export const mark = (ok: boolean) => (ok ? '✅' : '❌');
export const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** The median wall time of `times` sequential calls of `fn`, in ms. */
export async function timeEach(times: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const all: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await fn();
    all.push(performance.now() - t0);
  }
  return median(all);
}
