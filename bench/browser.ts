// Studio at depth, measured in Chromium (playwright-core, /usr/bin/chromium):
// first rows painted at 1,000 and 100,000 runs, the cost of appending a page at
// depth 100 and 10,000, DOM nodes there, first rows of a 100-test and a
// 10,000-test run, the results page's latency, Studio's first request after
// start, and `agentv runs list` beside `node -e 0`. A million runs is not
// seeded here (minutes of fast-import on this machine); the row says so.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { initRepo } from '../src/git/index.js';
import { buildApp } from '../src/server/app.js';
import { createRun, finishRun, openStore, updateRun, type Store } from '../src/store/index.js';
import { seedRuns, syntheticRuns } from '../src/store/seed.js';
import { mark, timeEach } from './stats.js';

const execFileP = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';
const log = (s: string) => void process.stderr.write(`bench: ${s}\n`);
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));
type Page = import('playwright-core').Page;


/** A run of `tests` rows in `store`, to open in the browser. */
async function wideRun(store: Store, runId: string, tests: number): Promise<void> {
  const [gen] = syntheticRuns({ runs: 1, rowsPerRun: tests, startAt: new Date(), sourceCommit: null });
  const m = { ...gen!.manifest, run_id: runId, status: 'running' as const, counts: null, finished_at: null };
  await createRun({ store, manifest: m });
  // In group commits of 50 rows, as the writer commits them.
  for (let i = 0; i < gen!.rows.length; i += 50) await updateRun({ store, runId, update: { subject: 'bench rows', rows: gen!.rows.slice(i, i + 50) } });
  await finishRun({ store, runId, status: 'completed' });
}

async function loaded(page: Page): Promise<number> {
  return Number(await page.getByTestId('runs-table').getAttribute('data-loaded'));
}

/** Scroll until `depth` runs are loaded; then the time one more page takes to append, and the DOM size. */
async function appendAt(page: Page, depth: number): Promise<{ appendMs: number; nodes: number }> {
  while ((await loaded(page)) < depth) {
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=runs-table]')?.getAttribute('data-loaded')) > n, await loaded(page) - 1);
  }
  const appendMs = await timeEach(3, async () => {
    const before = await loaded(page);
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=runs-table]')?.getAttribute('data-loaded')) > n, before, { timeout: 60_000 });
  });
  return { appendMs, nodes: await page.evaluate(() => document.querySelectorAll('*').length) };
}

async function cliMs(cli: string, cwd: string, args: string[]): Promise<number> {
  return timeEach(5, () => execFileP(process.execPath, [cli, ...args], { cwd }));
}

export async function measureBrowser({ tmp, cli }: { tmp: string; cli: string }): Promise<string[][]> {
  const webRoot = path.join(path.dirname(cli), 'web');
  if (!existsSync(CHROMIUM)) return [['browser section', '', '', '', 'skipped: no /usr/bin/chromium', '']];
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const out: Record<string, Record<number, string>> = {};
  const put = (k: string, size: number, v: string) => ((out[k] ??= {})[size] = v);
  const nodeE0 = await timeEach(5, () => execFileP(process.execPath, ['-e', '0']));
  const raw: Record<string, number> = {};
  try {
    for (const size of [1_000, 100_000]) {
      const dir = path.join(tmp, `browser-${size}`);
      await initRepo({ dir });
      log(`browser: seeding ${size} runs ...`);
      await seedRuns({ repoDir: dir, runs: size, rowsPerRun: 2 });
      const store = await openStore({ repoDir: dir });
      // Studio's first request after start: a fresh app, its first GET /api/runs.
      const t0 = performance.now();
      const cold = await buildApp({ store, cliPath: cli, webRoot });
      await cold.app.inject('/api/runs?limit=50');
      put('studio first request after start (ms)', size, ms(performance.now() - t0));
      raw[`first${size}`] = performance.now() - t0;
      await cold.app.close();
      const cliList = await cliMs(cli, dir, ['runs', 'list', '--limit', '50', '--json']);
      put('`agentv runs list --limit 50 --json`, wall (ms, median of 5)', size, ms(cliList));
      raw[`cli${size}`] = cliList;

      const studio = await buildApp({ store, cliPath: cli, webRoot });
      const base = await studio.app.listen({ port: 0, host: '127.0.0.1' });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const paint = await timeEach(3, async () => {
        await page.goto(base);
        await page.getByTestId('run-row').first().waitFor();
      });
      put('runs list: first rows painted (ms, median of 3)', size, ms(paint));
      raw[`paint${size}`] = paint;
      for (const depth of size >= 100_000 ? [100, 10_000] : [100]) {
        log(`browser: scrolling to ${depth} runs deep (${size} stored) ...`);
        await page.goto(base);
        await page.getByTestId('run-row').first().waitFor();
        const a = await appendAt(page, depth);
        put(`append one page at depth ${depth.toLocaleString('en-US')} (ms, median of 3)`, size, ms(a.appendMs));
        put(`DOM elements at depth ${depth.toLocaleString('en-US')}`, size, String(a.nodes));
        raw[`append${depth}`] = a.appendMs;
        raw[`nodes${depth}`] = a.nodes;
      }
      if (size === 1_000) {
        for (const tests of [100, 10_000]) {
          const runId = `wide-${tests}`;
          await wideRun(store, runId, tests);
          const first = await timeEach(3, async () => {
            await page.goto(`${base}/runs/${runId}`);
            await page.getByTestId('test-row').first().waitFor();
          });
          put('run page: first test rows painted (ms, median of 3)', tests, ms(first));
          raw[`runpage${tests}`] = first;
          const api = await timeEach(9, () => studio.app.inject(`/api/runs/${runId}/results?limit=100&sort=-score`));
          put('`GET /api/runs/:id/results?limit=100&sort=-score` (ms, median of 9)', tests, ms(api));
          raw[`results${tests}`] = api;
          // What opening the run costs a Studio that has not seen it: the run document and the first page.
          const fresh = await timeEach(5, async () => {
            const s = await buildApp({ store, cliPath: cli, webRoot });
            const doc = await s.app.inject(`/api/runs/${runId}?results=false`);
            const first = await s.app.inject(`/api/runs/${runId}/results?limit=100`);
            if (doc.statusCode !== 200 || first.statusCode !== 200) throw new Error(`run ${runId}: ${doc.statusCode} / ${first.statusCode}`);
            await s.app.close();
          });
          raw[`open${tests}`] = fresh;
        }
      }
      await page.close();
      await studio.app.close();
      store.close();
    }
  } finally {
    await browser.close();
  }
  const r = (k: string, a: number, b: number, target: string): string[] => [k, out[k]?.[a] ?? '', '', out[k]?.[b] ?? '', '', target];
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  return [
    [...r('runs list: first rows painted (ms, median of 3)', 1_000, 100_000, '').slice(0, 4), `100k/1k = ${ratio(raw.paint100000!, raw.paint1000!)}`, `≤ 1.5x ${mark(raw.paint100000! / raw.paint1000! <= 1.5)}`],
    ['append one page at depth 100 / 10,000 (ms, median of 3; 100,000 runs stored)', '', '', `${ms(raw.append100!)} / ${ms(raw.append10000!)}`, `10,000/100 = ${ratio(raw.append10000!, raw.append100!)}`, `≤ 1x (noise aside) ${mark(raw.append10000! / raw.append100! <= 1.5)}`],
    ['DOM elements at depth 100 / 10,000', '', '', `${raw.nodes100} / ${raw.nodes10000}`, '', `bounded ${mark(raw.nodes10000! <= raw.nodes100! * 1.5)}`],
    ['run page: first test rows painted, 100-test / 10,000-test run (ms, median of 3)', '', '', '', `${ms(raw.runpage100!)} / ${ms(raw.runpage10000!)}`, `as fast ${mark(raw.runpage10000! / raw.runpage100! <= 2)}`],
    [
      "opening a run in a fresh Studio: `GET /api/runs/:id?results=false` + first `GET /api/runs/:id/results?limit=100`, 100 / 10,000 tests (ms, median of 5)",
      '',
      '',
      '',
      `${ms(raw.open100!)} / ${ms(raw.open10000!)} = ${ratio(raw.open10000!, raw.open100!)}`,
      `≤ 2x ${mark(raw.open10000! / raw.open100! <= 2)}`,
    ],
    ['`GET /api/runs/:id/results?limit=100&sort=-score`, 100 / 10,000 tests, repeated (ms, median of 9)', '', '', '', `${ms(raw.results100!)} / ${ms(raw.results10000!)}`, `≤ 2x ${mark(raw.results10000! / raw.results100! <= 2)}`],
    r('studio first request after start (ms)', 1_000, 100_000, `100k/1k = ${ratio(raw.first100000!, raw.first1000!)}`),
    [...r('`agentv runs list --limit 50 --json`, wall (ms, median of 5)', 1_000, 100_000, '').slice(0, 4), `node -e 0: ${ms(nodeE0)} ms; 1M runs not seeded (minutes here)`, `100k/1k = ${ratio(raw.cli100000!, raw.cli1000!)}`],
  ];
}
