// Durations exclude the time a run sat stopped (SPEC 4.2 "Truth"): the index
// row records the run's active time from its lifecycle events, so the runs
// list (CLI, API, viewer) shows the same duration as the run's own page, and
// `reindex` computes the same value from the manifest. Clocks are fixed: the
// run is "stopped for a day" without anyone waiting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';
import { runCli } from '../helpers/cli.js';
import { CLI } from '../helpers/proc.js';
import { buildApp } from '../../src/server/app.js';
import { IndexView, RunRecorder, buildIndexFiles, listRuns, openStore, reindex, showRun, updateRun, type Store } from '../../src/store/index.js';
import { activeMs, summaryDurationMs } from '../../src/store/tally.js';

const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);
const DAY = 86_400_000;
let clock = T0;
let dir: string;
let store: Store;
let app: FastifyInstance;

beforeAll(async () => {
  dir = makeRepo();
  store = await openStore({ repoDir: dir, now: () => new Date(clock) });
  app = (await buildApp({ store, cliPath: CLI })).app;
});
afterAll(async () => {
  await app.close();
  store.close();
  cleanupRepos();
});

const row = async (runId: string) => (await listRuns({ store, query: { limit: 50 } })).runs.find((r) => r.run_id === runId)!;

describe('a run stopped, left for a day, then resumed', () => {
  it('records its active time in the index row; the list, the API, the run document and reindex agree and exclude the gap', async () => {
    const runId = 'dur1';
    const rec = new RunRecorder({ store, runId, mode: 'new' });
    // Another machine's run: read as running (its owner is not guessed dead).
    await rec.start({ manifest: makeManifest(runId, { tests: 3, started_at: new Date(T0).toISOString(), host: 'ci-runner-7' }) });
    // While it runs, the row says since when: the list adds the current span.
    expect(await row(runId)).toMatchObject({ status: 'running', active_ms: 0, running_since: new Date(T0).toISOString() });
    clock = T0 + 10_000;
    await updateRun({ store, runId, update: { subject: 'rows', rows: [makeRow('t1')] } });
    await new RunRecorder({ store, runId, mode: 'new' }).finish('stopped');
    expect(await row(runId)).toMatchObject({ status: 'stopped', active_ms: 10_000, running_since: null });

    // A day later: resumed. The day stopped is not counted, while running either.
    clock = T0 + DAY;
    const resumed = new RunRecorder({ store, runId, mode: 'resume' });
    await resumed.resume({ mode: 'resume', planned: 2, patch: (m) => m });
    const live = await row(runId);
    expect(live).toMatchObject({ status: 'running', active_ms: 10_000, running_since: new Date(T0 + DAY).toISOString() });
    expect(summaryDurationMs(live, T0 + DAY + 3_000)).toBe(13_000);

    clock = T0 + DAY + 5_000;
    await updateRun({ store, runId, update: { subject: 'rows', rows: [makeRow('t2'), makeRow('t3')] } });
    await resumed.finish('completed');
    const done = await row(runId);
    expect(done).toMatchObject({ status: 'completed', active_ms: 15_000, running_since: null });
    expect(summaryDurationMs(done)).toBe(15_000);
    // The wall span is a day and 5 s; only the 15 s of running count.
    expect(Date.parse(done.finished_at!) - Date.parse(done.started_at)).toBe(DAY + 5_000);

    // The run's page computes the same from its events.
    const detail = await showRun({ store, runId, results: false });
    expect(activeMs(detail.events, detail.run.started_at, detail.run.finished_at)).toBe(15_000);

    // The API carries it as the index has it.
    const api = (await app.inject('/api/runs?limit=50')).json() as { runs: { run_id: string; active_ms: number }[] };
    expect(api.runs.find((r) => r.run_id === runId)!.active_ms).toBe(15_000);

    // reindex derives the same value from the manifest: no drift.
    const check = await reindex({ store, check: true });
    expect(check.drift).toEqual([]);

    // The CLI table shows 15 s, not a day.
    const cli = await runCli(['runs', 'list'], { cwd: dir });
    expect(cli.code).toBe(0);
    const line = cli.stdout.split('\n').find((l) => l.startsWith(runId))!;
    expect(line.trim().split(/\s+/).pop()).toBe('15.0s');
    const json = JSON.parse((await runCli(['runs', 'list', '--json'], { cwd: dir })).stdout) as { runs: { run_id: string; active_ms: number }[] };
    expect(json.runs.find((r) => r.run_id === runId)!.active_ms).toBe(15_000);
  });

  it('an index written before active_ms is not drift for --check; reindex adds the field', async () => {
    const tip = (await store.tip())!;
    const rows = (await new IndexView(store, tip.tree).all()).map(({ active_ms: _a, running_since: _r, ...old }) => old);
    await store.commit({ subject: 'an index as an older agentv wrote it', runId: [], sourceCommit: null, change: async () => buildIndexFiles(rows) });
    expect((await row('dur1')).active_ms).toBeUndefined();
    expect((await reindex({ store, check: true })).drift).toEqual([]);
    const r = await reindex({ store });
    expect(r.rewritten).toBe(true);
    expect((await row('dur1')).active_ms).toBe(15_000);
  });

  it('index rows written before active_ms fall back to the wall span', () => {
    const legacy = { status: 'completed', started_at: new Date(T0).toISOString(), finished_at: new Date(T0 + 7_000).toISOString() };
    expect(summaryDurationMs(legacy)).toBe(7_000);
    expect(summaryDurationMs({ ...legacy, status: 'running', finished_at: null }, T0 + 2_000)).toBe(2_000);
  });
});
