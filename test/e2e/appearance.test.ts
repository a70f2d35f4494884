// How Studio looks, checked in real Chromium: text readable against its
// background in the light and the dark scheme (no white panels under dark),
// trend charts inside their cards, a run's tests as cards on a phone, and the
// launch form's tag selection with the number of tests it picks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, inContext, launchChromium, shot } from '../helpers/browser.js';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';
import { CLI, ROOT } from '../helpers/proc.js';
import { waitJob } from '../helpers/jobs.js';
import { lightPanels, lowContrast, overflowing } from '../helpers/readable.js';
import { buildApp, type StudioApp } from '../../src/server/app.js';
import { createRun, finishRun, openStore, updateRun, type Store } from '../../src/store/index.js';
import { makeManifest, makeRow } from '../helpers/runs.js';
import { seedRuns } from '../../src/store/seed.js';


let dir: string;
let store: Store;
let studio: StudioApp;
let base: string;
let browser: Browser;
let jobId: string;

const SUITE = [
  'name: tagged',
  'tests:',
  '  - id: a\n    tags: [smoke]\n    vars: { input: hello }\n    assert: [{ type: contains, value: hello }]',
  '  - id: b\n    tags: [smoke, slow]\n    vars: { input: hello }\n    assert: [{ type: contains, value: nope }]',
  '  - id: c\n    tags: [slow]\n    vars: { input: hello }',
  '  - id: d\n    vars: { input: hello }',
  '',
].join('\n');

beforeAll(async () => {
  dir = makeRepo();
  writeFileSync(path.join(dir, 'tagged.yaml'), SUITE);
  writeFileSync(
    path.join(dir, 'big.yaml'),
    ['name: big', 'tests:', ...Array.from({ length: 150 }, (_, i) => `  - id: b${i}\n    tags: [${i % 2 ? 'odd' : 'even'}]\n    vars: { input: hello }`), ''].join('\n'),
  );
  mkdirSync(path.join(dir, '.agentv'));
  writeFileSync(path.join(dir, '.agentv/targets.yaml'), 'targets:\n  - name: echo\n    provider: echo\ndefaults:\n  target: echo\n');
  await seedRuns({ repoDir: dir, runs: 120, rowsPerRun: 5 });
  store = await openStore({ repoDir: dir });
  // One run with every kind of test: passed, failed with reasons, an execution error, JSON output.
  await createRun({ store, manifest: makeManifest('mixed1', { tests: 3, suite: { name: 'mixed', path: 'tagged.yaml' } }) });
  await updateRun({
    store,
    runId: 'mixed1',
    update: {
      subject: 'rows',
      rows: [
        makeRow('t1', { output: '{"queue":"billing","reply":"We refunded you."}', assertions: [{ type: 'is-json', passed: true, score: 1, reason: null, metric: 'shape' }] }),
        makeRow('t2', { passed: false, score: 0, execution_status: 'quality_failure', assertions: [{ type: 'equals', passed: false, score: 0, reason: 'expected "a" but got "b"', metric: 'shape' }] }),
        makeRow('t3', { passed: false, score: 0, execution_status: 'execution_error', output: null, error: 'target exited with code 1: boom' }),
      ],
    },
  });
  await finishRun({ store, runId: 'mixed1', status: 'completed' });
  studio = await buildApp({ store, cliPath: CLI, webRoot: path.join(ROOT, 'dist/web'), version: JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version });
  base = await studio.app.listen({ port: 0, host: '127.0.0.1' });
  const launched = await studio.app.inject({ method: 'POST', url: '/api/eval/run', headers: { 'content-type': 'application/json' }, payload: { suite: 'tagged.yaml' } });
  jobId = launched.json().id;
  await waitJob(studio, jobId, ['finished', 'failed', 'stopped']);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await studio?.app.close();
  store?.close();
  cleanupRepos();
});

async function open(ctx: BrowserContext, url: string, ready: string): Promise<Page> {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto(`${base}${url}`);
  await page.getByTestId(ready).first().waitFor();
  return page;
}

describe.runIf(existsSync(CHROMIUM) || process.env.CI)('Studio appearance in Chromium', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`every page is readable in the ${scheme} scheme`, async () => {
      await inContext(browser, { viewport: { width: 1280, height: 860 }, colorScheme: scheme }, async (ctx) => {
        const pages: [string, string, string][] = [
          ['/', 'trend-chart', 'runs'],
          ['/runs/mixed1?test=t3', 'test-detail', 'run-detail-error'],
          ['/runs/mixed1?test=t2', 'test-detail', 'run-detail-failed'],
          ['/jobs', 'job-row', 'jobs'],
          [`/jobs/${jobId}`, 'job-status', 'job'],
          ['/new', 'suite-select', 'new-run'],
        ];
        for (const [url, ready, name] of pages) {
          const page = await open(ctx, url, ready);
          // Hover a row: its highlight must keep the text readable too.
          if (name.startsWith('run-detail')) await page.getByTestId('test-row').first().hover();
          if (scheme === 'dark') {
            expect.soft(await lightPanels(page), `${url}: light panels under dark`).toEqual([]);
            if (['runs', 'run-detail-failed', 'job'].includes(name)) await shot(page, `${name}-dark`);
          }
          expect.soft(await lowContrast(page), `${url}: text under 4.5:1`).toEqual([]);
        }
      });
    });
  }

  it('trend charts stay inside their cards, with axes and a value on hover', async () => {
    await inContext(browser, { viewport: { width: 1280, height: 860 } }, async (ctx) => {
      const page = await open(ctx, '/', 'trend-chart');
      await expect.poll(() => page.locator('.trend svg').count()).toBeGreaterThan(2);
      expect(await overflowing(page, '.trend svg')).toEqual([]);
      const svg = page.locator('.trend svg').first();
      expect(await svg.locator('text').allTextContents()).toEqual(expect.arrayContaining(['0%', '50%', '100%']));
      expect(await svg.locator('circle title').first().textContent()).toMatch(/\d+(\.\d)?% · \d+ of \d+ run passed/);
    });
  });

  it('on a phone the runs list and a run\'s tests are cards, nothing wider than the screen', async () => {
    await inContext(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }, async (ctx) => {
      let page = await open(ctx, '/', 'run-row');
      expect(await page.locator('.vhead').isVisible()).toBe(false);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      // The trend charts do not push the list off the first screen.
      await page.getByTestId('trend-chart').waitFor();
      expect(await page.getByTestId('run-row').first().evaluate((el) => el.getBoundingClientRect().top)).toBeLessThan(844);
      await shot(page, 'runs-phone');
      page = await open(ctx, '/runs/mixed1', 'test-row');
      expect(await overflowing(page, '.tests')).toEqual([]);
      expect(await page.locator('.tests thead').isVisible()).toBe(false);
      // Every cell of a card is on screen: the attempt too.
      const cells = await page.getByTestId('test-row').first().locator('td').evaluateAll((tds) => tds.map((td) => td.getBoundingClientRect().right));
      expect(Math.max(...cells)).toBeLessThanOrEqual(390);
      await shot(page, 'run-detail-phone', true);
    });
  });

  it('the launch form lists the suite\'s tags and counts the tests they pick', async () => {
    await inContext(browser, { viewport: { width: 1280, height: 860 } }, async (ctx) => {
      const page = await open(ctx, '/new', 'suite-select');
      await page.getByTestId('suite-select').selectOption('tagged.yaml');
      await expect.poll(() => page.getByTestId('test-count').textContent()).toContain('4 tests will run');
      const smoke = page.getByTestId('tag-smoke');
      expect(await smoke.textContent()).toContain('smoke (2)');
      await smoke.locator('input').check();
      await expect.poll(() => page.getByTestId('test-count').textContent()).toContain('2 tests will run');
      // --tag matches any of the tags: smoke or slow picks a, b and c.
      await page.getByTestId('tag-slow').locator('input').check();
      await expect.poll(() => page.getByTestId('test-count').textContent()).toContain('3 tests will run');
      expect(page.url()).toContain('tag=smoke');
      await page.getByTestId('launch-button').click();
      await page.waitForURL(/\/jobs\/job-/);
      await expect.poll(() => page.getByTestId('job-status').textContent(), { timeout: 300_000 }).toMatch(/finished|failed/);
      expect(await page.locator('pre.cmd').textContent()).toContain('--tag smoke --tag slow');
      expect(await page.getByTestId('job-progress').textContent()).toBe('3/3');
    });
  });

  it('a large launch asks first, and declining launches nothing', async () => {
    await inContext(browser, { viewport: { width: 1280, height: 860 } }, async (ctx) => {
      const page = await open(ctx, '/new', 'suite-select');
      await page.getByTestId('suite-select').selectOption('big.yaml');
      await expect.poll(() => page.getByTestId('test-count').textContent()).toBe('150 tests will run (you will be asked to confirm).');
      const before = (await studio.app.inject('/api/jobs')).json().jobs.length;
      const asked: string[] = [];
      page.once('dialog', (d) => {
        asked.push(d.message());
        void d.dismiss();
      });
      await page.getByTestId('launch-button').click();
      await expect.poll(() => asked.length).toBe(1);
      expect(asked[0]).toContain('Launch 150 tests against echo');
      expect(page.url()).toContain('/new');
      expect((await studio.app.inject('/api/jobs')).json().jobs.length).toBe(before);
      // A tag that picks 75 is under the threshold: no question.
      await page.getByTestId('tag-odd').locator('input').check();
      await expect.poll(() => page.getByTestId('test-count').textContent()).toBe('75 tests will run.');
    });
  });
});
