// The worker thread that loads suites for Studio's launch form and launch checks, so a
// huge suite (tens of MB of YAML) parses off the server's event loop: every other
// request keeps being answered while it loads. One message in, one answer out.
import { parentPort } from 'node:worker_threads';
import { AgentvError } from '../errors.js';
import { loadSuite } from '../eval/suite.js';

export interface SuiteJob {
  id: number;
  path: string;
  repoDir: string;
}

export type SuiteAnswer =
  | { id: number; ok: true; suite: { path: string; name: string; test_count: number } }
  | { id: number; ok: false; error: { code: string; message: string; data: Record<string, unknown> } };

parentPort?.on('message', async (job: SuiteJob) => {
  let answer: SuiteAnswer;
  try {
    const s = await loadSuite({ path: job.path, repoDir: job.repoDir });
    answer = { id: job.id, ok: true, suite: { path: s.path, name: s.name, test_count: s.tests.length } };
  } catch (e) {
    answer =
      e instanceof AgentvError
        ? { id: job.id, ok: false, error: { code: e.code, message: e.message, data: JSON.parse(JSON.stringify(e.data ?? {})) } }
        : { id: job.id, ok: false, error: { code: 'INTERNAL', message: (e as Error)?.message ?? String(e), data: {} } };
  }
  parentPort!.postMessage(answer);
});
