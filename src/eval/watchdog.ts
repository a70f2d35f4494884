// A run's watchdog: if the runner itself dies (kill -9, a crash), nobody is left
// to end the targets' process groups, and they would outlive the run. So each
// run starts this small detached process — when its first process group is
// registered (a run whose targets and graders spawn nothing, such as echo,
// never pays for a second Node). It polls the runner's pid and, when
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
  private started = false;
  private stopped = false;

  /** Watch the current process on behalf of run `runId` (the process starts with the first group). */
  constructor({ localDir, runId }: { localDir: string; runId: string }) {
    this.file = path.join(localDir, 'pgids', `${runId}.${process.pid}`);
  }

  /** The process groups to end if the runner dies (written atomically; the file before the watcher). */
  update(pids: number[]): void {
    if (this.stopped || (!this.started && pids.length === 0)) return;
    if (!this.started) mkdirSync(path.dirname(this.file), { recursive: true });
    this.write(pids);
    if (this.started) return;
    this.started = true;
    const child = spawn(process.execPath, ['-e', SCRIPT, String(process.pid), this.file], { detached: true, stdio: 'ignore' });
    child.unref();
  }

  private write(pids: number[]): void {
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
    this.stopped = true;
    rmSync(this.file, { force: true });
  }
}
