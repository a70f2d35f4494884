// The viewer's budget (SPEC section 5): under 30 KB of gzipped JavaScript. `npm test`
// builds before vitest runs, so this reads the real minified bundle.
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const dist = new URL('../../dist/web/', import.meta.url);

describe('Studio viewer bundle', () => {
  it('is under 30 KB gzipped', () => {
    const js = readFileSync(new URL('app.js', dist));
    const gzipped = gzipSync(js, { level: 9 }).length;
    expect(js.length).toBeGreaterThan(1000); // a real bundle, not an empty placeholder
    expect(gzipped).toBeLessThan(30 * 1024);
  });

  it('ships index.html that mounts the app and loads the bundle and stylesheet', () => {
    const html = readFileSync(new URL('index.html', dist), 'utf8');
    expect(html).toContain('id="app"');
    expect(html).toContain('src="/app.js"');
    expect(html).toContain('href="/style.css"');
    expect(existsSync(new URL('style.css', dist))).toBe(true);
  });
});
