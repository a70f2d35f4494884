// The viewer's budget (SPEC section 5): under 30 KB of gzipped JavaScript. `npm test`
// builds before vitest runs, so this reads the real minified bundle.
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const dist = new URL('../../dist/web/', import.meta.url);

describe('Studio viewer bundle', () => {
  it('is under 30 KB gzipped', () => {
    const js = readFileSync(new URL('app.js', dist));
    // What the first page loads: app.js and the chunks it imports statically (code
    // shared with pages loaded on demand, such as Compare, is split into those).
    const files = new Set(['app.js']);
    for (const f of files) {
      const text = readFileSync(new URL(f, dist), 'utf8');
      for (const m of text.matchAll(/(?:^|[;}])\s*import\s*(?:[^"'()]*?from\s*)?["']\.\/([\w.-]+\.js)["']/g)) files.add(m[1]!);
    }
    const gzipped = [...files].reduce((n, f) => n + gzipSync(readFileSync(new URL(f, dist)), { level: 9 }).length, 0);
    expect(js.length).toBeGreaterThan(1000); // a real bundle, not an empty placeholder
    expect(gzipped).toBeLessThan(30 * 1024);
  });

  it('loads the Compare page and its diff library on demand, as chunks served next to app.js', () => {
    const js = readFileSync(new URL('app.js', dist), 'utf8');
    const lazy = [...js.matchAll(/import\(["']\.\/([\w.-]+\.js)["']\)/g)].map((m) => m[1]!);
    expect(lazy.length).toBeGreaterThan(0);
    for (const f of lazy) expect(existsSync(new URL(f, dist))).toBe(true);
  });

  it('ships index.html that mounts the app and loads the bundle and stylesheet', () => {
    const html = readFileSync(new URL('index.html', dist), 'utf8');
    expect(html).toContain('id="app"');
    expect(html).toContain('src="/app.js"');
    expect(html).toContain('href="/style.css"');
    expect(existsSync(new URL('style.css', dist))).toBe(true);
  });
});
