// The order the executor's workers take tests in. Without run-time values, plain suite
// order. With them (storeOutputAs, _conversation), a test is handed out only once every
// test it reads that is part of this run has settled (finished, failed or cut short), and
// among the ready ones the earliest in suite order goes first, so independent tests still
// run side by side.
import { dependenciesOf } from './runtime-vars.js';
import type { WorkItem } from './runner.js';

export interface Schedule {
  /** The next item to run; 'wait' when every item left waits for one in flight; null when none is left. */
  next(): WorkItem | 'wait' | null;
  /** Resolves at the next settle(). */
  settledOne(): Promise<void>;
  /** An item finished, failed or was cut short. */
  settle(testId: string): void;
}

export function schedule(items: WorkItem[], ordered: boolean): Schedule {
  let waiters: (() => void)[] = [];
  const wakeAll = () => {
    const wake = waiters;
    waiters = [];
    for (const w of wake) w();
  };
  const settledOne = () => new Promise<void>((resolve) => waiters.push(resolve));
  if (!ordered) {
    let next = 0;
    return { next: () => (next < items.length ? items[next++]! : null), settledOne, settle: wakeAll };
  }
  const index = new Map(items.map((it, i) => [it.test.id, i]));
  const waitingOn = new Int32Array(items.length);
  const dependents: number[][] = items.map(() => []);
  items.forEach((it, i) => {
    for (const d of dependenciesOf(it.test)) {
      const j = index.get(d);
      if (j === undefined || j === i) continue;
      waitingOn[i]!++;
      dependents[j]!.push(i);
    }
  });
  // Ready items, earliest first (a binary min-heap of indexes).
  const heap: number[] = [];
  const push = (x: number) => {
    let i = heap.push(x) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p]! <= x) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = x;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const c = l + 1 < heap.length && heap[l + 1]! < heap[l]! ? l + 1 : l;
        if (heap[c]! >= last) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  };
  items.forEach((_, i) => waitingOn[i] === 0 && push(i));
  let handedOut = 0;
  return {
    next: () => {
      if (heap.length > 0) {
        handedOut++;
        return items[pop()]!;
      }
      return handedOut < items.length ? 'wait' : null;
    },
    settledOne,
    settle: (testId) => {
      const j = index.get(testId);
      if (j !== undefined) for (const i of dependents[j]!) if (--waitingOn[i]! === 0) push(i);
      wakeAll();
    },
  };
}
