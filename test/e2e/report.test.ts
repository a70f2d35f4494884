// The HTML report of `agentv report` in real Chromium with the network off:
// one file that shows the run's tests and its comparison, and asks for nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import type { StoredInput } from '../../src/schemas/input.js';
import { createRun, finishRun, inputRefOf, openStore, updateRun } from '../../src/store/index.js';
import { runCli } from '../helpers/cli.js';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';

let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = makeRepo();
  const store = await openStore({ repoDir: dir });
  const input: StoredInput = { prompt: 'Say <b>hi</b>', messages: null, vars: { input: 'Say <b>hi</b>' }, expected_output: 'hi' };
  for (const [runId, t2passes] of [['base-run', true], ['head-run', false]] as const) {
    await createRun({ store, manifest: makeManifest(runId, { tests: 3 }) });
    const rows = ['t1', 't2', 't3'].map((id) =>
      makeRow(id, {
        input_ref: inputRefOf(input),
        ...(id === 't2' && !t2passes
          ? { execution_status: 'quality_failure' as const, passed: false, score: 0, output: '{"answer":"bye"}', assertions: [{ type: 'equals', passed: false, score: 0, reason: 'expected "hi", got "bye"' }] }
          : {}),
      }),
    );
    await updateRun({ store, runId, update: { rows, inputs: new Map([[inputRefOf(input), input]]), subject: 'rows' } });
    await finishRun({ store, runId, status: 'completed' });
  }
  store.close();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  cleanupRepos();
});

describe('agentv report', () => {
  it('writes one self-contained file that shows the tests and the regression offline', async () => {
    const file = path.join(dir, 'out', '..', 'report.html');
    const r = await runCli(['report', 'head-run', '--base', 'base-run', '-o', 'report.html'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(file)).toBe(true);

    const context = await browser.newContext({ offline: true });
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      if (route.request().url().startsWith('file:')) return route.continue();
      requests.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    await page.goto(pathToFileURL(file).href);
    await expect.poll(() => page.locator('#tests details.test').count()).toBe(3);
    const regression = page.locator('#compare details.test').first();
    expect(await regression.getAttribute('data-id')).toBe('t2');
    expect(await regression.locator('summary').innerText()).toMatch(/regressed[\s\S]*t2[\s\S]*1\.00 → 0\.00[\s\S]*expected "hi", got "bye"/i);
    await regression.locator('summary').click();
    // The input shows as text (escaped, not markup) and the JSON output is pretty-printed.
    await expect.poll(() => regression.innerText()).toContain('Say <b>hi</b>');
    expect(await regression.innerText()).toContain('"answer": "bye"');
    await page.fill('#q', 't3');
    await expect.poll(() => page.locator('#tests details.test:not([hidden])').count()).toBe(1);
    expect(requests).toEqual([]);
    await context.close();
  });
});
