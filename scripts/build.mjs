// Builds the CLI (Node, ESM, code-split so `runs list` does not load Fastify)
// and the Studio viewer (browser, minified). Type checking is `tsc --noEmit`.
import { build } from 'esbuild';
import { mkdirSync, copyFileSync, chmodSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const define = { __AGENTV_VERSION__: JSON.stringify(pkg.version) };
// zod is bundled into the CLI's chunks: as a package it is ~95 ES modules that
// Node resolves, reads and links one by one on every command. commander and
// picocolors (which every command loads) are CommonJS: bundled, no command
// pays for Node's CommonJS-from-ESM loading (~40 ms of CPU on `--version` here).
// yaml too (~60 CommonJS modules for Node): its ES module build is bundled instead.
// Every other package stays external.
const BUNDLED = new Set(['zod', 'commander', 'picocolors', 'yaml']);
// zod's classic API re-exports its ~50 message locales as `z.locales`; agentv writes its
// messages in English and never reads that namespace, so the bundle gets English alone
// (313 KB of source less for every command that loads zod to parse).
const zodLocalesEnglishOnly = {
  name: 'zod-locales-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer)
        ? { path: 'en', namespace: 'zod-locales', pluginData: fileURLToPath(new URL('../locales/en.js', pathToFileURL(args.importer))) }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(args.pluginData)};`, resolveDir: '.' }));
  },
};
const external = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)].filter((d) => !BUNDLED.has(d));

// Bundled CommonJS calls require() for Node's built-in modules: a chunk gets one from this banner.
const REQUIRE_BANNER = "import { createRequire as __agentvCreateRequire } from 'node:module';\nconst require = __agentvCreateRequire(import.meta.url);";

// Chunk names carry content hashes: start clean, so no stale chunk (or its source map) stays beside the new ones.
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'cli/main.ts', bench: 'bench/main.ts', seed: 'bench/seed.ts', 'suite-worker': 'src/server/suite-worker.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  alias: { yaml: fileURLToPath(new URL('../node_modules/yaml/browser/index.js', import.meta.url)) },
  plugins: [zodLocalesEnglishOnly],
  sourcemap: 'linked',
  define,
  banner: { js: `#!/usr/bin/env node\n${REQUIRE_BANNER}` },
  logLevel: 'warning',
});
chmodSync('dist/cli.js', 0o755);
// Only a chunk that calls require() keeps the banner: in the others it would cost an import.meta
// and a createRequire at every load (~10 ms of a `runs list` here, over ~20 chunks). Blank lines
// take its place, so each chunk's source map keeps its line numbers.
for (const name of readdirSync('dist').filter((n) => n.endsWith('.js'))) {
  const code = readFileSync(`dist/${name}`, 'utf8');
  const rest = code.replace(REQUIRE_BANNER, '');
  if (rest !== code && !/(?<![\w$.])require\b/.test(rest)) writeFileSync(`dist/${name}`, code.replace(REQUIRE_BANNER, '\n'));
}

await build({
  entryPoints: { app: 'web/main.tsx' },
  outdir: 'dist/web',
  bundle: true,
  // Code loaded on demand (the Compare page's diff library) is its own chunk,
  // served next to app.js, so the first bundle stays within its budget.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  define: { ...define, 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
mkdirSync('dist/web', { recursive: true });
copyFileSync('web/index.html', 'dist/web/index.html');
copyFileSync('web/style.css', 'dist/web/style.css');
