// The `script` assertion: spawns an argv command with the test, output and vars as JSON on
// stdin. It judges by printing {pass, score?, reason?} or by its exit code. The child runs
// in its own process group, and the whole group is killed on timeout, on abort and once
// the child exits, so nothing it started outlives the assertion.
import { spawn } from 'node:child_process';
import { clamp01, type Verdict } from './verdict.js';

const MAX_CAPTURE = 1024 * 1024;

function tail(s: string, max = 500): string {
  const t = s.trim();
  return t.length > max ? `…${t.slice(-max)}` : t;
}

/** The script's JSON verdict: its whole stdout, or else its last non-empty line. */
function jsonVerdict(stdout: string): Verdict | null {
  const lines = stdout.trim().split('\n').filter((l) => l.trim() !== '');
  for (const candidate of [stdout.trim(), lines[lines.length - 1] ?? '']) {
    let v: unknown;
    try {
      v = JSON.parse(candidate);
    } catch {
      continue;
    }
    if (v === null || typeof v !== 'object' || typeof (v as { pass?: unknown }).pass !== 'boolean') continue;
    const { pass, score, reason } = v as { pass: boolean; score?: unknown; reason?: unknown };
    return {
      pass,
      score: typeof score === 'number' ? clamp01(score) : pass ? 1 : 0,
      reason: typeof reason === 'string' ? reason : null,
    };
  }
  return null;
}

/**
 * Runs a script assertion. Resolves with the script's verdict; rejects when it could not
 * judge (cannot spawn, timed out, aborted).
 * @example await runScript({ command: ['node', 'check.js'], stdin: { output: 'hi' }, cwd, timeoutMs: 60_000, signal })
 */
export function runScript({
  command,
  stdin,
  cwd,
  timeoutMs = 60_000,
  signal,
}: {
  command: string[];
  stdin: unknown;
  cwd: string;
  timeoutMs?: number;
  signal: AbortSignal;
}): Promise<Verdict> {
  const [file, ...args] = command;
  if (!file) return Promise.reject(new Error('script has no command'));
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stoppedBecause: string | null = null;
    let settled = false;
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const stop = (why: string) => {
      stoppedBecause ??= why;
      killGroup();
    };
    const timer = setTimeout(() => stop(`timed out after ${timeoutMs} ms`), timeoutMs);
    const onAbort = () => stop('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_CAPTURE) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_CAPTURE) stderr += d;
    });
    child.stdin.on('error', () => {
      // The script may exit without reading its input (EPIPE); its verdict still counts.
    });
    child.stdin.end(JSON.stringify(stdin));
    child.on('error', (err) => settle(() => reject(new Error(`cannot run script ${JSON.stringify(file)}: ${err.message}`))));
    // Kill leftovers in the group at once: a background grandchild holding stdout open
    // would otherwise keep 'close' from ever firing.
    child.on('exit', killGroup);
    child.on('close', (code, sig) =>
      settle(() => {
        if (stoppedBecause) return reject(new Error(`script ${stoppedBecause}`));
        const fromJson = jsonVerdict(stdout);
        if (fromJson) return resolve(fromJson);
        if (code === 0) return resolve({ pass: true, score: 1, reason: tail(stdout) || null });
        const why = code === null ? `killed by ${sig}` : `exit code ${code}`;
        const detail = tail(stderr) || tail(stdout);
        resolve({ pass: false, score: 0, reason: detail ? `${why}: ${detail}` : why });
      }),
    );
  });
}
