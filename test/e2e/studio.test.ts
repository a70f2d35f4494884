// End to end in real Chromium (Debian's /usr/bin/chromium through playwright-core):
// scroll thousands of runs, launch a run from the form, stop it from the job
// page, resume it from the run page, and see it complete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium, shot as shotOf } from '../helpers/browser.js';
import { cleanupRepos, makeRepo, tempDir } from '../helpers/repo.js';
import { CLI, ROOT } from '../helpers/proc.js';
import { buildApp, type StudioApp } from '../../src/server/app.js';
import { createRun, finishRun, openStore, updateRun, type Store } from '../../src/store/index.js';
import { makeManifest, makeRow } from '../helpers/runs.js';
import { seedRuns } from '../../src/store/seed.js';

const AGENT = path.join(ROOT, 'fixtures/agents/sleepy.mjs');

let dir: string;
let store: Store;
let studio: StudioApp;
let base: string;
let browser: Browser;
let page: Page;
const shot = (name: string) => shotOf(page, name);
const pidsDir = tempDir();

beforeAll(async () => {
  dir = makeRepo();
  writeFileSync(
    path.join(dir, 'triage.yaml'),
    [
      'name: triage',
      'tests:',
      ...['alpha', 'beta', 'gamma'].map((id) => `  - id: ${id}\n    vars: { input: "sleep:20" }\n    assert: [{ type: contains, value: done }]`),
      '  - id: slowpoke\n    vars: { input: "sleep:hang-once" }\n    assert: [{ type: contains, value: done }]',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(dir, 'live.yaml'),
    'name: live\ntests:\n  - id: quick1\n    vars: { input: "sleep:20" }\n  - id: quick2\n    vars: { input: "sleep:30" }\n  - id: stuck\n    vars: { input: "sleep:hang" }\n',
  );
  writeFileSync(
    path.join(dir, 'flaky.yaml'),
    'name: flaky\ntests:\n  - id: fine\n    vars: { input: "sleep:5" }\n  - id: broken\n    vars: { input: "sleep:5 fail-exit" }\n',
  );
  mkdirSync(path.join(dir, '.agentv'));
  writeFileSync(path.join(dir, '.agentv/targets.yaml'), `targets:\n  - name: sleepy\n    provider: cli\n    command: node ${AGENT} {PROMPT}\ndefaults:\n  target: sleepy\n`);
  await seedRuns({ repoDir: dir, runs: 3000, rowsPerRun: 5 });
  store = await openStore({ repoDir: dir });
  process.env.AGENTV_PIDS_DIR = pidsDir;
  studio = await buildApp({ store, cliPath: CLI, webRoot: path.join(ROOT, 'dist/web'), version: JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version });
  base = await studio.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
});

afterAll(async () => {
  await browser?.close();
  await studio?.app.close();
  store?.close();
  cleanupRepos();
});

// Outside CI a machine without Debian's chromium skips these; in CI (scripts/test.sh
// installs it) a missing browser is a failure, never a silent skip.
describe.runIf(existsSync(CHROMIUM) || process.env.CI)('Studio in Chromium', () => {
  it('scrolls 3,000 runs deep: pages keep appending and the DOM stays bounded', async () => {
    await page.goto(base);
    const list = page.getByTestId('runs-table');
    await expect.poll(() => page.getByTestId('run-row').count()).toBeGreaterThan(5);
    await page.getByTestId('trend-chart').first().waitFor();
    await expect.poll(() => page.getByTestId('runs-total').textContent()).toMatch(/^3,?0\d\d runs/);
    await shot('runs');
    const loaded = async () => Number(await list.getAttribute('data-loaded'));
    const nodes: number[] = [];
    while ((await list.getAttribute('data-done')) !== '1') {
      const before = await loaded();
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await expect.poll(loaded, { timeout: 300_000 }).toBeGreaterThan(before);
      nodes.push(await page.evaluate(() => document.querySelectorAll('*').length));
    }
    expect(await loaded()).toBeGreaterThanOrEqual(3000);
    // However deep, the page holds a bounded number of rows and elements.
    expect(await page.getByTestId('run-row').count()).toBeLessThan(80);
    expect(Math.max(...nodes)).toBeLessThan(2500);
    expect(nodes.at(-1)!).toBeLessThan(nodes[0]! + 600);
    const ids = await page.getByTestId('run-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-run-id')));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sorts oldest first from the Sort control: the order is in the URL, survives a reload, and pages on', async () => {
    const oldest: string[] = (await (await fetch(`${base}/api/runs?limit=300&sort=started_at`)).json()).runs.map((r: { run_id: string }) => r.run_id);
    await page.goto(base);
    await expect.poll(() => page.getByTestId('run-row').count()).toBeGreaterThan(5);
    await page.getByTestId('runs-sort').selectOption('started_at');
    await expect.poll(() => new URL(page.url()).searchParams.get('sort')).toBe('started_at');
    const firstIds = () => page.getByTestId('run-row').evaluateAll((els) => els.slice(0, 3).map((e) => e.getAttribute('data-run-id')));
    await expect.poll(firstIds).toEqual(oldest.slice(0, 3));
    await page.reload();
    await expect.poll(firstIds).toEqual(oldest.slice(0, 3));
    expect(await page.getByTestId('runs-sort').inputValue()).toBe('started_at');
    // The next page continues the same order.
    const list = page.getByTestId('runs-table');
    const before = Number(await list.getAttribute('data-loaded'));
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await expect.poll(async () => Number(await list.getAttribute('data-loaded'))).toBeGreaterThan(before);
    // The rows now on screen come from the second page of the oldest-first order, in that order.
    const shown = await page.getByTestId('run-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-run-id')!));
    const at = shown.map((id) => oldest.indexOf(id));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect(Math.max(...at)).toBeGreaterThanOrEqual(50);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    await page.getByTestId('runs-sort').selectOption('');
    await expect.poll(() => new URL(page.url()).searchParams.get('sort')).toBeNull();
  });

  it('launches a run from the form, stops it from the job page, resumes it from the run page, and sees it complete', async () => {
    await page.goto(`${base}/new`);
    await page.getByTestId('suite-select').selectOption('triage.yaml');
    await page.getByTestId('target-select').selectOption('sleepy');
    await shot('new-run');
    await page.getByTestId('launch-button').click();
    await page.waitForURL(/\/jobs\/job-/);
    // Three quick tests finish; slowpoke hangs.
    await expect.poll(() => page.getByTestId('job-progress').textContent(), { timeout: 300_000 }).toMatch(/^3\/4/);
    await shot('job-running');
    const stop = page.getByTestId('stop-button');
    await stop.click();
    await page.getByText('Stopping…').first().waitFor();
    // While stopping, the same button is "Stop now" (the second signal).
    await expect.poll(() => stop.textContent()).toBe('Stop now');
    await expect.poll(() => page.getByTestId('job-status').textContent(), { timeout: 300_000 }).toBe('stopped');
    await expect.poll(() => stop.count()).toBe(0);
    await page.getByTestId('run-link').click();
    await page.waitForURL(/\/runs\//);
    const resume = page.getByTestId('resume-button');
    await resume.waitFor();
    await page.getByTestId('rerun-failed-button').waitFor();
    await shot('run-detail-stopped');
    await resume.click();
    await page.waitForURL(/\/jobs\/job-/);
    await expect.poll(() => page.getByTestId('job-status').textContent(), { timeout: 300_000 }).toBe('finished');
    await shot('job-finished');
    await page.getByTestId('run-link').click();
    await page.waitForURL(/\/runs\//);
    await expect.poll(() => page.getByTestId('test-row').count()).toBe(4);
    await expect.poll(() => page.getByTestId('resume-button').count()).toBe(0);
    await page.getByTestId('test-row').first().click();
    await shot('run-detail-completed');
  });

  it('a running run updates live on its page and is stopped from there', async () => {
    const launched = await studio.app.inject({ method: 'POST', url: '/api/eval/run', headers: { 'content-type': 'application/json' }, payload: { suite: 'live.yaml', workers: 3 } });
    const { run_id, id } = launched.json();
    await expect.poll(async () => (await studio.app.inject(`/api/eval/status/${id}`)).json().status, { timeout: 300_000 }).toBe('running');
    await page.goto(`${base}/runs/${run_id}`);
    // No reload: the two quick tests appear as they finish.
    await expect.poll(() => page.getByTestId('done-count').textContent(), { timeout: 300_000 }).toContain('2/3');
    await expect.poll(() => page.getByTestId('test-row').count()).toBe(2);
    await page.getByTestId('job-link').waitFor();
    await shot('run-detail-running');
    await page.getByTestId('run-stop-button').click();
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 300_000 }).toBe('stopped');
    expect(await page.getByTestId('run-status').textContent()).toBe('stopped · incomplete');
    await page.getByTestId('not-run').waitFor();
  });

  it('a running run updates live in the list, links to its job and is stopped from its row', async () => {
    const launched = await studio.app.inject({ method: 'POST', url: '/api/eval/run', headers: { 'content-type': 'application/json' }, payload: { suite: 'live.yaml', workers: 3 } });
    const { run_id, id } = launched.json();
    await expect.poll(async () => (await studio.app.inject(`/api/eval/status/${id}`)).json().status, { timeout: 300_000 }).toBe('running');
    await page.goto(`${base}/?suite=live`);
    const row = page.locator(`[data-testid="run-row"][data-run-id="${run_id}"]`);
    // No reload: the list's own refresh shows the two quick tests passing.
    await expect.poll(() => row.textContent(), { timeout: 300_000 }).toContain('2 of 2 run passed');
    expect(await row.getByTestId('run-badge').textContent()).toBe('running');
    expect(await row.getByTestId('row-job-link').getAttribute('href')).toBe(`/jobs/${run_id}`);
    await row.getByTestId('row-stop-button').click();
    await expect.poll(() => row.getByTestId('run-badge').getAttribute('data-status'), { timeout: 300_000 }).toBe('stopped');
    expect(await row.getByTestId('row-stop-button').count()).toBe(0);
  });

  it('a completed run with 0 % passing wears a failed badge, and still offers Rerun failed cases', async () => {
    await createRun({ store, manifest: makeManifest('zero1', { tests: 3, suite: { name: 'zero', path: 'triage.yaml' }, target: { name: 'sleepy', provider: 'cli', config_hash: 'x' } }) });
    await updateRun({ store, runId: 'zero1', update: { subject: 'rows', rows: ['t1', 't2', 't3'].map((t) => makeRow(t, { passed: false, score: 0, execution_status: 'quality_failure' })) } });
    await finishRun({ store, runId: 'zero1', status: 'completed' });
    await page.goto(`${base}/runs/zero1`);
    const badge = page.getByTestId('run-status');
    await expect.poll(() => badge.getAttribute('data-outcome')).toBe('failed');
    expect(await badge.getAttribute('class')).toContain('badge-failed');
    expect(await badge.textContent()).toBe('completed · failed');
    expect(await page.getByTestId('pass-counts').textContent()).toBe('0 of 3 run passed');
    await page.getByTestId('rerun-failed-button').waitFor();
    await page.goto(`${base}/?suite=zero`);
    await expect.poll(() => page.getByTestId('run-badge').first().getAttribute('class')).toContain('badge-failed');
  });

  it('an exit-1 resume job is not a green "finished", and its page survives a Studio restart', async () => {
    const json = { 'content-type': 'application/json' };
    const first = (await studio.app.inject({ method: 'POST', url: '/api/eval/run', headers: json, payload: { suite: 'flaky.yaml' } })).json();
    await waitTerminal(first.id);
    const resume = (await studio.app.inject({ method: 'POST', url: '/api/eval/run', headers: json, payload: { suite: 'flaky.yaml', resume: true, run_id: first.run_id } })).json();
    await page.goto(`${base}/jobs/${resume.id}`);
    const status = page.getByTestId('job-status');
    await expect.poll(() => status.textContent(), { timeout: 300_000 }).toBe('finished');
    expect(await status.getAttribute('class')).toContain('badge-failed');
    expect(await page.getByTestId('exit-reason').textContent()).toContain('tests failed');
    expect(await page.getByTestId('job-progress').textContent()).toBe('1/1');
    await shot('job-resume-failed');

    // Restart Studio: the job page still answers, from the job's record.
    await studio.app.close();
    studio = await buildApp({ store, cliPath: CLI, webRoot: path.join(ROOT, 'dist/web') });
    base = await studio.app.listen({ port: 0, host: '127.0.0.1' });
    await page.goto(`${base}/jobs/${resume.id}`);
    await expect.poll(() => page.getByTestId('job-status').textContent()).toBe('finished');
    expect(await page.getByTestId('exit-reason').textContent()).toContain('tests failed');
    await page.goto(`${base}/jobs`);
    await expect.poll(() => page.getByTestId('job-row').count()).toBeGreaterThanOrEqual(3);
  });

  it('opens a 2,000-test run from pages: no response carries all its rows', async () => {
    const N = 2000;
    await createRun({ store, manifest: makeManifest('wide1', { tests: N }) });
    await updateRun({ store, runId: 'wide1', update: { subject: 'rows', rows: Array.from({ length: N }, (_, i) => makeRow(`t${i + 1}`, { output: 'x'.repeat(2000) })) } });
    await finishRun({ store, runId: 'wide1', status: 'completed' });
    const sizes: { url: string; rows: number; bytes: number }[] = [];
    const onResponse = async (r: import('playwright-core').Response) => {
      if (!r.url().includes('/api/')) return;
      const body = await r.text().catch(() => '');
      let rows = 0;
      try {
        const j = JSON.parse(body);
        rows = Array.isArray(j.results) ? j.results.length : 0;
      } catch {
        // not JSON (server-sent events)
      }
      sizes.push({ url: r.url(), rows, bytes: body.length });
    };
    page.on('response', onResponse);
    await page.goto(`${base}/runs/wide1`);
    await expect.poll(() => page.getByTestId('test-row').count()).toBe(100);
    await page.getByTestId('more-results').click();
    await expect.poll(() => page.getByTestId('test-row').count()).toBe(200);
    await page.getByTestId('test-row').nth(4).click();
    await expect.poll(() => page.url()).toContain('test=t5');
    await page.getByTestId('test-detail').waitFor();
    // Responses are recorded once their bodies are read: wait for the test's own.
    await expect.poll(() => sizes.some((s) => s.url.includes('/results/t5'))).toBe(true);
    page.off('response', onResponse);
    expect(Math.max(...sizes.map((s) => s.rows))).toBeLessThanOrEqual(100);
    expect(Math.max(...sizes.map((s) => s.bytes))).toBeLessThan(200_000);
  });

  it('read-only Studio shows the CLI commands instead of buttons', async () => {
    const ro = await buildApp({ store, cliPath: CLI, webRoot: path.join(ROOT, 'dist/web'), readOnly: true });
    const roBase = await ro.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await page.goto(`${roBase}/runs/zero1`);
      const cli = page.getByTestId('cli-commands');
      await cli.waitFor();
      expect(await cli.textContent()).toContain('--rerun-failed zero1');
      expect(await page.getByTestId('rerun-failed-button').count()).toBe(0);
      await shot('run-detail-read-only');
    } finally {
      await ro.app.close();
    }
  });
});

async function waitTerminal(id: string) {
  await expect
    .poll(async () => (await studio.app.inject(`/api/eval/status/${id}`)).json().status, { timeout: 300_000 })
    .toMatch(/^(finished|failed|stopped)$/);
}
