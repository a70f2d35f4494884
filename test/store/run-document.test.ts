// showRun builds the run document (RunDetailResponse) from values its readers
// checked, without parsing it again (that would load zod for `runs show`). Each
// document must be exactly what the schema's parse makes of it: the same
// values, keys in the same order (the bytes `runs show --json` prints).
import { afterEach, describe, expect, it } from 'vitest';
import { RunDetailResponse } from '../../src/schemas/api.js';
import type { StoredInput } from '../../src/schemas/input.js';
import { createRun, finishRun, inputRefOf, openStore, showRun, updateRun, type Store } from '../../src/store/index.js';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';

afterEach(cleanupRepos);

const text: StoredInput = { prompt: 'Say hi', messages: null, vars: { input: 'hi', n: 2 }, expected_output: 'hi' };
const chat: StoredInput = { prompt: null, messages: [{ role: 'user', content: 'hi' }], vars: { input: [{ role: 'user', content: 'hi' }] }, expected_output: null };

function expectSchemaShape(doc: unknown) {
  expect(JSON.stringify(doc)).toBe(JSON.stringify(RunDetailResponse.parse(doc)));
}

async function seed(store: Store) {
  const inputs = new Map([text, chat].map((i) => [inputRefOf(i), i]));
  const [textRef, chatRef] = [...inputs.keys()];
  // A finished run with a grader, tags, options, a retried test (history), a regraded row, rare row fields and both input kinds.
  await createRun({
    store,
    manifest: makeManifest('done', {
      tests: 4,
      grader: { name: 'judge', provider: 'openai', config_hash: 'g' },
      tags: ['nightly'],
      options: { suite_paths: ['s.yaml'], target: 'echo', grader: 'judge', workers: 2, test_ids: [], tags: ['nightly'], reuse: true },
    }),
  });
  const rows = [
    makeRow('t1', { input_ref: textRef, execution_status: 'execution_error', passed: false, score: 0, output: null, error: 'boom', error_phase: 'target' }),
    makeRow('t2', { input_ref: chatRef, assertions: [{ type: 'contains', passed: true, score: 1, reason: null, metric: 'tone', weight: 2 }] }),
    makeRow('t3', { carried_from: 'earlier', trace: { tool_calls: [{ tool: 'search', args: { q: 'x' } }], llm_calls: 2 } }),
  ];
  await updateRun({ store, runId: 'done', update: { rows, inputs, subject: 'rows' } });
  await updateRun({ store, runId: 'done', update: { rows: [makeRow('t1', { attempt: 2, input_ref: textRef }), makeRow('t2', { grade_seq: 1, input_ref: chatRef, passed: false, execution_status: 'quality_failure', score: 0.2, assertions: [{ type: 'llm-rubric', passed: false, score: 0.2, reason: 'curt', metric: 'tone' }] })], subject: 'again' } });
  await finishRun({ store, runId: 'done', status: 'completed' });
  // A run still running (no counts in its manifest, one test done) and a stopped one with tests that never ran.
  await createRun({ store, manifest: makeManifest('live', { tests: 3 }) });
  await updateRun({ store, runId: 'live', update: { rows: [makeRow('t1')], subject: 'rows' } });
  await createRun({ store, manifest: makeManifest('halted', { tests: 3 }) });
  await updateRun({ store, runId: 'halted', update: { rows: [makeRow('t2')], subject: 'rows' } });
  await finishRun({ store, runId: 'halted', status: 'stopped' });
}

describe('the run document', () => {
  it('is what RunDetailResponse.parse makes of it, with and without results and history', async () => {
    const store = await openStore({ repoDir: makeRepo() });
    await seed(store);
    let documents = 0;
    for (const runId of ['done', 'live', 'halted']) {
      for (const opts of [{}, { history: true }, { results: false }]) {
        const doc = await showRun({ store, runId, ...opts });
        expectSchemaShape(doc);
        documents++;
      }
    }
    const done = await showRun({ store, runId: 'done', history: true });
    // The document holds what the cases are for (so the check above is not vacuous).
    expect(done.history?.length).toBe(2);
    expect(done.results.map((r) => r.input?.prompt ?? r.input?.messages?.[0]?.content ?? null)).toEqual(['Say hi', 'hi', null]);
    expect(done.results[2]!.trace?.tool_calls[0]?.tool).toBe('search');
    expect(done.metrics).toEqual([expect.objectContaining({ metric: 'tone' })]);
    expect((await showRun({ store, runId: 'halted' })).missing_test_ids).toEqual(['t1', 't3']);
    expect(documents).toBe(9);
    store.close();
  });
});
