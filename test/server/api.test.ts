import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitJob } from '../helpers/jobs.js';
import { SuiteEntry, type JobStatus } from '../../src/schemas/studio.js';
import { suiteEntry } from '../../src/server/suite-worker.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';
import { CLI, ROOT, waitExit } from '../helpers/proc.js';
import { startCli, waitForStderr } from '../helpers/cli.js';
import { buildApp, type StudioApp } from '../../src/server/app.js';
import { createRun, finishRun, openStore, updateRun, type Store } from '../../src/store/index.js';

const AGENT = path.join(ROOT, 'fixtures/agents/sleepy.mjs');
let dir: string;
let store: Store;
let studio: StudioApp;
let app: FastifyInstance;

function setupRepo(): string {
  const d = makeRepo();
  writeFileSync(
    path.join(d, 'suite.yaml'),
    'name: sleepy\ntests:\n  - id: quick\n    vars: { input: "sleep:5" }\n    assert: [{ type: contains, value: done }]\n  - id: hang\n    vars: { input: "sleep:hang" }\n    tags: [slow]\n',
  );
  writeFileSync(path.join(d, 'notes.yaml'), 'just: some yaml\n');
  writeFileSync(
    path.join(d, 'flaky.yaml'),
    'name: flaky\ntests:\n  - id: fine\n    vars: { input: "sleep:5" }\n  - id: broken\n    vars: { input: "sleep:5 fail-exit" }\n',
  );
  mkdirSync(path.join(d, '.agentv'));
  writeFileSync(path.join(d, '.agentv/targets.yaml'), `targets:\n  - name: sleepy\n    provider: cli\n    command: node ${AGENT} {PROMPT}\ndefaults:\n  target: sleepy\n`);
  return d;
}

beforeAll(async () => {
  dir = setupRepo();
  store = await openStore({ repoDir: dir });
  for (let i = 1; i <= 5; i++) {
    await createRun({ store, manifest: makeManifest(`seed${i}`, { suite: { name: i % 2 ? 'odd' : 'even', path: 'x.yaml' } }) });
    await finishRun({ store, runId: `seed${i}`, status: 'completed' });
  }
  studio = await buildApp({ store, cliPath: CLI, version: '1.2.3' });
  app = studio.app;
});
afterAll(async () => {
  await app.close();
  store.close();
  cleanupRepos();
});

const json = { 'content-type': 'application/json' };


describe('reading runs', () => {
  it('GET /api/config', async () => {
    const r = await app.inject('/api/config');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ read_only: false, repo: dir, ref: 'refs/agentv/runs/v1', remote: null, version: '1.2.3' });
    expect((await app.inject('/api/links')).json()).toEqual({ commit_url: null });
  });

  it('GET /api/runs pages newest first with an opaque cursor and filters', async () => {
    const first = await app.inject('/api/runs?limit=2');
    expect(first.statusCode).toBe(200);
    const page = first.json();
    expect(page.runs.map((r: { run_id: string }) => r.run_id)).toEqual(['seed5', 'seed4']);
    const next = (await app.inject(`/api/runs?limit=2&cursor=${encodeURIComponent(page.next_cursor)}`)).json();
    expect(next.runs.map((r: { run_id: string }) => r.run_id)).toEqual(['seed3', 'seed2']);
    const odd = (await app.inject('/api/runs?suite=odd&status=completed')).json();
    expect(odd.runs.map((r: { run_id: string }) => r.run_id)).toEqual(['seed5', 'seed3', 'seed1']);
    expect(odd.next_cursor).toBeNull();
    // sort=started_at: oldest first, its cursor continuing that order.
    const oldest = (await app.inject('/api/runs?limit=2&sort=started_at')).json();
    expect(oldest.runs.map((r: { run_id: string }) => r.run_id)).toEqual(['seed1', 'seed2']);
    const after = (await app.inject(`/api/runs?limit=2&sort=started_at&cursor=${encodeURIComponent(oldest.next_cursor)}`)).json();
    expect(after.runs.map((r: { run_id: string }) => r.run_id)).toEqual(['seed3', 'seed4']);
    expect((await app.inject(`/api/runs?limit=2&cursor=${encodeURIComponent(oldest.next_cursor)}`)).statusCode).toBe(400);
  });

  it('an unchanged ref costs no git call; a moved ref is noticed', async () => {
    await app.inject('/api/runs');
    const before = studio.cache.gitLookups;
    await app.inject('/api/runs');
    await app.inject('/api/runs?limit=3');
    expect(studio.cache.gitLookups).toBe(before);
    await createRun({ store, manifest: makeManifest('seed6') });
    const r = (await app.inject('/api/runs?limit=1')).json();
    expect(r.runs[0].run_id).toBe('seed6');
    expect(studio.cache.gitLookups).toBe(before + 1);
  });

  it('GET /api/runs/:run_id with and without history', async () => {
    const r = await app.inject('/api/runs/seed1?history=true');
    expect(r.statusCode).toBe(200);
    expect(Object.keys(r.json()).sort()).toEqual(['events', 'has_not_ok', 'history', 'is_resumable', 'metrics', 'missing_test_ids', 'planned_test_count', 'results', 'resume_reason', 'run'].sort());
    expect((await app.inject('/api/runs/seed1')).json().history).toBeUndefined();
  });

  it('rejects bad queries and ids with 400, unknown runs with 404, and never leaks a stack', async () => {
    for (const url of ['/api/runs?limit=0', '/api/runs?limit=abc', '/api/runs?status=nope', '/api/runs?sort=score', '/api/runs?cursor=garbage', '/api/runs/..%2Fetc', '/api/runs/a%20b']) {
      const r = await app.inject(url);
      expect(r.statusCode, url).toBe(400);
      expect(r.json().error.message).toBeTruthy();
      expect(r.body).not.toMatch(/\n\s+at |node_modules/);
    }
    const missing = await app.inject('/api/runs/no-such-run');
    expect(missing.statusCode).toBe(404);
    expect((await app.inject('/api/nothing')).statusCode).toBe(404);
  });

  it('GET /api/suites lists loadable suites and configured targets', async () => {
    const r = (await app.inject('/api/suites')).json();
    expect(r.suites).toEqual([
      { path: 'flaky.yaml', name: 'flaky', test_count: 2, tag_sets: [] },
      { path: 'suite.yaml', name: 'sleepy', test_count: 2, tag_sets: [{ tags: ['slow'], test_count: 1 }] },
    ]);
    expect(r.targets.map((t: { name: string }) => t.name)).toEqual(['sleepy', 'echo', 'mock']);
    expect(r.default_target).toBe('sleepy');
  });

  it('a suite entry carries its tag sets, so the form counts what a tag selection picks', () => {
    const tests = [{ tags: ['slow', 'smoke'] }, { tags: ['smoke', 'slow'] }, { tags: ['smoke'] }, { tags: [] }];
    const e = SuiteEntry.parse(suiteEntry({ path: 'x.yaml', name: 'x', tests }));
    expect(e).toEqual({
      path: 'x.yaml',
      name: 'x',
      test_count: 4,
      tag_sets: [
        { tags: ['slow', 'smoke'], test_count: 2 },
        { tags: ['smoke'], test_count: 1 },
      ],
    });
    // Too many distinct sets to be worth sending: null, and the form falls back to typed tags.
    expect(suiteEntry({ path: 'y.yaml', name: 'y', tests: Array.from({ length: 500 }, (_, i) => ({ tags: [`t${i}`] })) }).tag_sets).toBeNull();
  });
});

describe('security', () => {
  it('403 for a foreign Host (DNS rebinding) on any route', async () => {
    const r = await app.inject({ url: '/api/runs', headers: { host: 'evil.example:3117' } });
    expect(r.statusCode).toBe(403);
    expect((await app.inject({ url: '/api/config', headers: { host: 'localhost:3117' } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/config', headers: { host: '[::1]:3117' } })).statusCode).toBe(200);
  });

  it('403 for a state-changing request with a foreign Origin', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/eval/run', headers: { ...json, origin: 'https://evil.example' }, payload: { suite: 'suite.yaml' } });
    expect(r.statusCode).toBe(403);
    const nullOrigin = await app.inject({ method: 'POST', url: '/api/eval/run/job-000000000000/stop', headers: { origin: 'null' } });
    expect(nullOrigin.statusCode).toBe(403);
  });

  it('415 for a body that is not application/json', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await app.inject({ method: 'POST', url: '/api/eval/run', headers: { 'content-type': type }, payload: 'suite=suite.yaml' });
      expect(r.statusCode, type).toBe(415);
    }
  });

  it('400 for invalid bodies, combined resume modes and target definitions; 404 for unknown suite, target, run', async () => {
    const post = (payload: unknown) => app.inject({ method: 'POST', url: '/api/eval/run', headers: json, payload: JSON.stringify(payload) });
    expect((await post({})).statusCode).toBe(400);
    expect((await post({ suite: 'suite.yaml', workers: 'many' })).statusCode).toBe(400);
    expect((await post({ suite: 'suite.yaml', command: 'rm -rf /' })).statusCode).toBe(400);
    const both = await post({ suite: 'suite.yaml', resume: true, rerun_failed: true, run_id: 'seed1' });
    expect(both.statusCode).toBe(400);
    expect(both.json().error.message).toMatch(/cannot be combined/);
    expect((await post({ suite: '../outside.yaml' })).statusCode).toBe(400);
    expect((await post({ suite: 'missing.yaml' })).statusCode).toBe(404);
    expect((await post({ suite: 'suite.yaml', target: 'exec:touch /tmp/pwned' })).statusCode).toBe(404);
    expect((await post({ suite: 'suite.yaml', target: 'nope' })).statusCode).toBe(404);
    expect((await post({ suite: 'suite.yaml', resume: true, run_id: 'no-such-run' })).statusCode).toBe(404);
    expect((await post({ suite: 'suite.yaml', run_id: '../../x' })).statusCode).toBe(400);
    expect((await post({ suite: 'suite.yaml', reuse: 'yes' })).statusCode).toBe(400);
    const reuseRerun = await post({ suite: 'suite.yaml', rerun_failed: true, run_id: 'seed1', reuse: true });
    expect(reuseRerun.statusCode).toBe(400);
    expect(reuseRerun.json().error.message).toMatch(/reuse does not go with rerun_failed/);
    // Only loadable suites launch: not any file in the repository, not a broken suite.
    expect((await post({ suite: '.git/config' })).statusCode).toBe(404);
    writeFileSync(path.join(dir, 'broken.yaml'), 'tests:\n  - id: a\n  - id: a\n');
    const broken = await post({ suite: 'broken.yaml' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('SUITE_INVALID');
    // A new run may not take an existing run's id.
    expect((await post({ suite: 'suite.yaml', run_id: 'seed1' })).statusCode).toBe(400);
    const bad = await app.inject({ method: 'POST', url: '/api/eval/run', headers: json, payload: '{not json' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).not.toMatch(/\n\s+at /);
  });

  it('read-only mode answers 403 to launching and stopping, and still serves reads', async () => {
    const ro = await buildApp({ store, cliPath: CLI, readOnly: true });
    expect((await ro.app.inject('/api/config')).json().read_only).toBe(true);
    expect((await ro.app.inject({ method: 'POST', url: '/api/eval/run', headers: json, payload: { suite: 'suite.yaml' } })).statusCode).toBe(403);
    expect((await ro.app.inject({ method: 'POST', url: '/api/eval/run/job-000000000000/stop' })).statusCode).toBe(403);
    // An encoded path routes to the same handler and must be refused the same way.
    for (const url of ['/api/%65val/run', '/api/eval/%72un', '/api//eval/run']) {
      const r = await ro.app.inject({ method: 'POST', url, headers: json, payload: { suite: 'suite.yaml' } });
      expect([403, 404], url).toContain(r.statusCode);
    }
    expect((await ro.app.inject('/api/runs')).statusCode).toBe(200);
    await ro.app.close();
  });
});

describe('jobs', () => {
  it('passes reuse on as --reuse / --no-reuse (SPEC 3.9)', async () => {
    for (const [reuse, flag] of [[true, '--reuse'], [false, '--no-reuse']] as const) {
      const r = await app.inject({ method: 'POST', url: '/api/eval/run', headers: json, payload: { suite: 'suite.yaml', test_ids: ['quick'], reuse } });
      expect(r.statusCode).toBe(202);
      expect(r.json().command).toBe(`agentv eval suite.yaml --test-id quick --run-id ${r.json().run_id} ${flag}`);
      expect(await waitJob(studio, r.json().id, ['finished', 'failed', 'stopped'])).toMatchObject({ status: 'finished', exit_code: 0 });
    }
  });

  it('launches the same agentv eval a user would type, follows it and reports the finished run', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/eval/run', headers: json, payload: { suite: 'suite.yaml', test_ids: ['quick'] } });
    expect(r.statusCode).toBe(202);
    const body = r.json();
    expect(body.status).toBe('starting');
    expect(body.command).toBe(`agentv eval suite.yaml --test-id quick --run-id ${body.run_id}`);
    const done = await waitJob(studio, body.id, ['finished', 'failed', 'stopped']);
    expect(done).toMatchObject({
      status: 'finished',
      kind: 'eval',
      outcome: 'passed',
      exit_code: 0,
      exit_reason: 'completed: every test passed',
      suite: 'sleepy',
      target: 'sleepy',
      run_id: body.run_id,
      progress: { planned: 1, to_execute: 1, done: 1, passed: 1 },
    });
    const status = (await app.inject(`/api/eval/status/${body.id}`)).json();
    expect(status.log_tail.join('\n')).toContain('PASS quick');
    expect((await app.inject(`/api/runs/${body.run_id}`)).json().run.status).toBe('completed');
  });

  it('stops a running job with SIGTERM; Stop is idempotent; the run is stopped and resumable', async () => {
    const r = (await app.inject({ method: 'POST', url: '/api/eval/run', headers: json, payload: { suite: 'suite.yaml', workers: 2 } })).json();
    await waitJob(studio, r.id, ['running']);
    // Wait until the quick test has finished so the stop cuts the hung one short.
    await new Promise<void>((resolve) => {
      const off = studio.jobs.subscribe(r.id, (s) => s.progress.done >= 1 && (off(), resolve()));
    });
    const stop = await app.inject({ method: 'POST', url: `/api/eval/run/${r.id}/stop` });
    expect(stop.statusCode).toBe(202);
    expect(stop.json()).toEqual({ stopped: true, status: 'stopping' });
    expect((await app.inject({ method: 'POST', url: `/api/eval/run/${r.id}/stop` })).statusCode).toBe(202);
    const end = await waitJob(studio, r.id, ['finished', 'failed', 'stopped']);
    expect(end).toMatchObject({ status: 'stopped', exit_code: 143, exit_reason: 'stopped by SIGTERM', outcome: 'incomplete' });
    const again = await app.inject({ method: 'POST', url: `/api/eval/run/${r.id}/stop` });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ stopped: false, reason: 'already_terminal' });
    const run = (await app.inject(`/api/runs/${r.run_id}`)).json();
    expect(run).toMatchObject({ is_resumable: true, resume_reason: 'stopped' });
    expect((await app.inject({ method: 'POST', url: '/api/eval/run/job-ffffffffffff/stop' })).statusCode).toBe(404);
    expect((await app.inject('/api/eval/status/job-ffffffffffff')).statusCode).toBe(404);
  });

  it('streams job status as server-sent events until the job ends', async () => {
    const r = (await app.inject({ method: 'POST', url: '/api/eval/run', headers: json, payload: { suite: 'suite.yaml', test_ids: ['quick'] } })).json();
    await waitJob(studio, r.id, ['finished']);
    const sse = await app.inject(`/api/eval/events/${r.id}`);
    expect(sse.headers['content-type']).toContain('text/event-stream');
    const events = sse.body.split('\n\n').filter(Boolean).map((e) => JSON.parse(e.replace(/^data: /, '')));
    expect(events.at(-1).status).toBe('finished');
  });

  it('adopts a run started from a terminal: shows it running, and Stop signals its process', async () => {
    const child = startCli(['eval', 'suite.yaml', '--run-id', 'from-terminal', '--test-id', 'hang'], { cwd: dir });
    await waitForStderr(child, /^run from-terminal/);
    let status: JobStatus | null = null;
    while (status?.status !== 'running') status = (await app.inject('/api/eval/status/from-terminal')).json();
    expect(status.run_id).toBe('from-terminal');
    const stop = await app.inject({ method: 'POST', url: '/api/eval/run/from-terminal/stop' });
    expect(stop.statusCode).toBe(202);
    expect((await waitExit(child)).code).toBe(143);
    expect((await app.inject('/api/eval/status/from-terminal')).json().status).toBe('stopped');
  });

  it('a resume job that ends with exit 1 is finished with a failed outcome, and its progress counts only what it re-ran', async () => {
    const first = (await app.inject({ method: 'POST', url: '/api/eval/run', headers: json, payload: { suite: 'flaky.yaml' } })).json();
    const a = await waitJob(studio, first.id, ['finished', 'failed', 'stopped']);
    expect(a).toMatchObject({ status: 'finished', exit_code: 1, outcome: 'failed', progress: { planned: 2, to_execute: 2, done: 2, passed: 1, errored: 1 } });
    const resume = await app.inject({ method: 'POST', url: '/api/eval/run', headers: json, payload: { suite: 'flaky.yaml', resume: true, run_id: first.run_id } });
    expect(resume.statusCode).toBe(202);
    const b = await waitJob(studio, resume.json().id, ['finished', 'failed', 'stopped']);
    expect(b).toMatchObject({
      kind: 'resume',
      status: 'finished',
      exit_code: 1,
      outcome: 'failed',
      exit_reason: 'tests failed: the run has failed or errored tests',
      suite: 'flaky',
      progress: { planned: 2, to_execute: 1, done: 1, errored: 1 },
    });
    const list = (await app.inject('/api/jobs')).json().jobs as JobStatus[];
    expect(list.map((j) => j.id)).toEqual(expect.arrayContaining([first.id, resume.json().id]));
  });

  it('GET /api/jobs lists running jobs first, and survives a Studio restart', async () => {
    const hang = (await app.inject({ method: 'POST', url: '/api/eval/run', headers: json, payload: { suite: 'suite.yaml', tags: ['slow'] } })).json();
    // `tags` selects tests as --tag does: only the hanging test runs.
    expect(hang.command).toContain('--tag slow');
    const running = await waitJob(studio, hang.id, ['running']);
    expect(running.progress.to_execute).toBe(1);
    const jobs = (await app.inject('/api/jobs')).json().jobs as JobStatus[];
    expect(jobs[0]!.id).toBe(hang.id);
    expect(jobs.length).toBeGreaterThan(1);
    expect(jobs.slice(1).every((j) => ['finished', 'failed', 'stopped'].includes(j.status))).toBe(true);
    await app.inject({ method: 'POST', url: `/api/eval/run/${hang.id}/stop` });
    await waitJob(studio, hang.id, ['stopped']);
    const other = await buildApp({ store, cliPath: CLI });
    const after = (await other.app.inject('/api/jobs')).json().jobs as JobStatus[];
    expect(after.map((j) => j.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    expect(after.find((j) => j.id === hang.id)).toMatchObject({ status: 'stopped', exit_reason: 'stopped by SIGTERM' });
    await other.app.close();
  }, 60_000);

  it('a restarted Studio still answers for the jobs of the previous one', async () => {
    const r = (await app.inject({ method: 'POST', url: '/api/eval/run', headers: json, payload: { suite: 'suite.yaml', test_ids: ['quick'] } })).json();
    await waitJob(studio, r.id, ['finished']);
    const other = await buildApp({ store, cliPath: CLI });
    const s = (await other.app.inject(`/api/eval/status/${r.id}`)).json();
    expect(s).toMatchObject({ id: r.id, run_id: r.run_id, status: 'finished', exit_code: 0 });
    await other.app.close();
  });
});

describe('a running run in the list', () => {
  it('GET /api/runs shows its progress counted from its rows (its index row is written only at start and end)', async () => {
    await createRun({ store, manifest: makeManifest('livecount1', { tests: 4, suite: { name: 'livecount', path: 'suite.yaml' } }) });
    await updateRun({ store, runId: 'livecount1', update: { subject: 'rows', rows: [makeRow('t1'), makeRow('t2', { passed: false, score: 0, execution_status: 'quality_failure' })] } });
    const [row] = (await app.inject('/api/runs?suite=livecount')).json().runs;
    expect(row).toMatchObject({ run_id: 'livecount1', planned_test_count: 4, passed: 1, failed: 1, errored: 0, pass_rate: 0.5 });
    await finishRun({ store, runId: 'livecount1', status: 'completed' });
    const [done] = (await app.inject('/api/runs?suite=livecount')).json().runs;
    expect(done).toMatchObject({ status: 'completed', passed: 1, failed: 1, outcome: 'incomplete' });
  });
});
