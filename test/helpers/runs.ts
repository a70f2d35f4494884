// Synthetic manifests and rows for store tests.
import type { Manifest } from '../../src/schemas/manifest.js';
import type { Row } from '../../src/schemas/row.js';
import os from 'node:os';
import { buildIndexFiles, manifestPath, serializeManifest, summaryOf, type Edits, type Store } from '../../src/store/index.js';

export function makeManifest(runId: string, opts: Partial<Manifest> & { tests?: number } = {}): Manifest {
  const n = opts.tests ?? 3;
  const planned = Array.from({ length: n }, (_, i) => ({ test_id: `t${i + 1}`, input_hash: `h${i + 1}` }));
  const { tests: _t, ...rest } = opts;
  return {
    schema_version: 1,
    run_id: runId,
    suite: { name: 'demo', path: 'suites/demo.yaml' },
    suite_hash: 'abc',
    target: { name: 'echo', provider: 'echo', config_hash: 'x' },
    grader: null,
    planned_tests: planned,
    planned_test_count: n,
    source_commit: null,
    source_dirty: false,
    argv: ['eval'],
    agentv_version: 'test',
    host: os.hostname(),
    started_at: new Date(Date.UTC(2026, 0, 1) + Number(runId.replace(/\D/g, '') || 0) * 1000).toISOString(),
    finished_at: null,
    status: 'running',
    counts: null,
    tags: [],
    options: { suite_paths: [], target: null, grader: null, workers: null, test_ids: [], tags: [] },
    owner: null,
    events: [],
    retry_of: null,
    ...rest,
  };
}

export function makeRow(testId: string, opts: Partial<Row> = {}): Row {
  const now = new Date().toISOString();
  return {
    test_id: testId,
    input_hash: `h${testId.slice(1)}`,
    execution_status: 'ok',
    passed: true,
    score: 1,
    assertions: [],
    output: `out ${testId}`,
    error: null,
    duration_ms: 1,
    started_at: now,
    finished_at: now,
    attempt: 1,
    token_usage: null,
    cost_usd: null,
    ...opts,
  };
}

/**
 * Many runs in one commit (manifests plus an index built by buildIndexFiles,
 * sealed chunks included) into an empty store: what createRun would leave,
 * without a commit per run. Paging tests need hundreds of runs, not hundreds of commits.
 */
export async function bulkCreateRuns(store: Store, manifests: Manifest[]): Promise<void> {
  await store.commit({
    subject: `test: ${manifests.length} runs`,
    runId: null,
    sourceCommit: null,
    change: async (tip) => {
      if (tip) throw new Error('bulkCreateRuns needs an empty store');
      const edits: Edits = new Map();
      for (const m of manifests) edits.set(manifestPath(m.run_id), serializeManifest(m));
      for (const [p, v] of buildIndexFiles(manifests.map(summaryOf))) edits.set(p, v);
      return edits;
    },
  });
}
