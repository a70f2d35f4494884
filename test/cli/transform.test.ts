// promptfoo's options.transform (on a test or in defaultTest): the output is rewritten
// before the test's assertions see it, in the same time-limited sandbox as javascript.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';

afterEach(cleanupRepos);

const suite = (transformLine: string) =>
  [
    'prompts: ["{{ word }}"]',
    'providers: [echo]',
    'defaultTest:',
    `  options: { ${transformLine} }`,
    'tests:',
    '  - vars: { word: hello }',
    '    assert: [{ type: equals, value: HELLO! }]',
    '  - vars: { word: bye }',
    '    options: { transform: "output + \'?\'" }',
    '    assert: [{ type: equals, value: bye? }]',
    '',
  ].join('\n');

describe('options.transform', () => {
  it('rewrites the output before the assertions: defaultTest for every test, a test its own', async () => {
    const dir = makeRepo();
    writeFileSync(path.join(dir, 'promptfooconfig.yaml'), suite(`transform: "output.toUpperCase() + '!'"`));
    const r = await runCli(['eval', 'promptfooconfig.yaml', '--json'], { cwd: dir });
    expect(r.stderr).not.toContain('not supported');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ passed: 2, failed: 0, errored: 0 });
  });

  it('is refused with its line when an assertion of the test has its own transform', async () => {
    const dir = makeRepo();
    writeFileSync(
      path.join(dir, 'promptfooconfig.yaml'),
      ['providers: [echo]', 'tests:', '  - vars: { input: x }', '    options: { transform: output }', '    assert: [{ type: equals, value: x, transform: output }]', ''].join('\n'),
    );
    const r = await runCli(['eval', 'promptfooconfig.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/promptfooconfig\.yaml:4: .*options\.transform together with an assertion/);
  });
});
