// Real Chromium for the Studio tests (playwright-core, Debian's /usr/bin/chromium)
// and their screenshots.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { ROOT } from './proc.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS = path.join(ROOT, 'test-results/screenshots');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/**
 * A screenshot of the page under test-results/screenshots/<name>.png.
 * `AGENTV_UPDATE_SCREENSHOTS=1 npx vitest run test/e2e` also refreshes the committed copy in docs/screenshots/.
 */
export async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  if (process.env.AGENTV_UPDATE_SCREENSHOTS) copyFileSync(file, path.join(ROOT, 'docs/screenshots', `${name}.png`));
}

/** Run `fn` in a fresh browser context (its own viewport, scheme, storage), closed afterwards whatever happens. */
export async function inContext<T>(browser: Browser, options: BrowserContextOptions, fn: (ctx: BrowserContext) => Promise<T>): Promise<T> {
  const ctx = await browser.newContext(options);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
