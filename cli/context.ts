// What every command handler gets: where it runs, how to print, and a store
// opened lazily (so `--help` and usage errors never spawn git). The store is
// the configured results repository when there is one (.agentv/config.yaml),
// so the source repository (suites, HEAD) is asked for separately.
// The store is imported when a command runs: `--help`, `--version` and usage errors load none of it.
import type { ResultsStore } from '../src/store/config.js';
import type { Store } from '../src/store/store.js';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY: boolean;
}

export interface CommandContext {
  cwd: string;
  repoDir: string;
  io: Io;
  env: NodeJS.ProcessEnv;
  openStore(): Promise<Store>;
  /** Root of the source repository: suites, `.agentv/`, HEAD. Not the store's repository once results are promoted. */
  sourceRoot(): Promise<string>;
  /**
   * After a command wrote runs: when results live in a repository reached by
   * URL, push them there (fetch and merge first if it moved). A failed push
   * is a warning: the runs stay in the local cache for `agentv results push`.
   */
  publish(): Promise<void>;
}

/** A handler's outcome: the exit code and, for --json, the document to print. */
export interface CommandResult {
  exitCode: number;
  json?: unknown;
}

export function makeContext({ cwd, repo, io, env }: { cwd: string; repo?: string; io: Io; env: NodeJS.ProcessEnv }): CommandContext & {
  close(): void;
} {
  let store: ResultsStore | null = null;
  const repoDir = repo ?? cwd;
  // The store's opener alone, not the whole store barrel: a command loads what it uses. A context
  // exists only for a command that runs, and nearly all open the store: its module loads now,
  // alongside the command's own (a failed load is reported by the open that needs it).
  const opener = import('../src/store/config.js');
  opener.catch(() => {});
  const open = async () => (store ??= await (await opener).openResultsStore({ repoDir }));
  return {
    cwd,
    repoDir,
    io,
    env,
    openStore: open,
    async sourceRoot() {
      return (await open()).source.root;
    },
    async publish() {
      const s = await open();
      if (!s.mirrorUrl) return;
      try {
        const { pushRuns } = await import('../src/store/remote.js');
        const r = await pushRuns({ store: s, remote: 'origin' });
        if (r.result === 'pushed') io.stderr(`Pushed runs to ${s.mirrorUrl}.\n`);
      } catch (e) {
        io.stderr(`warning: could not push runs to ${s.mirrorUrl}: ${(e as Error).message}\n  they are kept locally; push them with: agentv results push\n`);
      }
    },
    close() {
      store?.close();
    },
  };
}
