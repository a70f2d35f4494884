// End to end in real Chromium (Debian's /usr/bin/chromium through playwright-core):
// scroll thousands of runs, launch a run from the form, stop it from the job
// page, resume it from the run page, and see it complete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { cleanupRepos, makeRepo, tempDir } from '../helpers/repo.js';
import { CLI, ROOT } from '../helpers/proc.js';
import { buildApp, type StudioApp } from '../../src/server/app.js';
import { openStore, type Store } from '../../src/store/index.js';
import { seedRuns } from '../../src/store/seed.js';

const CHROMIUM = '/usr/bin/chromium';
const AGENT = path.join(ROOT, 'fixtures/agents/sleepy.mjs');
const SHOTS = path.join(ROOT, 'test-results/screenshots');

let dir: string;
let store: Store;
let studio: StudioApp;
let base: string;
let browser: Browser;
let page: Page;
const pidsDir = tempDir();

async function shot(name: string) {
  mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  // `AGENTV_UPDATE_SCREENSHOTS=1 npx vitest run test/e2e` refreshes the committed copies.
  if (process.env.AGENTV_UPDATE_SCREENSHOTS) copyFileSync(file, path.join(ROOT, 'docs/screenshots', `${name}.png`));
}

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
  mkdirSync(path.join(dir, '.agentv'));
  writeFileSync(path.join(dir, '.agentv/targets.yaml'), `targets:\n  - name: sleepy\n    provider: cli\n    command: node ${AGENT} {PROMPT}\ndefaults:\n  target: sleepy\n`);
  await seedRuns({ repoDir: dir, runs: 3000, rowsPerRun: 5 });
  store = await openStore({ repoDir: dir });
  process.env.AGENTV_PIDS_DIR = pidsDir;
  studio = await buildApp({ store, cliPath: CLI, webRoot: path.join(ROOT, 'dist/web'), version: JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version });
  base = await studio.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
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
  it('scrolls a list of thousands of runs with infinite scroll', async () => {
    await page.goto(base);
    const rows = page.getByTestId('run-row');
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(50);
    const first = await rows.count();
    await page.getByTestId('trend-chart').first().waitFor();
    await shot('runs');
    for (let i = 0; i < 3; i++) {
      await rows.last().scrollIntoViewIfNeeded();
      await expect.poll(() => rows.count()).toBeGreaterThan(first + i * 50);
    }
    const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-run-id')));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(200);
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
});
