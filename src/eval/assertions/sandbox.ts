// Off-thread evaluation for assertions that can run forever on the main thread: a
// regular expression with catastrophic backtracking, or a user's javascript. Each job
// runs in a worker thread; one that overruns its time limit, or whose run is stopped,
// has its worker terminated (V8 interrupts even a running regex), so the main thread,
// and with it Ctrl+C and Studio's Stop, is never held up. Idle workers are reused.
import { Worker } from 'node:worker_threads';
import { GradingError } from './verdict.js';

// Plain CommonJS, evaluated as the worker's script (the CLI is one bundled file).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
const pick = (mod, name) => {
  if (name) return mod[name] ?? (mod.default && mod.default[name]);
  if (typeof mod.default === 'function') return mod.default;
  if (mod.default && typeof mod.default.default === 'function') return mod.default.default;
  return typeof mod === 'function' ? mod : undefined;
};
parentPort.on('message', async (job) => {
  try {
    let result;
    if (job.kind === 'regex') {
      result = new RegExp(job.pattern, job.flags).test(job.text);
    } else {
      let fn;
      if (job.file) {
        fn = pick(await import(pathToFileURL(job.file).href), job.fn);
        if (typeof fn !== 'function') throw new Error(job.fn ? 'the file exports no function "' + job.fn + '"' : 'the file exports no function');
      } else {
        fn = new Function('output', 'context', job.body);
      }
      result = await fn(job.output, job.context);
    }
    parentPort.postMessage({ ok: true, result: result === undefined ? null : JSON.parse(JSON.stringify(result) ?? 'null') });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: e && e.message ? String(e.message) : String(e) });
  }
});
`;

export type SandboxJob =
  | { kind: 'regex'; pattern: string; flags: string; text: string }
  | { kind: 'js'; body?: string; file?: string; fn?: string; output: string; context: unknown };

const idle: Worker[] = [];
const MAX_IDLE = 4;

function takeWorker(): Worker {
  const w = idle.pop();
  if (w) return w;
  const fresh = new Worker(WORKER_SOURCE, { eval: true });
  // An idle worker never keeps the process alive.
  fresh.unref();
  return fresh;
}

/**
 * Runs one job off the main thread; rejects with GradingError when it throws, overruns
 * `timeoutMs`, or `signal` aborts.
 * @example await runSandboxed({ job: { kind: 'regex', pattern: '^a+$', flags: '', text }, timeoutMs: 30_000, signal })
 */
export function runSandboxed({ job, timeoutMs, signal, what }: { job: SandboxJob; timeoutMs: number; signal: AbortSignal; what: string }): Promise<unknown> {
  if (signal.aborted) return Promise.reject(new GradingError(`${what} aborted`));
  return new Promise((resolve, reject) => {
    const worker = takeWorker();
    worker.ref();
    let done = false;
    const settle = (fn: () => void, reuse: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      worker.unref();
      if (reuse && idle.length < MAX_IDLE) idle.push(worker);
      else void worker.terminate();
      fn();
    };
    const onMessage = (m: { ok: boolean; result?: unknown; error?: string }) =>
      settle(() => (m.ok ? resolve(m.result) : reject(new GradingError(`${what} threw: ${m.error}`))), true);
    const onError = (err: Error) => settle(() => reject(new GradingError(`${what} failed: ${err.message}`)), false);
    // user code may call process.exit() in the worker: that ends only the worker
    const onExit = (code: number) => settle(() => reject(new GradingError(`${what} ended its worker (exit code ${code})`)), false);
    const onAbort = () => settle(() => reject(new GradingError(`${what} aborted`)), false);
    const timer = setTimeout(
      () => settle(() => reject(new GradingError(`${what} timed out after ${timeoutMs} ms (limits.assertion_timeout_ms)`)), false),
      timeoutMs,
    );
    signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(job);
  });
}
