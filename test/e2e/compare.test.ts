// The Compare page and the run page's diagnosis in real Chromium: two runs of an
// exec target that answers from a committed file, where one answer changes
// between them. Compare shows exactly that regression first, with the diff of
// its two outputs and its input; it is reached from the head run's page and by
// picking two runs in the list; the run page's expanded test shows its input,
// expected against actual, and JSON output pretty-printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium, shot as shotOf } from '../helpers/browser.js';
import { buildApp, type StudioApp } from '../../src/server/app.js';
import { openStore, type Store } from '../../src/store/index.js';
import { ANSWERS, compareRepo, evalRun, setAnswers } from '../helpers/compare-repo.js';
import { CLI, ROOT } from '../helpers/proc.js';
import { cleanupRepos } from '../helpers/repo.js';


let store: Store;
let studio: StudioApp;
let base: string;
let browser: Browser;
let page: Page;
const shot = (name: string) => shotOf(page, name, true);
let baseRun: string;
let headRun: string;

beforeAll(async () => {
  const dir = compareRepo();
  const first = await evalRun(dir);
  expect(first.summary, first.stderr).not.toBeNull();
  baseRun = first.summary.run_id;
  // b now answers wrong (the one regression); c stays wrong, now as JSON.
  setAnswers(dir, { ...ANSWERS, b: 'BRAVO?', c: '{"answer":"wrong","sure":true}' }, 'b answers wrong');
  const second = await evalRun(dir);
  expect(second.summary, second.stderr).not.toBeNull();
  headRun = second.summary.run_id;
  store = await openStore({ repoDir: dir });
  studio = await buildApp({ store, cliPath: CLI, webRoot: path.join(ROOT, 'dist/web'), version: JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version });
  base = await studio.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await studio?.app.close();
  store?.close();
  cleanupRepos();
});

const POLL = { timeout: 120_000 };

describe('GET /api/baseline', () => {
  it('names the run `eval --baseline REV` would pick, and refuses a revision that does not resolve', async () => {
    const head = (await studio.app.inject(`/api/runs/${headRun}?results=false`)).json().run.source_commit as string;
    const r = await studio.app.inject(`/api/baseline?suite=quiz&target=quiz-agent&rev=${head}~1`);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ run: { run_id: baseRun }, distance: 0 });
    const none = await studio.app.inject(`/api/baseline?suite=other&target=quiz-agent&rev=${head}`);
    expect(none.json()).toMatchObject({ run: null, distance: null });
    expect((await studio.app.inject('/api/baseline?suite=quiz&target=quiz-agent&rev=no-such-branch')).statusCode).toBe(400);
    expect((await studio.app.inject('/api/baseline?suite=quiz&target=quiz-agent&rev=--output=x')).statusCode).toBe(400);
  });
});

describe.runIf(existsSync(CHROMIUM) || process.env.CI)('Compare page and diagnosis in Chromium', () => {
  it('from the head run, compares with the previous run: the one regression first, its input and the diff of its outputs', async () => {
    await page.goto(`${base}/runs/${headRun}`);
    const link = page.getByTestId('compare-previous');
    await link.waitFor(POLL);
    // The head run's commit's parent is the base run's commit: "the run of the base commit" is the same comparison.
    await page.getByTestId('compare-base-commit').waitFor(POLL);
    expect(await page.getByTestId('compare-base-commit').getAttribute('href')).toBe(await link.getAttribute('href'));
    await link.click();
    await page.waitForURL((u) => u.pathname === '/compare' && u.searchParams.get('base') === baseRun && u.searchParams.get('head') === headRun, POLL);

    const rows = page.getByTestId('compare-row');
    await expect.poll(() => rows.count(), POLL).toBe(4);
    expect(await page.getByTestId('count-regressed').locator('.card-v').textContent()).toBe('1');
    expect(await page.getByTestId('pass-rate-delta').textContent()).toMatch(/−25\.0 pp[\s\S]*95 % interval/);
    // Exactly one regression, and it comes first.
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-change')))).toEqual(['regressed', 'still_failing', 'unchanged', 'unchanged']);
    expect(await rows.first().getAttribute('data-test-id')).toBe('b');
    expect(await page.getByTestId('compare-group').first().getAttribute('data-group')).toBe('regressed');

    await rows.first().click();
    await page.waitForURL((u) => u.searchParams.get('test') === 'b', POLL);
    const detail = page.getByTestId('compare-detail');
    await detail.waitFor(POLL);
    expect(await detail.getByTestId('input-prompt').textContent()).toBe('b');
    expect(await detail.getByTestId('input-expected').textContent()).toContain('bravo');
    await expect.poll(() => detail.getByTestId('output-diff').getAttribute('data-ready'), POLL).toBe('1');
    expect(await detail.getByTestId('base-output').locator('del').allTextContents()).toEqual(['bravo']);
    expect(await detail.getByTestId('head-output').locator('ins').allTextContents()).toEqual(['BRAVO?']);
    expect(await detail.getByTestId('head-output').textContent()).toBe('BRAVO?');
    expect(await detail.textContent()).toContain('expected "bravo", got "BRAVO?"');
    await shot('compare');

    // The open test and the change filter are in the URL: a reload shows the same view.
    await page.reload();
    await expect.poll(() => page.getByTestId('compare-detail').count(), POLL).toBe(1);
    await page.getByTestId('compare-change').selectOption('unchanged');
    await page.waitForURL((u) => u.searchParams.get('change') === 'unchanged', POLL);
    await expect.poll(() => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-test-id'))), POLL).toEqual(['a', 'd']);
  });

  it('picking two runs in the list opens their comparison, the older as base', async () => {
    await page.goto(base);
    await expect.poll(() => page.getByTestId('run-row').count(), POLL).toBe(2);
    // Newest first: pick the head run, then the base run.
    await page.getByTestId('pick-run').nth(0).check();
    await page.getByTestId('pick-run').nth(1).check();
    await page.getByTestId('compare-selected').click();
    await page.waitForURL((u) => u.pathname === '/compare' && u.searchParams.get('base') === baseRun && u.searchParams.get('head') === headRun, POLL);
    await expect.poll(() => page.getByTestId('compare-row').first().getAttribute('data-test-id'), POLL).toBe('b');
  });

  it("the run page's expanded test shows its input, expected against actual, and JSON output pretty-printed", async () => {
    await page.goto(`${base}/runs/${headRun}?test=b`);
    const detail = page.getByTestId('test-detail');
    await expect.poll(() => detail.getByTestId('input-prompt').count(), POLL).toBe(1);
    expect(await detail.getByTestId('input-prompt').textContent()).toBe('b');
    expect(await detail.getByTestId('input-expected').textContent()).toContain('bravo');
    expect(await detail.getByTestId('expected-actual').innerText()).toMatch(/expected\s+bravo\s+actual\s+BRAVO\?/);

    await page.goto(`${base}/runs/${headRun}?test=c`);
    await expect.poll(() => detail.getByTestId('input-prompt').count(), POLL).toBe(1);
    expect(await detail.getByTestId('input-prompt').textContent()).toBe('c');
    expect(await detail.locator('pre.pre').last().textContent()).toBe('{\n  "answer": "wrong",\n  "sure": true\n}');
    await shot('run-detail-diagnosis');
    expect(await detail.getByTestId('expected-actual').innerText()).toMatch(/expected\s+charlie\s+actual\s+\{\n\s+"answer": "wrong",/);
  });
});
