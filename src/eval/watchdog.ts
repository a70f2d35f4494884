// A run's watchdog: if the runner itself dies (kill -9, a crash), nobody is left
// to end the targets' process groups, and they would outlive the run. So each
// run starts this small detached process. It polls the runner's pid and, when
// the runner is gone, SIGKILLs every group listed in the run's pgid file. It
// exits as soon as the runner removes that file (a normal end) or the runner dies.
import { spawn } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const SCRIPT = `
const fs = require('node:fs');
const [runner, file] = [Number(process.argv[1]), process.argv[2]];
const dead = () => {
  try { process.kill(runner, 0); } catch { return true; }
  try {
    const stat = fs.readFileSync('/proc/' + runner + '/stat', 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X';
  } catch { return false; }
};
const timer = setInterval(() => {
  let text;
  try { text = fs.readFileSync(file, 'utf8'); } catch { process.exit(0); }
  if (!dead()) return;
  for (const pid of text.split('\\n').filter(Boolean).map(Number)) {
    try { process.kill(-pid, 'SIGKILL'); } catch {}
  }
  try { fs.unlinkSync(file); } catch {}
  clearInterval(timer);
  process.exit(0);
}, 200);
`;

export class Watchdog {
  private readonly file: string;

  /** Start watching the current process on behalf of run `runId`. */
  constructor({ localDir, runId }: { localDir: string; runId: string }) {
    this.file = path.join(localDir, 'pgids', `${runId}.${process.pid}`);
    mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileSync(this.file, '');
    const child = spawn(process.execPath, ['-e', SCRIPT, String(process.pid), this.file], { detached: true, stdio: 'ignore' });
    child.unref();
  }

  /** The process groups to end if the runner dies (written atomically). */
  update(pids: number[]): void {
    const tmp = `${this.file}.tmp`;
    try {
      writeFileSync(tmp, pids.map((p) => `${p}\n`).join(''));
      renameSync(tmp, this.file);
    } catch {
      // The watchdog keeps the previous list; a missing file only makes it exit.
    }
  }

  /** The run ended in this process: the watchdog exits on its next poll. */
  stop(): void {
    rmSync(this.file, { force: true });
  }
}
