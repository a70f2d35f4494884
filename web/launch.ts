// Launching a run from any page: POST /api/eval/run, then open the job's page.
import type { EvalRunRequest } from '../src/schemas/studio.js';
import { api } from './api.js';
import { navigate } from './state.js';

/** Resolves once the job page is open; rejects with the server's error. */
export async function launchAndFollow(body: EvalRunRequest): Promise<void> {
  const job = await api.launch(body);
  navigate(`/jobs/${encodeURIComponent(job.id)}`);
}
