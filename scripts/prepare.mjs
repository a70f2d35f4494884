// `npm install -g <path or git url>` runs this in the package folder: build dist/.
// A path install does not install devDependencies first, so when the build tools are
// missing they are installed here (into this folder only), then the normal build runs.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
try {
  require.resolve('esbuild');
} catch {
  console.error('agentv prepare: installing the build tools (devDependencies) to build dist/');
  // Not the outer install's settings (npm_config_global, prefix, ...): a local install here.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_config_')));
  execFileSync(npm, ['install', '--include=dev', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', process.cwd()], { stdio: 'inherit', env });
}
execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
