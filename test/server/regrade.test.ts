// POST /api/runs/:run_id/regrade: Studio starts `agentv regrade` as a job
// (202), refuses it read-only (403), for an unknown run (404) and while the run
// is running (409). The jobs are the real CLI as child processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitJob } from '../helpers/jobs.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { cleanupRepos, makeRepo, tempDir } from '../helpers/repo.js';
import { CLI, ROOT, waitExit } from '../helpers/proc.js';
import { runCli, startCli, waitForStderr } from '../helpers/cli.js';
import { buildApp, type StudioApp } from '../../src/server/app.js';
import { openStore, type Store } from '../../src/store/index.js';

const AGENT = path.join(ROOT, 'fixtures/agents/sleepy.mjs');
let dir: string;
let log: string;
let store: Store;
let studio: StudioApp;
let app: FastifyInstance;

const suite = (value: string) =>
  `name: graded\ntests:\n  - id: quick\n    vars: { input: "sleep:5" }\n    assert: [{ type: contains, value: ${value} }]\n  - id: hang\n    vars: { input: "sleep:hang" }\n    tags: [slow]\n`;

beforeAll(async () => {
  dir = makeRepo();
  log = path.join(tempDir(), 'calls.log');
  writeFileSync(path.join(dir, 'suite.yaml'), suite('done'));
  mkdirSync(path.join(dir, '.agentv'));
  // Every call of the target is logged, so the test can tell that a re-grade made none.
  writeFileSync(path.join(dir, '.agentv/targets.yaml'), `targets:\n  - name: sleepy\n    provider: cli\n    command: "echo {TEST_ID} >> ${log}; node ${AGENT} {PROMPT}"\ndefaults:\n  target: sleepy\n`);
  store = await openStore({ repoDir: dir });
  studio = await buildApp({ store, cliPath: CLI });
  app = studio.app;
});
afterAll(async () => {
  await app.close();
  store.close();
  cleanupRepos();
});


const calls = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);

describe('POST /api/runs/:run_id/regrade', () => {
  it('starts agentv regrade as a job: 202, no target call, the verdict changes; 404 for an unknown run', async () => {
    const r = await runCli(['eval', 'suite.yaml', '--run-id', 'rg1', '--test-id', 'quick'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(calls()).toEqual(['quick']);
    writeFileSync(path.join(dir, 'suite.yaml'), suite('nope'));
    const res = await app.inject({ method: 'POST', url: '/api/runs/rg1/regrade' });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ run_id: 'rg1', status: 'starting', command: 'agentv regrade rg1' });
    const done = await waitJob(studio, body.id, ['finished', 'failed', 'stopped']);
    expect(done).toMatchObject({ kind: 'regrade', status: 'finished', exit_code: 1, outcome: 'failed', suite: 'graded', progress: { to_execute: 1, done: 1, failed: 1 } });
    expect(calls()).toEqual(['quick']);
    const detail = (await app.inject('/api/runs/rg1?history=true')).json();
    expect(detail.results[0]).toMatchObject({ test_id: 'quick', passed: false, grade_seq: 1 });
    expect(detail.history[0]).toMatchObject({ test_id: 'quick', passed: true });
    expect((await app.inject({ method: 'POST', url: '/api/runs/20990101-000000-nope00/regrade' })).statusCode).toBe(404);
  });

  it('is still a regrade job after a Studio restart: by job id, in the jobs list, and adopted by run id', async () => {
    writeFileSync(path.join(dir, 'suite.yaml'), suite('done'));
    const res = await app.inject({ method: 'POST', url: '/api/runs/rg1/regrade' });
    expect(res.statusCode).toBe(202);
    const id = res.json().id as string;
    // A restart while the job runs: a new app over the same repository.
    const during = await buildApp({ store, cliPath: CLI });
    expect((await during.app.inject(`/api/eval/status/${id}`)).json()).toMatchObject({ id, kind: 'regrade', run_id: 'rg1' });
    await during.app.close();
    await waitJob(studio, id, ['finished', 'failed', 'stopped']);
    const after = await buildApp({ store, cliPath: CLI });
    expect((await after.app.inject(`/api/eval/status/${id}`)).json()).toMatchObject({ id, kind: 'regrade', status: 'finished', outcome: 'passed' });
    const listed = (await after.app.inject('/api/jobs')).json().jobs.find((j: { id: string }) => j.id === id);
    expect(listed).toMatchObject({ kind: 'regrade', run_id: 'rg1' });
    // The run's own page links its job by run id: the kind comes from the run's events (regraded last).
    expect((await after.app.inject('/api/eval/status/rg1')).json()).toMatchObject({ run_id: 'rg1', kind: 'regrade' });
    await after.app.close();
  });

  it('409 while the run is running', async () => {
    const child = startCli(['eval', 'suite.yaml', '--run-id', 'rg-live', '--test-id', 'hang'], { cwd: dir });
    await waitForStderr(child, /^run rg-live/);
    for (;;) if ((await app.inject('/api/runs/rg-live')).statusCode === 200) break;
    const res = await app.inject({ method: 'POST', url: '/api/runs/rg-live/regrade' });
    expect(res.statusCode).toBe(409);
    child.kill('SIGKILL');
    await waitExit(child);
  });

  it('403 in read-only mode', async () => {
    const ro = await buildApp({ store, cliPath: CLI, readOnly: true });
    expect((await ro.app.inject({ method: 'POST', url: '/api/runs/rg1/regrade' })).statusCode).toBe(403);
    await ro.app.close();
  });
});
