// Running the built CLI as a real child process, as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, track, waitExit } from './proc.js';

export function startCli(args: string[], { cwd, env = {} }: { cwd: string; env?: NodeJS.ProcessEnv }): ChildProcess {
  return track(spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

export async function runCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }) {
  return waitExit(startCli(args, opts));
}

/** Resolve when stderr has printed `count` lines matching `re`. */
export function waitForStderr(child: ChildProcess, re: RegExp, count = 1): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (re.test(l) && ++seen >= count) {
        child.stderr!.off('data', onData);
        resolve();
        return;
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', () => reject(new Error(`exited before ${count} line(s) matching ${re}`)));
  });
}
