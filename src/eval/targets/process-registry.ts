// Every process group a target starts is registered here so that a stop can end
// them all at once. Children are spawned `detached`, so each leads its own group and
// a signal to `-pid` reaches everything it started that did not call setsid itself.
import type { ChildProcess } from 'node:child_process';

export type KillSignal = NodeJS.Signals | number;

/**
 * Send `signal` to the process group led by `pid`. Returns false when the group is
 * already gone (ESRCH), so callers can treat "nothing left" as success.
 */
export function killProcessGroup({ pid, signal = 'SIGKILL' }: { pid: number; signal?: KillSignal }): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

export class ProcessRegistry {
  readonly #pids = new Set<number>();

  /**
   * `onChange` is called with the live set whenever it changes (the watchdog's list of
   * groups to end). `scratchRoot` is where per-test scratch folders go (agentv's folder in
   * the git dir, swept after a crash); without it, the system temp folder.
   */
  constructor(
    private readonly onChange?: (pids: number[]) => void,
    readonly options: { scratchRoot?: string } = {},
  ) {}

  /**
   * Track a detached child's process group until the returned function is called.
   * Unregister only once the group has been reaped (the cli target does it on 'close').
   *
   *   const unregister = registry.register(child); child.on('close', unregister);
   */
  register(child: Pick<ChildProcess, 'pid'>): () => void {
    const pid = child.pid;
    // A child that failed to spawn has no pid and nothing to kill.
    if (pid === undefined) return () => {};
    this.#pids.add(pid);
    this.onChange?.([...this.#pids]);
    return () => {
      this.#pids.delete(pid);
      this.onChange?.([...this.#pids]);
    };
  }

  /** Signal every registered process group; returns how many groups were still alive. */
  killAll(signal: KillSignal = 'SIGKILL'): number {
    let alive = 0;
    for (const pid of this.#pids) {
      try {
        if (killProcessGroup({ pid, signal })) alive++;
      } catch {
        // EPERM: the pid now belongs to someone else's group; one bad entry must not spare the rest.
      }
    }
    return alive;
  }

  get size(): number {
    return this.#pids.size;
  }
}
