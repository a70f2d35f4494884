// The worker thread that loads suites for Studio's launch form and launch checks, so a
// huge suite (tens of MB of YAML) parses off the server's event loop: every other
// request keeps being answered while it loads. One message in, one answer out.
import { parentPort } from 'node:worker_threads';
import { AgentvError } from '../errors.js';
import { loadSuite } from '../eval/suite.js';
import type { SuiteEntry } from '../schemas/studio.js';

/** At most this many distinct tag sets are sent per suite; beyond it the form cannot count a tag selection. */
const MAX_TAG_SETS = 200;

/** What the launch form knows of a loaded suite: its size and the tag sets its tests carry. */
export function suiteEntry(s: { path: string; name: string; tests: { tags: string[] }[] }): SuiteEntry {
  const sets = new Map<string, { tags: string[]; test_count: number }>();
  for (const t of s.tests) {
    if (!t.tags.length) continue;
    const tags = [...new Set(t.tags)].sort();
    const key = tags.join('\u0000');
    const e = sets.get(key);
    if (e) e.test_count++;
    else sets.set(key, { tags, test_count: 1 });
  }
  return { path: s.path, name: s.name, test_count: s.tests.length, tag_sets: sets.size > MAX_TAG_SETS ? null : [...sets.values()] };
}

export interface SuiteJob {
  id: number;
  path: string;
  repoDir: string;
}

export type SuiteAnswer =
  | { id: number; ok: true; suite: SuiteEntry }
  | { id: number; ok: false; error: { code: string; message: string; data: Record<string, unknown> } };

parentPort?.on('message', async (job: SuiteJob) => {
  let answer: SuiteAnswer;
  try {
    const s = await loadSuite({ path: job.path, repoDir: job.repoDir });
    answer = { id: job.id, ok: true, suite: suiteEntry(s) };
  } catch (e) {
    answer =
      e instanceof AgentvError
        ? { id: job.id, ok: false, error: { code: e.code, message: e.message, data: JSON.parse(JSON.stringify(e.data ?? {})) } }
        : { id: job.id, ok: false, error: { code: 'INTERNAL', message: (e as Error)?.message ?? String(e), data: {} } };
  }
  parentPort!.postMessage(answer);
});
