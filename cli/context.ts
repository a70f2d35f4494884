// What every command handler gets: where it runs, how to print, and a store
// opened lazily (so `--help` and usage errors never spawn git).
import { openStore, type Store } from '../src/store/index.js';

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
}

/** A handler's outcome: the exit code and, for --json, the document to print. */
export interface CommandResult {
  exitCode: number;
  json?: unknown;
}

export function makeContext({ cwd, repo, io, env }: { cwd: string; repo?: string; io: Io; env: NodeJS.ProcessEnv }): CommandContext & {
  close(): void;
} {
  let store: Store | null = null;
  const repoDir = repo ?? cwd;
  return {
    cwd,
    repoDir,
    io,
    env,
    async openStore() {
      store ??= await openStore({ repoDir });
      return store;
    },
    close() {
      store?.close();
    },
  };
}
