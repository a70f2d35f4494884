// Typed fetch helpers for Studio's JSON API. Types come from the shared zod schemas
// via `import type` only, so zod stays out of the bundle; the server validates every
// response with the same schemas. Failures surface as ApiError with the server's code.
import type { LinksResponse } from '../src/schemas/studio.js';
import type { RunsListResponse, RunDetailResponse } from '../src/schemas/api.js';
import type { BaselineResponse, ComparePage } from '../src/schemas/compare.js';
import type { ResultsPage, TestDetail, TrendsResponse } from '../src/schemas/run-results.js';
import type {
  ConfigResponse,
  EvalRunRequest,
  EvalRunResponse,
  JobStatus,
  JobsResponse,
  StopResponse,
  SuitesResponse,
  SyncResponse,
} from '../src/schemas/studio.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } };
  if (method === 'POST') {
    // The server refuses state-changing requests that are not JSON (CSRF guard).
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(body ?? {});
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the Studio server. Is `agentv studio` still running?');
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // fall through: a non-JSON body is reported below
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? `${res.status} ${res.statusText || 'error'}`);
  }
  if (data === null) throw new ApiError(res.status, 'bad_response', `Unexpected response from ${path}`);
  return data as T;
}

const qs = (params: Record<string, string | number | boolean | null | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
};

const enc = encodeURIComponent;

export interface RunsFilter {
  suite?: string;
  target?: string;
  status?: string;
  /** 'started_at': oldest first; empty: newest first. */
  sort?: string;
}

export type ViewerConfig = ConfigResponse & LinksResponse;

export const api = {
  /** The server's config plus where commits can be seen on the web (two routes, one viewer config). */
  config: async (): Promise<ViewerConfig> => {
    const [c, l] = await Promise.all([request<ConfigResponse>('GET', '/api/config'), request<LinksResponse>('GET', '/api/links')]);
    return { ...c, commit_url: l.commit_url };
  },
  runDoc: (runId: string) => request<RunDetailResponse>('GET', `/api/runs/${enc(runId)}?results=false`),
  results: (runId: string, f: { limit?: number; cursor?: string | null; status?: string; q?: string; sort?: string }) =>
    request<ResultsPage>('GET', `/api/runs/${enc(runId)}/results${qs({ limit: f.limit ?? 100, cursor: f.cursor, status: f.status, q: f.q, sort: f.sort })}`),
  test: (runId: string, testId: string) => request<TestDetail>('GET', `/api/runs/${enc(runId)}/results/${enc(testId)}`),
  compare: (base: string, head: string, f: { limit?: number; cursor?: string | null; change?: string }) =>
    request<ComparePage>('GET', `/api/compare${qs({ base, head, limit: f.limit ?? 100, cursor: f.cursor, change: f.change })}`),
  baseline: (suite: string, target: string, rev: string) => request<BaselineResponse>('GET', `/api/baseline${qs({ suite, target, rev })}`),
  trends: (suite: string, target: string) => request<TrendsResponse>('GET', `/api/trends${qs({ suite, target, limit: 50 })}`),
  jobs: () => request<JobsResponse>('GET', '/api/jobs'),
  runs: (f: RunsFilter & { limit?: number; cursor?: string | null }) =>
    request<RunsListResponse>('GET', `/api/runs${qs({ limit: f.limit ?? 50, cursor: f.cursor, suite: f.suite, target: f.target, status: f.status, sort: f.sort || undefined })}`),
  run: (runId: string, history = false) =>
    request<RunDetailResponse>('GET', `/api/runs/${enc(runId)}${qs({ history: history || undefined })}`),
  suites: () => request<SuitesResponse>('GET', '/api/suites'),
  launch: (body: EvalRunRequest) => request<EvalRunResponse>('POST', '/api/eval/run', body),
  job: (id: string) => request<JobStatus>('GET', `/api/eval/status/${enc(id)}`),
  jobEventsUrl: (id: string) => `/api/eval/events/${enc(id)}`,
  stop: (id: string) => request<StopResponse>('POST', `/api/eval/run/${enc(id)}/stop`),
  regrade: (runId: string) => request<EvalRunResponse>('POST', `/api/runs/${enc(runId)}/regrade`),
  sync: () => request<SyncResponse>('POST', '/api/remote/sync'),
};

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
