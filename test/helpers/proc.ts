// Child processes for tests: TypeScript helpers bundled once (esbuild) and run
// by node, the built CLI through node. Waiting is event-driven (output lines,
// exit), never by sleeping. Every child is tracked: the shared afterEach hook
// (test/helpers/setup.ts) kills whatever a test left running, pass or fail.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { expect } from 'vitest';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/cli.js');

/** Tracked children, and whether each was started inside a test (else in a beforeAll). */
const children = new Map<ChildProcess, boolean>();

/** Remember a child so that killChildren() can end it if the test does not. */
export function track<C extends ChildProcess>(child: C): C {
  children.set(child, expect.getState().currentTestName !== undefined);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * SIGKILL tracked children still running: those started by the test that just
 * ended (afterEach), or every one (afterAll, for those a beforeAll started).
 */
export function killChildren({ all = false }: { all?: boolean } = {}): number {
  let n = 0;
  for (const [c, inTest] of children) {
    if (!all && !inTest) continue;
    children.delete(c);
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      n++;
    }
  }
  return n;
}

const bundles = new Map<string, string>();

/**
 * A test helper script bundled to plain JavaScript once per test process:
 * starting it costs a node start, not a TypeScript transform of the whole
 * import graph (tsx took seconds per child on a busy machine).
 */
function bundled(script: string): string {
  let out = bundles.get(script);
  if (!out) {
    // Under node_modules so that its package imports resolve from the project.
    out = path.join(ROOT, 'node_modules/.cache/agentv-test', `${process.pid}-${path.basename(script, '.ts')}.mjs`);
    buildSync({ entryPoints: [path.join(ROOT, script)], outfile: out, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning' });
    bundles.set(script, out);
  }
  return out;
}

/** Remove this process's bundles (setup.ts, after each file). */
export function removeBundles(): void {
  for (const f of bundles.values()) rmSync(f, { force: true });
  bundles.clear();
}

export function spawnTs(script: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return track(
    spawn(process.execPath, [bundled(script), ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** Resolve when a line of stdout satisfies `match` (or reject when the process ends first). */
export function waitForLine(child: ChildProcess, match: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines)
        if (match(l)) {
          child.stdout!.off('data', onData);
          resolve(l);
          return;
        }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, sig) => reject(new Error(`process ended (${sig ?? code}) before the awaited line`)));
  });
}

export function waitExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr });
      return;
    }
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Alive and not a zombie (this container's init does not reap orphans). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
