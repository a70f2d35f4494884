import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentvError } from '../../src/errors.js';
import { checkTemplate, loadSuite, promptToText, renderTemplate } from '../../src/eval/suite.js';
import { SuiteProblem } from '../../src/schemas/suite.js';

/** A fresh repo dir holding `files`; returns its path. */
function repo(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentv-suite-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

async function load(files: Record<string, string>, suitePath = 'suite.yaml') {
  const repoDir = repo(files);
  return { repoDir, suite: await loadSuite({ path: suitePath, repoDir }) };
}

/** Loads a suite that must be invalid; returns the error's problems. */
async function problemsOf(files: Record<string, string>, suitePath = 'suite.yaml'): Promise<SuiteProblem[]> {
  const err = await loadSuite({ path: suitePath, repoDir: repo(files) }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentvError);
  expect((err as AgentvError).code).toBe('SUITE_INVALID');
  const problems = (err as AgentvError<{ problems: SuiteProblem[] }>).data.problems;
  expect(problems.length).toBeGreaterThan(0);
  return problems;
}

const sha256 = (...parts: string[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

describe('renderTemplate', () => {
  const vars = { input: 'hi', user: { name: 'Ada', langs: ['ts', 'go'] }, n: 3, flag: false, nothing: null };

  it('substitutes vars and dotted paths, tolerant of whitespace', () => {
    expect(renderTemplate({ template: '{{input}} / {{ user.name }} / {{  user.langs.1 }} / {{ user.langs[0] }}', vars })).toBe('hi / Ada / go / ts');
  });

  it('renders unknown vars as empty, scalars as text and objects as JSON', () => {
    expect(renderTemplate({ template: '[{{ missing }}][{{ user.nope.deeper }}][{{ nothing }}]', vars })).toBe('[][][]');
    expect(renderTemplate({ template: '{{ n }} {{ flag }}', vars })).toBe('3 false');
    expect(renderTemplate({ template: '{{ user }}', vars })).toBe('{"name":"Ada","langs":["ts","go"]}');
  });

  it('honours nunjucks whitespace control and comments', () => {
    expect(renderTemplate({ template: 'a  {{- input -}}  b{# note #}', vars })).toBe('ahib');
  });

  it('does not reach into prototypes', () => {
    expect(renderTemplate({ template: '{{ input.constructor }}{{ toString }}', vars })).toBe('');
  });

  it('renders chat message lists as role: content lines', () => {
    const messages = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello' },
    ];
    expect(renderTemplate({ template: '{{ input }}', vars: { input: messages } })).toBe('system: be brief\nuser: hello');
    expect(promptToText({ prompt: messages as never })).toBe('system: be brief\nuser: hello');
  });

  it('renders nunjucks tags, loops and filters, and checkTemplate reports what cannot render', () => {
    expect(renderTemplate({ template: '{% if flag %}y{% else %}n{% endif %} {{ input | upper }} {% for l in user.langs %}[{{ l }}]{% endfor %}', vars })).toBe('n HI [ts][go]');
    expect(renderTemplate({ template: '{{ vars.input }} {{ user | dump }}', vars })).toBe('hi {"name":"Ada","langs":["ts","go"]}');
    // promptfoo's `load` filter parses a JSON string var.
    expect(renderTemplate({ template: '{{ (j | load).tone }}', vars: { j: '{"tone":"formal"}' } })).toBe('formal');
    expect(checkTemplate({ template: '{% if x %}y' })).toHaveLength(1);
    expect(checkTemplate({ template: '{{ input | nosuchfilter }}' })).toEqual(['template: unknown filter "nosuchfilter"']);
    expect(checkTemplate({ template: 'open {{ input' })).toHaveLength(1);
    expect(checkTemplate({ template: '{{ a.b[0] }} {# c #} {{-d-}} {% if x %}{{ x | upper }}{% endif %}' })).toEqual([]);
  });

  it('answers a template of one var as the engine does (the engine is not loaded for it)', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['{{ input }}', { input: 'hi <b>&amp;</b> {{ not a template }}' }],
      ['{{input}}', { input: '' }],
      ['{{- input -}}', { input: '  padded  ' }],
      ['{{ vars }}', { vars: 'a var named vars' }],
      ['{{ _conversation }}', { _conversation: 'own value' }],
      ['{{ true }}', { true: 'shadowed?' }],
      ['{{ none }}', { none: 'shadowed?' }],
      ['{{ toString }}', { toString: 'own' }],
      ['{{ missing }}', { input: 'x' }],
      ['{{ n }}', { n: 3 }],
      ['{{ input }}', { input: [{ role: 'user', content: 'hello' }] }],
      [' {{ input }}', { input: 'leading space' }],
      // Only the whitespace the engine's lexer skips; other spaces are not a var name's padding.
      ['{{\u00A0input\u00A0}}', { input: 'no-break spaces' }],
      ['{{\u2003input }}', { input: 'em space' }],
      ['{{\vinput}}', { input: 'vertical tab' }],
      ['{{ __proto__ }}', JSON.parse('{"__proto__": "own"}') as Record<string, unknown>],
      ['{{ constructor }}', { constructor: 'own' }],
    ];
    for (const [template, v] of cases) {
      // A comment changes nothing rendered but takes the template past the one-var shortcut.
      expect(renderTemplate({ template, vars: v }), template).toBe(renderTemplate({ template: `${template}{# engine #}`, vars: v }));
    }
    expect(checkTemplate({ template: '{{ input }}' })).toEqual([]);
  });

  it('closes the constructor escape', () => {
    expect(() => renderTemplate({ template: '{{ range.constructor("return process")() }}', vars })).toThrow(/Unable to call/);
  });
});

describe('loadSuite: valid suites', () => {
  it('loads a minimal inline suite with defaults', async () => {
    const text = 'tests:\n  - id: a\n    vars: { input: "What is 2+2?" }\n    assert: [{ type: contains, value: "4" }]\n';
    const { repoDir, suite } = await load({ 'evals/math.yaml': text }, 'evals/math.yaml');
    expect(suite.name).toBe('math');
    expect(suite.path).toBe('evals/math.yaml');
    expect(suite.absPath).toBe(path.join(repoDir, 'evals/math.yaml'));
    expect(suite.hash).toBe(sha256(text));
    expect(suite.needsGrader).toBe(false);
    expect(suite.tests).toHaveLength(1);
    const [t] = suite.tests;
    expect(t).toMatchObject({ id: 'a', prompt: 'What is 2+2?', vars: { input: 'What is 2+2?' }, metadata: {}, tags: [] });
    expect(t!.threshold).toBeUndefined();
    expect(t!.assertions).toEqual([{ type: 'contains', negate: false, value: '4', weight: 1, required: false }]);
  });

  it('accepts an absolute path inside the repo, and takes name and description from the file', async () => {
    const repoDir = repo({ 's.yml': 'name: triage\ndescription: d\ntests: [{ id: a }]\n' });
    const suite = await loadSuite({ path: path.join(repoDir, 's.yml'), repoDir });
    expect(suite).toMatchObject({ name: 'triage', description: 'd', path: 's.yml' });
  });

  it('ignores promptfoo top-level keys it does not use', async () => {
    const { suite } = await load({
      'suite.yaml': 'providers: [openai:gpt-4o]\noutputPath: out.json\nevaluateOptions: { maxConcurrency: 2 }\ntests: [{ id: a }]\n',
    });
    expect(suite.tests.map((t) => t.id)).toEqual(['a']);
  });

  it('merges default_test, suite assertions and test fields in order', async () => {
    const { suite } = await load({
      'suite.yaml': [
        'threshold: 0.5',
        'default_test:',
        '  vars: { lang: en, input: default }',
        '  assert: [{ type: icontains, value: "{{ lang }}" }]',
        '  metadata: { owner: team, area: x }',
        '  tags: [smoke]',
        '  threshold: 0.7',
        'assert:',
        '  - type: not-contains',
        '    value: error',
        'tests:',
        '  - id: a',
        '    vars: { input: hello }',
        '    metadata: { area: y }',
        '    tags: [slow, smoke]',
        '    assert: [{ type: equals, value: "{{ expected_output }}" }]',
        '    threshold: 0.9',
        '  - id: b',
        '    vars: { lang: fr, expected_output: bonjour }',
        '    assert: [{ type: equals, value: "{{ expected_output }}" }]',
      ].join('\n'),
    });
    const [a, b] = suite.tests;
    expect(a!.vars).toEqual({ lang: 'en', input: 'hello' });
    expect(a!.prompt).toBe('hello');
    expect(a!.metadata).toEqual({ owner: 'team', area: 'y' });
    expect(a!.tags).toEqual(['smoke', 'slow']);
    expect(a!.threshold).toBe(0.9);
    expect(a!.assertions.map((x) => [x.type, x.negate, x.value])).toEqual([
      ['icontains', false, 'en'],
      ['contains', true, 'error'],
      ['equals', false, ''],
    ]);
    expect(b!.prompt).toBe('default');
    expect(b!.threshold).toBe(0.7);
    expect(b!.assertions.map((x) => x.value)).toEqual(['fr', 'error', 'bonjour']);
  });

  it('falls back to the suite threshold, and accepts promptfoo spelling defaultTest', async () => {
    const { suite } = await load({
      'suite.yaml': 'threshold: 0.25\ndefaultTest: { assert: [{ type: contains, value: x }] }\ntests: [{ id: a }]\n',
    });
    expect(suite.tests[0]!.threshold).toBe(0.25);
    expect(suite.tests[0]!.assertions.map((x) => x.type)).toEqual(['contains']);
  });

  it('passes chat messages through for a template that is just {{ input }}', async () => {
    const { suite } = await load({
      'suite.yaml': [
        'tests:',
        '  - id: chat',
        '    vars:',
        '      topic: cats',
        '      input:',
        '        - { role: system, content: "You know about {{ topic }}." }',
        '        - { role: user, content: "Tell me about {{topic}}" }',
      ].join('\n'),
    });
    expect(suite.tests[0]!.prompt).toEqual([
      { role: 'system', content: 'You know about cats.' },
      { role: 'user', content: 'Tell me about cats' },
    ]);
    expect(suite.tests[0]!.vars.input).toEqual([
      { role: 'system', content: 'You know about {{ topic }}.' },
      { role: 'user', content: 'Tell me about {{topic}}' },
    ]);
  });

  it('flattens chat messages into text for any other template', async () => {
    const { suite } = await load({
      'suite.yaml': [
        'prompts: "Conversation:\\n{{ input }}\\nReply in {{ lang }}."',
        'tests:',
        '  - id: chat',
        '    vars:',
        '      lang: en',
        '      input: [{ role: user, content: "hi {{ lang }}" }, { role: assistant, content: hello }]',
      ].join('\n'),
    });
    expect(suite.tests[0]!.prompt).toBe('Conversation:\nuser: hi en\nassistant: hello\nReply in en.');
  });

  it('runs every test once per prompt, with :pN ids', async () => {
    const { suite } = await load({
      'suite.yaml': [
        'prompts:',
        '  - "Answer: {{ input }}"',
        '  - raw: "Q: {{ input }}"',
        '    label: terse',
        'tests: [{ id: a, vars: { input: x } }, { id: b, vars: { input: y } }]',
      ].join('\n'),
    });
    expect(suite.tests.map((t) => [t.id, t.prompt])).toEqual([
      ['a:p1', 'Answer: x'],
      ['a:p2', 'Q: x'],
      ['b:p1', 'Answer: y'],
      ['b:p2', 'Q: y'],
    ]);
  });

  it('normalises assertions: bare strings, not-, weights, scripts, lists', async () => {
    const { suite } = await load({
      'suite.yaml': [
        'tests:',
        '  - id: a',
        '    vars: { input: q, word: Paris }',
        '    assert:',
        '      - Is polite',
        '      - { type: not-icontains, value: sorry, weight: 2, required: true, metric: tone }',
        '      - { type: script, value: "test -n \\"$X\\"" }',
        '      - { type: script, value: [node, check.js] }',
        '      - { type: contains-any, value: "a, b ,c" }',
        '      - { type: icontains-all, value: ["{{ word }}", 3] }',
        '      - { type: llm-rubric, value: "mentions {{ word }}", provider: judge, threshold: 0.8 }',
        '      - { type: latency, threshold: 500 }',
        '      - { type: is-json, value: { type: object, required: [a] } }',
        '      - { type: equals, value: { a: 1 } }',
      ].join('\n'),
    });
    expect(suite.needsGrader).toBe(true);
    expect(suite.tests[0]!.assertions).toEqual([
      { type: 'llm-rubric', negate: false, value: 'Is polite', weight: 1, required: false },
      { type: 'icontains', negate: true, value: 'sorry', weight: 2, required: true, metric: 'tone' },
      { type: 'script', negate: false, command: ['sh', '-c', 'test -n "$X"'], weight: 1, required: false },
      { type: 'script', negate: false, command: ['node', 'check.js'], weight: 1, required: false },
      { type: 'contains-any', negate: false, value: ['a', 'b', 'c'], weight: 1, required: false },
      { type: 'icontains-all', negate: false, value: ['Paris', '3'], weight: 1, required: false },
      { type: 'llm-rubric', negate: false, value: 'mentions Paris', provider: 'judge', threshold: 0.8, weight: 1, required: false },
      { type: 'latency', negate: false, threshold: 500, weight: 1, required: false },
      { type: 'is-json', negate: false, value: { type: 'object', required: ['a'] }, weight: 1, required: false },
      { type: 'equals', negate: false, value: { a: 1 }, weight: 1, required: false },
    ]);
  });

  it('reads tests from a .jsonl file and hashes both files', async () => {
    const suiteText = 'prompts: ["Q: {{ input }}"]\ntests: ./cases/cases.jsonl\n';
    const cases = '{"id": "a", "vars": {"input": "one"}}\n\n{"id": 2, "vars": {"input": "two"}, "assert": ["polite"]}\n';
    const { suite } = await load({ 'evals/s.yaml': suiteText, 'evals/cases/cases.jsonl': cases }, 'evals/s.yaml');
    expect(suite.tests.map((t) => [t.id, t.prompt])).toEqual([
      ['a', 'Q: one'],
      ['2', 'Q: two'],
    ]);
    expect(suite.needsGrader).toBe(true);
    expect(suite.hash).toBe(sha256(suiteText, cases));
  });

  it('reads tests from .yaml and .json files (file:// accepted)', async () => {
    const y = await load({ 'suite.yaml': 'tests: cases.yml\n', 'cases.yml': '- id: a\n  vars: { input: x }\n- id: b\n' });
    expect(y.suite.tests.map((t) => t.id)).toEqual(['a', 'b']);
    const j = await load({ 'suite.yaml': 'tests: file://cases.json\n', 'cases.json': '[{"id": "a", "vars": {"input": "x"}}]' });
    expect(j.suite.tests.map((t) => t.prompt)).toEqual(['x']);
  });

  it('gives the same hash for the same bytes and a different one when a tests file changes', async () => {
    const a = await load({ 'suite.yaml': 'tests: c.jsonl\n', 'c.jsonl': '{"id":"a"}\n' });
    const b = await load({ 'suite.yaml': 'tests: c.jsonl\n', 'c.jsonl': '{"id":"a"}\n' });
    const c = await load({ 'suite.yaml': 'tests: c.jsonl\n', 'c.jsonl': '{"id":"b"}\n' });
    expect(a.suite.hash).toBe(b.suite.hash);
    expect(c.suite.hash).not.toBe(a.suite.hash);
  });
});

describe('loadSuite: problems', () => {
  it('throws SUITE_NOT_FOUND for a missing file', async () => {
    const err = await loadSuite({ path: 'nope.yaml', repoDir: repo({}) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentvError);
    expect((err as AgentvError).code).toBe('SUITE_NOT_FOUND');
  });

  it('refuses a suite path outside the repository, even when the file exists', async () => {
    const outside = repo({ 'suite.yaml': 'tests: [{ id: a }]\n' });
    const repoDir = repo({});
    for (const p of [path.join(outside, 'suite.yaml'), path.relative(repoDir, path.join(outside, 'suite.yaml')), '../x.yaml']) {
      const err = await loadSuite({ path: p, repoDir }).catch((e: unknown) => e);
      expect((err as AgentvError).code).toBe('SUITE_INVALID');
      expect((err as AgentvError<{ problems: SuiteProblem[] }>).data.problems[0]!.code).toBe('outside_repo');
    }
  });

  it('refuses a symlink that leads out of the repository', async () => {
    const outside = repo({ 'suite.yaml': 'tests: [{ id: a }]\n', 'cases.jsonl': '{"id":"a"}\n' });
    const repoDir = repo({ 'inner.yaml': 'tests: linked.jsonl\n' });
    fs.symlinkSync(path.join(outside, 'suite.yaml'), path.join(repoDir, 'link.yaml'));
    fs.symlinkSync(path.join(outside, 'cases.jsonl'), path.join(repoDir, 'linked.jsonl'));
    const err = await loadSuite({ path: 'link.yaml', repoDir }).catch((e: unknown) => e);
    expect((err as AgentvError).code).toBe('SUITE_INVALID');
    const err2 = await loadSuite({ path: 'inner.yaml', repoDir }).catch((e: unknown) => e);
    expect((err2 as AgentvError<{ problems: SuiteProblem[] }>).data.problems).toMatchObject([{ code: 'outside_repo', line: 1 }]);
  });

  it('refuses a tests file outside the repository', async () => {
    const problems = await problemsOf({ 'suite.yaml': 'name: x\ntests: ../../etc/passwd.jsonl\n' });
    expect(problems).toMatchObject([{ code: 'outside_repo', file: 'suite.yaml', line: 2 }]);
  });

  it('reports YAML syntax errors with their line', async () => {
    const problems = await problemsOf({ 'suite.yaml': 'name: x\ntests:\n  - id: a\n    vars: { input: "x"\n  - id: b\n' });
    expect(problems[0]).toMatchObject({ code: 'yaml_syntax', file: 'suite.yaml' });
    expect(problems[0]!.line).toBeGreaterThanOrEqual(4);
  });

  it('reports duplicate keys as YAML errors', async () => {
    const problems = await problemsOf({ 'suite.yaml': 'tests: []\ntests: []\n' });
    expect(problems).toMatchObject([{ code: 'yaml_syntax', line: 2 }]);
  });

  it('collects every problem in the file before throwing', async () => {
    const problems = await problemsOf({
      'suite.yaml': [
        'name: many', //                                      1
        'tests:', //                                          2
        '  - vars: { input: no id }', //                      3
        '  - id: dup', //                                     4
        '  - id: ok', //                                      5
        '    assert:', //                                     6
        '      - type: contans', //                           7
        '        value: x', //                                8
        '      - { type: not-nonsense, value: x }', //        9
        '      - { type: script }', //                       10
        '      - { type: regex, value: "([a-z" }', //        11
        '      - { type: is-json, value: [1, 2] }', //       12
        '      - { type: is-json, value: { $ref: "#/a" } }', // 13
        '  - id: dup', //                                    14
        '  - id: typo', //                                   15
        '    asserts: [{ type: contains, value: x }]', //    16
      ].join('\n'),
    });
    const pick = (p: SuiteProblem) => [p.code, p.line, p.test_id];
    // A test without an id is fine now: it gets a derived id (test/eval/suite-dialects.test.ts).
    expect(problems.map(pick)).toEqual([
      ['unknown_assertion', 7, 'ok'],
      ['unknown_assertion', 9, 'ok'],
      ['invalid_assertion', 10, 'ok'],
      ['invalid_assertion', 11, 'ok'],
      ['invalid_assertion', 12, 'ok'],
      ['invalid_assertion', 13, 'ok'],
      ['duplicate_id', 14, 'dup'],
      ['invalid', 16, 'typo'],
    ]);
    expect(problems.find((p) => p.code === 'duplicate_id')!.first_line).toBe(4);
    for (const p of problems) expect(p.file).toBe('suite.yaml');
  });

  it('lists the problems one per line in the message as file:line: test "id": ...', async () => {
    const err = (await loadSuite({
      path: 'suite.yaml',
      repoDir: repo({ 'suite.yaml': 'tests:\n  - id: a\n    assert: [{ type: nope }]\n  - id: a\n' }),
    }).catch((e: unknown) => e)) as AgentvError;
    const lines = err.message.split('\n').slice(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]!.startsWith('suite.yaml:3: test "a": ')).toBe(true);
    expect(lines[1]!.startsWith('suite.yaml:4: test "a": ')).toBe(true);
    expect(err.data).toMatchObject({ file: 'suite.yaml', line: 3, test_id: 'a' });
  });

  it('locates problems in suite-level and default_test assertions', async () => {
    const problems = await problemsOf({
      'suite.yaml': 'default_test:\n  assert:\n    - { type: equals }\nassert:\n  - { type: magic, value: 1 }\ntests: [{ id: a }]\n',
    });
    expect(problems.map((p) => [p.code, p.line, p.test_id])).toEqual([
      ['invalid_assertion', 3, undefined],
      ['unknown_assertion', 5, undefined],
    ]);
  });

  it('reports a missing tests file at the tests key', async () => {
    const problems = await problemsOf({ 'suite.yaml': 'name: x\n\ntests: ./missing.jsonl\n' });
    expect(problems).toMatchObject([{ code: 'tests_file', file: 'suite.yaml', line: 3 }]);
  });

  it('reports unsupported tests file formats', async () => {
    const problems = await problemsOf({ 'suite.yaml': 'tests: cases.py\n', 'cases.py': 'id\na\n' });
    expect(problems).toMatchObject([{ code: 'unsupported', line: 1 }]);
  });

  it('reports bad JSON lines, missing ids and duplicates with their jsonl line', async () => {
    const problems = await problemsOf({
      'suite.yaml': 'tests: cases.jsonl\n',
      'cases.jsonl': '{"id": "a"}\n{"id": "b",\n\n{"vars": {}}\n{"id": "a"}\n{"id": "c", "assert": [{"type": "equal", "value": "x"}]}\n',
    });
    expect(problems.map((p) => [p.code, p.file, p.line, p.test_id])).toEqual([
      ['json_syntax', 'cases.jsonl', 2, undefined],
      ['duplicate_id', 'cases.jsonl', 5, 'a'],
      ['unknown_assertion', 'cases.jsonl', 6, 'c'],
    ]);
    expect(problems[1]!.first_line).toBe(1);
  });

  it('locates problems in .yaml and .json tests files', async () => {
    const y = await problemsOf({ 'suite.yaml': 'tests: t.yaml\n', 't.yaml': '- id: a\n- id: b\n  assert:\n    - type: bogus\n' });
    expect(y).toMatchObject([{ code: 'unknown_assertion', file: 't.yaml', line: 4, test_id: 'b' }]);
    const j = await problemsOf({ 'suite.yaml': 'tests: t.json\n', 't.json': '[\n  {"id": "a"},\n  {"id": "a"}\n]\n' });
    expect(j).toMatchObject([{ code: 'duplicate_id', file: 't.json', line: 3, test_id: 'a', first_line: 2 }]);
    const bad = await problemsOf({ 'suite.yaml': 'tests: t.json\n', 't.json': '[\n  {"id": "a"},\n  {"id" "b"}\n]\n' });
    expect(bad[0]).toMatchObject({ code: 'json_syntax', file: 't.json', line: 3 });
  });

  it('reports template syntax errors in prompts, messages and assertions', async () => {
    const problems = await problemsOf({
      'suite.yaml': [
        'prompts:',
        '  - "{% if formal %}Dear {{ input }}"',
        '  - "{{ input | nosuchfilter }}"',
        'tests:',
        '  - id: a',
        '    vars:',
        '      input:',
        '        - role: user',
        '          content: "{% for x in y %}"',
        '    assert: [{ type: contains, value: "{{ a | b }}" }]',
      ].join('\n'),
    });
    expect(problems.map((p) => [p.code, p.line, p.test_id])).toEqual([
      ['unsupported', 2, undefined],
      ['unsupported', 3, undefined],
      ['unsupported', 10, 'a'],
      ['unsupported', 9, 'a'],
    ]);
  });

  it('checks chat messages inherited from default_test, and rejects an empty message list', async () => {
    const problems = await problemsOf({
      'suite.yaml': [
        'default_test:',
        '  vars:',
        '    input:',
        '      - { role: user, content: "{% if x %}x" }',
        'tests:',
        '  - id: a',
        '  - id: b',
        '    vars: { input: [] }',
      ].join('\n'),
    });
    expect(problems.map((p) => [p.code, p.line, p.test_id])).toEqual([
      ['unsupported', 4, 'a'],
      ['invalid', 8, 'b'],
    ]);
  });

  it('checks a templated regex once rendered with each test\'s vars', async () => {
    const problems = await problemsOf({
      'suite.yaml': 'assert:\n  - { type: regex, value: "^{{ pat }}$" }\ntests:\n  - { id: ok, vars: { pat: "a+" } }\n  - { id: bad, vars: { pat: "(" } }\n',
    });
    expect(problems).toMatchObject([{ code: 'invalid_assertion', line: 2, test_id: 'bad' }]);
  });

  it('reports problems in the wire shape of SuiteProblem', async () => {
    const problems = await problemsOf({ 'suite.yaml': 'tests:\n  - id: a\n  - id: a\n  - {}\n' });
    for (const p of problems) expect(SuiteProblem.parse(p)).toEqual(p);
  });

  it('rejects malformed chat messages, bad vars and bad fields', async () => {
    const problems = await problemsOf({
      'suite.yaml': [
        'tests:',
        '  - id: a',
        '    vars: { input: [{ role: robot, content: hi }] }',
        '  - id: b',
        '    vars: { input: { text: hi } }',
        '  - id: c',
        '    threshold: 2',
        '  - id: d',
        '    assert: [{ type: latency }]',
        '  - id: e',
        '    assert: [{ type: contains, value: x, wieght: 2 }]',
      ].join('\n'),
    });
    expect(problems.map((p) => [p.code, p.line, p.test_id])).toEqual([
      ['invalid', 3, 'a'],
      ['invalid', 5, 'b'],
      ['invalid', 7, 'c'],
      ['invalid_assertion', 9, 'd'],
      ['invalid_assertion', 11, 'e'],
    ]);
  });

  it('reports a suite with no tests, and a file that is not a mapping', async () => {
    expect(await problemsOf({ 'suite.yaml': 'name: x\n' })).toMatchObject([{ code: 'invalid' }]);
    expect(await problemsOf({ 'suite.yaml': 'tests: []\n' })).toMatchObject([{ code: 'invalid', line: 1 }]);
    expect(await problemsOf({ 'suite.yaml': '- id: a\n' })).toMatchObject([{ code: 'invalid', line: 1 }]);
  });

});

describe('unknown top-level keys', () => {
  it('rejects a near-miss of a suite key with its line (ignoring it would change results), and warns about cosmetic promptfoo keys', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentv-suite-warn-'));
    fs.writeFileSync(path.join(dir, 's.yaml'), 'providers: [echo]\npromts: ["{{ input }}!"]\ntests:\n  - id: a\n    vars: { input: hi }\n');
    const err = await loadSuite({ path: path.join(dir, 's.yaml'), repoDir: dir }).catch((e) => e);
    expect(err.data.problems).toMatchObject([{ line: 2, message: expect.stringContaining('did you mean "prompts"') }]);
    fs.writeFileSync(path.join(dir, 's.yaml'), 'providers: [echo]\noutputPath: out.json\ntests:\n  - id: a\n    vars: { input: hi }\n');
    const suite = await loadSuite({ path: path.join(dir, 's.yaml'), repoDir: dir });
    expect(suite.warnings).toEqual([expect.stringMatching(/^s\.yaml:2: `outputPath` is not used/)]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('agentv 5.x spellings of llm-rubric', () => {
  it('a list value is rubrics, a prompt or no value is llm-grader, a text value stays llm-rubric; `version` only warns', async () => {
    const { suite } = await load({
      'suite.yaml': [
        'name: five',
        'version: "1.0"',
        'providers: [echo]',
        'tests:',
        '  - id: t',
        '    vars: { input: hi, criteria: says hi }',
        '    assert:',
        '      - type: llm-rubric',
        '        value: [Greets the user, { id: polite, outcome: Is polite, weight: 2 }]',
        '      - type: llm-rubric',
        '        prompt: file://grader.md',
        '      - type: llm-rubric',
        '        metric: helpfulness',
        '      - type: llm-rubric',
        '        value: Greets the user',
        '',
      ].join('\n'),
      'grader.md': 'Score {{ output }} against {{ criteria }}',
    });
    expect(suite.tests[0]!.assertions.map((a) => a.type)).toEqual(['rubrics', 'llm-grader', 'llm-grader', 'llm-rubric']);
    expect(suite.warnings.some((w) => w.includes('version'))).toBe(true);
  });
});
