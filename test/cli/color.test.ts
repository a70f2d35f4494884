// Colour in the terminal: on for a terminal, off for a pipe and under NO_COLOR,
// on under FORCE_COLOR (even into a pipe); colour never changes the layout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedRuns } from '../../src/store/seed.js';
import { colorsFor } from '../../cli/color.js';
import { runCli } from '../helpers/cli.js';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';

let repo: string;
beforeAll(async () => {
  repo = makeRepo();
  await seedRuns({ repoDir: repo, runs: 3, rowsPerRun: 2 });
});
afterAll(cleanupRepos);

const ANSI = /\x1b\[[0-9;]*m/g;

describe('colour', () => {
  it('colorsFor: FORCE_COLOR wins, then NO_COLOR, then whether the output is a terminal', () => {
    const on = (env: NodeJS.ProcessEnv, tty: boolean) => colorsFor(env, tty).red('x') !== 'x';
    expect(on({}, true)).toBe(true);
    expect(on({}, false)).toBe(false);
    expect(on({ NO_COLOR: '1' }, true)).toBe(false);
    expect(on({ NO_COLOR: '' }, true)).toBe(true);
    expect(on({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(on({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(on({ FORCE_COLOR: '1', NO_COLOR: '1' }, false)).toBe(true);
  });

  it('runs list: plain into a pipe and under NO_COLOR, coloured statuses under FORCE_COLOR, the same table either way', async () => {
    const env = (e: NodeJS.ProcessEnv) => ({ ...e, FORCE_COLOR: e.FORCE_COLOR ?? '', NO_COLOR: e.NO_COLOR ?? '' });
    const pipe = await runCli(['runs', 'list'], { cwd: repo, env: env({}) });
    const noColor = await runCli(['runs', 'list'], { cwd: repo, env: env({ NO_COLOR: '1' }) });
    const forced = await runCli(['runs', 'list'], { cwd: repo, env: env({ FORCE_COLOR: '1' }) });
    for (const r of [pipe, noColor, forced]) expect(r.code).toBe(0);
    expect(pipe.stdout).not.toMatch(ANSI);
    expect(noColor.stdout).toBe(pipe.stdout);
    expect(forced.stdout).toMatch(/\x1b\[3[12]m(completed)\x1b\[39m/);
    expect(forced.stdout.replace(ANSI, '')).toBe(pipe.stdout);
  });
});
