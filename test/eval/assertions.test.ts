import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateAssertions, type EvaluateAssertionsOptions } from '../../src/eval/assertions.js';
import { jsonSchemaProblems, validateJsonSchema } from '../../src/eval/assertions/json-schema.js';
import { parseGraderAnswer } from '../../src/eval/assertions/llm-rubric.js';
import type { AssertionSpec, SuiteTest, Target, TargetCall } from '../../src/eval/types.js';
import { TargetError } from '../../src/eval/types.js';

const spec = (s: Partial<AssertionSpec> & { type: string }): AssertionSpec => ({ negate: false, weight: 1, required: false, ...s });

const baseTest: SuiteTest = {
  id: 't1',
  vars: { input: 'Capital of France?', expected_output: 'Paris' },
  prompt: 'Capital of France?',
  assertions: [],
  metadata: { area: 'geo' },
  tags: [],
};

function run(assertions: AssertionSpec[], output: string, more: Partial<EvaluateAssertionsOptions> = {}) {
  return evaluateAssertions({ assertions, output, test: baseTest, latencyMs: 100, grader: null, signal: new AbortController().signal, ...more });
}

/** Evaluates one assertion and returns its result. */
async function one(s: Partial<AssertionSpec> & { type: string }, output: string, more: Partial<EvaluateAssertionsOptions> = {}) {
  const outcome = await run([spec(s)], output, more);
  expect(outcome.results).toHaveLength(1);
  return outcome.results[0]!;
}

describe('deterministic kinds', () => {
  const cases: [Partial<AssertionSpec> & { type: string }, string, boolean][] = [
    [{ type: 'equals', value: 'Paris' }, 'Paris', true],
    [{ type: 'equals', value: 'Paris' }, 'Paris.', false],
    [{ type: 'equals', value: 42 }, '42', true],
    [{ type: 'equals', value: { a: [1, { b: 2 }] } }, '{"a": [1, {"b": 2}]}', true],
    [{ type: 'equals', value: { a: 1, b: 2 } }, '{"b": 2, "a": 1}', true],
    [{ type: 'equals', value: { a: 1 } }, '{"a": 2}', false],
    [{ type: 'equals', value: { a: 1 } }, 'not json', false],
    [{ type: 'contains', value: 'Paris' }, 'It is Paris.', true],
    [{ type: 'contains', value: 'paris' }, 'It is Paris.', false],
    [{ type: 'icontains', value: 'paris' }, 'It is PARIS.', true],
    [{ type: 'icontains', value: 'lyon' }, 'It is Paris.', false],
    [{ type: 'contains-any', value: ['Lyon', 'Paris'] }, 'Paris', true],
    [{ type: 'contains-any', value: 'Lyon, Nice' }, 'Paris', false],
    [{ type: 'contains-all', value: ['Paris', 'France'] }, 'Paris, France', true],
    [{ type: 'contains-all', value: ['Paris', 'france'] }, 'Paris, France', false],
    [{ type: 'icontains-any', value: ['lyon', 'paris'] }, 'PARIS', true],
    [{ type: 'icontains-any', value: ['lyon'] }, 'PARIS', false],
    [{ type: 'icontains-all', value: 'paris, france' }, 'Paris, France', true],
    [{ type: 'icontains-all', value: ['paris', 'spain'] }, 'Paris, France', false],
    [{ type: 'starts-with', value: 'Par' }, 'Paris', true],
    [{ type: 'starts-with', value: 'ris' }, 'Paris', false],
    [{ type: 'ends-with', value: 'ris' }, 'Paris', true],
    [{ type: 'ends-with', value: 'Par' }, 'Paris', false],
    [{ type: 'regex', value: '^P\\w+s$' }, 'Paris', true],
    [{ type: 'regex', value: '^\\d+$' }, 'Paris', false],
    [{ type: 'is-json' }, ' {"a": 1} ', true],
    [{ type: 'is-json' }, '```json\n{"a": 1}\n```', false],
    [{ type: 'is-json', value: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } } }, '{"city": "Paris"}', true],
    [{ type: 'is-json', value: { type: 'object', required: ['city'] } }, '{"town": "Paris"}', false],
    [{ type: 'latency', threshold: 100 }, 'x', true],
    [{ type: 'latency', threshold: 99 }, 'x', false],
  ];
  for (const [s, output, pass] of cases) {
    it(`${s.type} ${JSON.stringify(s.value ?? s.threshold ?? '')} on ${JSON.stringify(output)} → ${pass ? 'pass' : 'fail'}`, async () => {
      const r = await one(s, output);
      expect(r).toMatchObject({ type: s.type, passed: pass, score: pass ? 1 : 0 });
      if (pass) expect(r.reason).toBeNull();
      else expect(r.reason).toEqual(expect.any(String));
    });
  }

  it('fails latency when the latency is unknown', async () => {
    const r = await one({ type: 'latency', threshold: 1000 }, 'x', { latencyMs: undefined });
    expect(r.passed).toBe(false);
  });

  it('turns an assertion that throws into a failure with the error as reason', async () => {
    const r = await one({ type: 'regex', value: '([a-z' }, 'x');
    expect(r.passed).toBe(false);
    expect(r.reason).toMatch(/regular expression/i);
    const u = await one({ type: 'telepathy' }, 'x');
    expect(u.passed).toBe(false);
  });
});

describe('negation, weights, thresholds', () => {
  it('inverts passed and score for not-<kind>, keeping the original type string', async () => {
    const pass = await one({ type: 'contains', value: 'error', negate: true }, 'all good');
    expect(pass).toEqual({ type: 'not-contains', passed: true, score: 1, reason: null });
    const fail = await one({ type: 'contains', value: 'error', negate: true }, 'an error');
    expect(fail).toMatchObject({ type: 'not-contains', passed: false, score: 0 });
    expect(fail.reason).toEqual(expect.any(String));
  });

  it('never negates an error into a pass', async () => {
    const r = await one({ type: 'llm-rubric', value: 'polite', negate: true }, 'x');
    expect(r).toMatchObject({ type: 'not-llm-rubric', passed: false, score: 0, reason: 'no grader configured' });
    const l = await one({ type: 'latency', threshold: 5, negate: true }, 'x', { latencyMs: undefined });
    expect(l.passed).toBe(false);
  });

  it('scores the weighted mean and reports weight, metric and required', async () => {
    const out = await run(
      [spec({ type: 'contains', value: 'a', weight: 3, metric: 'accuracy' }), spec({ type: 'contains', value: 'z', required: true })],
      'abc',
    );
    expect(out.score).toBeCloseTo(0.75);
    expect(out.passed).toBe(false);
    expect(out.results).toEqual([
      { type: 'contains', passed: true, score: 1, reason: null, weight: 3, metric: 'accuracy' },
      { type: 'contains', passed: false, score: 0, reason: expect.any(String), required: true },
    ]);
  });

  it('uses the plain mean when every weight is 0', async () => {
    const out = await run([spec({ type: 'contains', value: 'a', weight: 0 }), spec({ type: 'contains', value: 'z', weight: 0 })], 'abc');
    expect(out.score).toBe(0.5);
  });

  it('passes a test with no assertions', async () => {
    expect(await run([], 'anything')).toEqual({ passed: true, score: 1, results: [] });
  });

  it('with a threshold, passes on score unless a required assertion failed', async () => {
    const assertions = [spec({ type: 'contains', value: 'a', weight: 3 }), spec({ type: 'contains', value: 'z' })];
    const test = { ...baseTest, threshold: 0.75 };
    expect((await run(assertions, 'abc', { test })).passed).toBe(true);
    expect((await run(assertions, 'abc', { test: { ...baseTest, threshold: 0.8 } })).passed).toBe(false);
    const required = [assertions[0]!, { ...assertions[1]!, required: true }];
    expect((await run(required, 'abc', { test })).passed).toBe(false);
    expect((await run(required, 'abcz', { test })).passed).toBe(true);
  });
});

/** A killed process may linger as a zombie until something reaps it: that is not alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('script', () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'agentv-script-'));
  const node = (code: string) => ['node', '-e', code];

  it('receives the test, output and vars as JSON and returns its verdict', async () => {
    const code = `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);
      const ok = j.output.includes(j.vars.expected_output) && j.test.id==='t1' && j.test.metadata.area==='geo';
      console.log('log line');console.log(JSON.stringify({pass: ok, score: ok ? 0.9 : 0.1, reason: 'checked ' + j.test.vars.input}));});`;
    const pass = await one({ type: 'script', command: node(code) }, 'It is Paris', { cwd });
    expect(pass).toEqual({ type: 'script', passed: true, score: 0.9, reason: 'checked Capital of France?' });
    const fail = await one({ type: 'script', command: node(code) }, 'It is Lyon', { cwd });
    expect(fail).toMatchObject({ passed: false, score: 0.1 });
  });

  it('uses the exit code when stdout is not a verdict, and runs shell strings with sh -c', async () => {
    expect(await one({ type: 'script', command: node('process.exit(0)') }, 'x', { cwd })).toMatchObject({ passed: true, score: 1 });
    const bad = await one({ type: 'script', command: node('console.error("nope"); process.exit(3)') }, 'x', { cwd });
    expect(bad).toMatchObject({ passed: false, score: 0 });
    expect(bad.reason).toContain('nope');
    expect(await one({ type: 'script', command: ['sh', '-c', 'grep -q Paris'] }, '{"output": "Paris"}', { cwd })).toMatchObject({ passed: true });
    expect(await one({ type: 'script', command: ['sh', '-c', 'exit 1'], negate: true }, 'x', { cwd })).toMatchObject({ type: 'not-script', passed: true });
  });

  it('runs in cwd', async () => {
    fs.writeFileSync(path.join(cwd, 'marker.txt'), 'here');
    expect(await one({ type: 'script', command: ['sh', '-c', 'test -f marker.txt'] }, 'x', { cwd })).toMatchObject({ passed: true });
  });

  it('fails, without crashing, when the command cannot be spawned', async () => {
    const r = await one({ type: 'script', command: ['/no/such/binary-agentv'] }, 'x', { cwd });
    expect(r.passed).toBe(false);
    expect(r.reason).toEqual(expect.any(String));
  });

  it('kills the whole process group on timeout', async () => {
    const pidFile = path.join(cwd, 'grandchild.pid');
    // sh starts in milliseconds even on a loaded machine, well within the limit below.
    const started = Date.now();
    const r = await one({ type: 'script', command: ['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], negate: true }, 'x', { cwd, scriptTimeoutMs: 2000 });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r).toMatchObject({ passed: false, score: 0 });
    expect(r.reason).toMatch(/timed out/);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    for (let i = 0; i < 40 && alive(pid); i++) await new Promise((res) => setTimeout(res, 50));
    expect(alive(pid)).toBe(false);
  });

  it('kills the group when the signal aborts', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const started = Date.now();
    const r = await one({ type: 'script', command: ['sleep', '30'] }, 'x', { cwd, signal: ac.signal });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r).toMatchObject({ passed: false, reason: 'script aborted' });
  });

  it('does not wait for background processes once the script exits', async () => {
    const started = Date.now();
    const r = await one({ type: 'script', command: ['sh', '-c', 'sleep 30 & echo \'{"pass": true}\''] }, 'x', { cwd });
    expect(r.passed).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('llm-rubric', () => {
  function fakeGrader(answer: string | ((call: TargetCall) => string | Promise<string>)): Target & { calls: TargetCall[] } {
    const calls: TargetCall[] = [];
    return {
      name: 'fake-judge',
      provider: 'mock',
      configHash: 'x',
      calls,
      async call(input) {
        calls.push(input);
        return { output: typeof answer === 'string' ? answer : await answer(input) };
      },
    };
  }

  it('sends the rubric and the output, and reads a fenced JSON verdict', async () => {
    const grader = fakeGrader('Sure!\n```json\n{"pass": true, "score": 0.8, "reason": "names the capital {correctly}"}\n```');
    const r = await one({ type: 'llm-rubric', value: 'Names the capital of France' }, 'Paris', { grader });
    expect(r).toEqual({ type: 'llm-rubric', passed: true, score: 0.8, reason: 'names the capital {correctly}' });
    expect(grader.calls).toHaveLength(1);
    const call = grader.calls[0]!;
    expect(call.promptText).toContain('Names the capital of France');
    expect(call.promptText).toContain('Paris');
    expect(call.testId).toBe('t1');
    expect(call.vars).toEqual(baseTest.vars);
    expect(Array.isArray(call.prompt)).toBe(true);
  });

  it('fails on a failing verdict and on a score under the assertion threshold', async () => {
    const no = await one({ type: 'llm-rubric', value: 'r' }, 'x', { grader: fakeGrader('{"pass": false, "score": 0.2, "reason": "rude"}') });
    expect(no).toMatchObject({ passed: false, score: 0.2, reason: 'rude' });
    const low = await one({ type: 'llm-rubric', value: 'r', threshold: 0.9 }, 'x', { grader: fakeGrader('{"pass": true, "score": 0.85}') });
    expect(low).toMatchObject({ passed: false, score: 0.85 });
  });

  it('fails with a reason when the answer has no verdict or the grader fails', async () => {
    const junk = await one({ type: 'llm-rubric', value: 'r' }, 'x', { grader: fakeGrader('I think it is fine {not json}') });
    expect(junk).toMatchObject({ passed: false, score: 0 });
    expect(junk.reason).toEqual(expect.any(String));
    const broken = fakeGrader(() => {
      throw new TargetError('HTTP 500', 'http');
    });
    const r = await one({ type: 'llm-rubric', value: 'r', negate: true }, 'x', { grader: broken });
    expect(r).toMatchObject({ type: 'not-llm-rubric', passed: false });
    expect(r.reason).toContain('HTTP 500');
  });

  it('fails with "no grader configured" when there is no grader', async () => {
    expect(await one({ type: 'llm-rubric', value: 'r' }, 'x')).toMatchObject({ passed: false, reason: 'no grader configured' });
  });

  it('parses verdicts leniently', () => {
    expect(parseGraderAnswer({ text: '{"score": 0.7}' })).toEqual({ pass: true, score: 0.7, reason: null });
    expect(parseGraderAnswer({ text: '{"pass": "false"}' })).toEqual({ pass: false, score: 0, reason: null });
    expect(parseGraderAnswer({ text: 'x {"note": 1} then {"pass": true, "reason": "a \\"}\\" b"}' })).toEqual({ pass: true, score: 1, reason: 'a "}" b' });
    expect(parseGraderAnswer({ text: 'no verdict here' })).toBeNull();
  });
});

describe('json schema subset', () => {
  const schema = {
    type: 'object',
    required: ['name', 'tags'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 2, maxLength: 5, pattern: '^[a-z]+$' },
      age: { type: 'integer', minimum: 0, maximum: 150 },
      kind: { enum: ['a', 'b'] },
      v: { const: 1 },
      tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 2 },
      either: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    },
  };

  it('accepts a matching value', () => {
    expect(validateJsonSchema({ schema, value: { name: 'ada', age: 36, kind: 'a', v: 1, tags: ['x'], either: null } })).toEqual([]);
  });

  it('reports each violation', () => {
    const bad = (value: unknown) => validateJsonSchema({ schema, value });
    expect(bad([])).toHaveLength(1);
    expect(bad({ tags: ['x'] })).toHaveLength(1);
    expect(bad({ name: 'a', tags: ['x'] })).toHaveLength(1);
    expect(bad({ name: 'abcdef', tags: ['x'] })).toHaveLength(1);
    expect(bad({ name: 'AB', tags: ['x'] })).toHaveLength(1);
    expect(bad({ name: 'ab', tags: ['x'], age: 1.5 })).toHaveLength(1);
    expect(bad({ name: 'ab', tags: ['x'], age: 151 })).toHaveLength(1);
    expect(bad({ name: 'ab', tags: ['x'], kind: 'c' })).toHaveLength(1);
    expect(bad({ name: 'ab', tags: ['x'], v: 2 })).toHaveLength(1);
    expect(bad({ name: 'ab', tags: [] })).toHaveLength(1);
    expect(bad({ name: 'ab', tags: ['x', 'y', 'z'] })).toHaveLength(1);
    expect(bad({ name: 'ab', tags: [1] })).toHaveLength(1);
    expect(bad({ name: 'ab', tags: ['x'], extra: true })).toHaveLength(1);
    expect(bad({ name: 'ab', tags: ['x'], either: 3 })).toHaveLength(1);
  });

  it('reports schemas outside the subset', () => {
    expect(jsonSchemaProblems({ schema })).toEqual([]);
    expect(jsonSchemaProblems({ schema: { $ref: '#/defs/a' } })).toHaveLength(1);
    expect(jsonSchemaProblems({ schema: { properties: { a: { patternProperties: {} } } } })).toHaveLength(1);
    expect(jsonSchemaProblems({ schema: { type: 'strin' } })).toHaveLength(1);
    expect(jsonSchemaProblems({ schema: { title: 'x', description: 'y', format: 'email' } })).toEqual([]);
  });
});
