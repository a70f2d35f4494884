// Waiting on Studio jobs in API tests: event-driven (the job registry's
// subscription), never a polling sleep.
import type { JobStatus } from '../../src/schemas/studio.js';
import type { StudioApp } from '../../src/server/app.js';

/** Resolve when the job reaches a state in `states`. */
export function waitJob(s: Pick<StudioApp, 'jobs'>, id: string, states: string[]): Promise<JobStatus> {
  return new Promise((resolve) => {
    let done = false;
    const check = (st: JobStatus) => {
      if (!done && states.includes(st.status)) {
        done = true;
        off();
        resolve(st);
      }
    };
    const off = s.jobs.subscribe(id, check);
    void s.jobs.get(id).then((st) => st && check(st));
  });
}
