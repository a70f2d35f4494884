// The Regrade button in real Chromium: on a finished run's page it starts
// `agentv regrade` as a job and opens the job page; the run's verdicts follow
// the suite's current assertions without a target call. Read-only Studio shows
// the command instead of the button.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../helpers/browser.js';
import { cleanupRepos, makeRepo, tempDir } from '../helpers/repo.js';
import { runCli } from '../helpers/cli.js';
import { CLI, ROOT } from '../helpers/proc.js';
import { buildApp, type StudioApp } from '../../src/server/app.js';
import { openStore, type Store } from '../../src/store/index.js';

const WEB = path.join(ROOT, 'dist/web');

let dir: string;
let log: string;
let store: Store;
let studio: StudioApp;
let base: string;
let browser: Browser;
let page: Page;

const suite = (value: string) =>
  `name: graded\ntests:\n${['one', 'two'].map((id) => `  - id: ${id}\n    vars: { input: "${id}" }\n    assert: [{ type: contains, value: ${value} }]\n`).join('')}`;

beforeAll(async () => {
  dir = makeRepo();
  log = path.join(tempDir(), 'calls.log');
  writeFileSync(path.join(dir, 'suite.yaml'), suite('hello'));
  mkdirSync(path.join(dir, '.agentv'));
  writeFileSync(path.join(dir, '.agentv/targets.yaml'), `targets:\n  - name: logged\n    provider: cli\n    command: "echo {TEST_ID} >> ${log}; echo hello {PROMPT}"\ndefaults:\n  target: logged\n`);
  store = await openStore({ repoDir: dir });
  studio = await buildApp({ store, cliPath: CLI, webRoot: WEB });
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

describe.runIf(existsSync(CHROMIUM) || process.env.CI)('Regrade in Chromium', () => {
  it('the run page offers Regrade; it starts a regrade job and the verdicts change with no target call', async () => {
    const r = await runCli(['eval', 'suite.yaml', '--run-id', 'graded1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    writeFileSync(path.join(dir, 'suite.yaml'), suite('goodbye'));
    await page.goto(`${base}/runs/graded1`);
    const button = page.getByTestId('regrade-button');
    await button.waitFor();
    await button.click();
    await page.waitForURL(/\/jobs\/job-/);
    await expect.poll(() => page.getByTestId('job-status').textContent(), { timeout: 300_000 }).toBe('finished');
    expect(await page.getByTestId('job-outcome').count()).toBe(1);
    const detail = (await studio.app.inject('/api/runs/graded1')).json();
    expect(detail.run.counts).toMatchObject({ passed: 0, failed: 2 });
    expect(detail.results.map((x: { grade_seq?: number }) => x.grade_seq)).toEqual([1, 1]);
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('read-only Studio shows agentv regrade instead of the button', async () => {
    const ro = await buildApp({ store, cliPath: CLI, webRoot: WEB, readOnly: true });
    const roBase = await ro.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await page.goto(`${roBase}/runs/graded1`);
      const cli = page.getByTestId('cli-commands');
      await cli.waitFor();
      expect(await cli.textContent()).toContain('agentv regrade graded1');
      expect(await page.getByTestId('regrade-button').count()).toBe(0);
    } finally {
      await ro.app.close();
    }
  });
});
