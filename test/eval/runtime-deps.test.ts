// Load-time linking of promptfoo's run-time values: which earlier test each test reads
// (storeOutputAs per prompt and repeat, _conversation per conversationId and scenario),
// and that tests reading nothing keep their input_hash.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSuite } from '../../src/eval/suite.js';
import { inputHash } from '../../src/eval/plan.js';
import type { Target } from '../../src/eval/types.js';

async function load(text: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentv-runtime-'));
  fs.writeFileSync(path.join(dir, 'promptfooconfig.yaml'), text);
  return loadSuite({ path: 'promptfooconfig.yaml', repoDir: dir });
}

const target = { name: 'echo', provider: 'echo', configHash: 'x', call: async () => ({ output: '' }) } as Target;

describe('runtime-deps', () => {
  it('links a stored name to the latest earlier producer of the same prompt and repeat', async () => {
    const suite = await load(
      ['prompts: ["A {{ x }}", "B {{ x }}"]', 'evaluateOptions: { repeat: 2 }', 'tests:', '  - id: p', '    options: { storeOutputAs: x }', '  - id: r', '    vars: { q: "{{ x }}" }', ''].join('\n'),
    );
    const byId = Object.fromEntries(suite.tests.map((t) => [t.id, t]));
    expect(byId['r:p1']!.runtime!.stored).toEqual({ x: 'p:p1' });
    expect(byId['r:p2#2']!.runtime!.stored).toEqual({ x: 'p:p2#2' });
    expect(byId['r:p2']!.prompt).toBe('B [run time: output of test p:p2]');
    expect(byId['p:p1']!.storeOutputAs).toEqual({ name: 'x', suiteDir: '' });
    expect(byId['p:p1']!.runtime).toBeUndefined();
  });

  it('counts a javascript assertion or transform reading context.vars.<name> as reading it', async () => {
    const suite = await load(
      ['prompts: ["{{ q }}"]', 'tests:', '  - { id: p, vars: { q: a }, options: { storeOutputAs: fruit } }', '  - id: j', '    vars: { q: b }', '    assert: [{ type: javascript, value: "context.vars.fruit === output" }]', '  - id: n', '    vars: { q: c }', '    assert: [{ type: javascript, value: "context.vars.fruitless" }]', ''].join('\n'),
    );
    expect(suite.tests.map((t) => t.runtime?.stored)).toEqual([undefined, { fruit: 'p' }, undefined]);
  });

  it('keeps conversations apart by conversationId and scenario; disableConversationVar reads none but still counts', async () => {
    const suite = await load(
      [
        'prompts: ["{{ _conversation | length }} {{ q }}"]',
        'tests:',
        '  - { id: a, vars: { q: a } }',
        '  - { id: other, vars: { q: o }, metadata: { conversationId: c2 } }',
        '  - { id: quiet, vars: { q: b }, options: { disableConversationVar: true } }',
        '  - { id: c, vars: { q: c } }',
        'scenarios:',
        '  - config: [{ vars: { s: 1 } }]',
        '    tests: [{ vars: { q: s1 } }, { vars: { q: s2 } }]',
        '',
      ].join('\n'),
    );
    const t = suite.tests;
    expect(t.map((x) => x.runtime?.conversation)).toEqual([[], [], undefined, ['a', 'quiet'], [], [t[4]!.id]]);
    expect(t[2]!.prompt).toBe('0 b');
    expect(t[3]!.prompt).toBe('2 c');
  });

  it('leaves tests that read nothing as they were: same prompt and input_hash as in a suite without the feature', async () => {
    const plain = await load(['prompts: ["{{ q }}"]', 'tests:', '  - { id: a, vars: { q: hello } }', ''].join('\n'));
    const mixed = await load(['prompts: ["{{ q }}"]', 'tests:', '  - { id: a, vars: { q: hello }, options: { storeOutputAs: y } }', '  - { id: b, vars: { q: "{{ y }}" } }', ''].join('\n'));
    expect(mixed.tests[0]!.runtime).toBeUndefined();
    expect(inputHash({ test: mixed.tests[0]!, target, grader: null })).toBe(inputHash({ test: plain.tests[0]!, target, grader: null }));
    // A reader's hash depends on its template and producer, not on a value.
    const again = await load(['prompts: ["{{ q }}"]', 'tests:', '  - { id: a, vars: { q: hello }, options: { storeOutputAs: y } }', '  - { id: b, vars: { q: "{{ y }}!" } }', ''].join('\n'));
    expect(inputHash({ test: again.tests[1]!, target, grader: null })).not.toBe(inputHash({ test: mixed.tests[1]!, target, grader: null }));
  });
});
