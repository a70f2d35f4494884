// Assertion kinds through `agentv eval`, as a promptfoo or agentv user would run them:
// the statuses and scores they get, grading errors that keep the output, time limits,
// and a stop that always ends the run whatever an assertion is doing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { cleanupRepos, makeRepo, tempDir } from '../helpers/repo.js';
import { isAlive, waitExit } from '../helpers/proc.js';
import { runCli, startCli, waitForStderr } from '../helpers/cli.js';

afterEach(() => cleanupRepos());

type Result = { test_id: string; execution_status: string; passed: boolean; score: number; error: string | null; error_phase?: string | null; output: string | null; assertions: { type: string; passed: boolean; score: number; reason: string | null }[] };

async function evalSuite(dir: string, suite: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  writeFileSync(path.join(dir, 'suite.yaml'), suite);
  const r = await runCli(['eval', 'suite.yaml', '--run-id', 'r1', '--json', ...args], { cwd: dir, env });
  const show = await runCli(['runs', 'show', 'r1', '--json'], { cwd: dir });
  const results = show.code === 0 ? (JSON.parse(show.stdout).results as Result[]) : [];
  return { ...r, byId: Object.fromEntries(results.map((x) => [x.test_id, x])) as Record<string, Result> };
}

function limits(dir: string, ms: number) {
  mkdirSync(path.join(dir, '.agentv'), { recursive: true });
  writeFileSync(path.join(dir, '.agentv/config.yaml'), `limits:\n  assertion_timeout_ms: ${ms}\n`);
}

describe('promptfoo kinds that need no model', () => {
  it('javascript (inline, multi-line, file://), contains-json, levenshtein, camelCase, negate, flags, transform, assert-set', async () => {
    const dir = makeRepo();
    writeFileSync(path.join(dir, 'check.js'), 'module.exports = (output, context) => ({ pass: output.includes(context.vars.city), score: 0.75, reason: "checked " + context.config.tag });\n');
    const suite = `
prompts: ["{{ input }}"]
tests:
  - id: js
    vars: { input: 'The capital is Paris. {"city": "Paris", "n": 2}', city: Paris }
    assert:
      - { type: javascript, value: "output.includes(context.vars.city)" }
      - type: javascript
        value: |
          const n = output.length;
          return { pass: n > 5, score: 0.5, reason: 'long enough' };
      - { type: javascript, value: "file://check.js", config: { tag: t1 } }
      - { type: javascript, value: "output.length / 1000", threshold: 0.01 }
      - { type: contains-json, value: { type: object, required: [city] } }
      - { type: containsAny, value: [Lyon, Paris] }
      - { type: notContains, value: Berlin }
      - { type: contains, value: Berlin, negate: true }
      - { type: regex, value: "^the capital", flags: i }
      - { type: equals, value: PARIS, transform: "output.match(/Paris/)[0].toUpperCase()" }
      - { type: levenshtein, value: 'The capital is Paris. {"city": "Paris", "n": 3}', threshold: 1 }
  - id: set
    vars: { input: Paris }
    assert:
      - type: assert-set
        threshold: 0.5
        assert:
          - { type: contains, value: Paris }
          - { type: contains, value: France }
  - id: set-fails
    vars: { input: Paris }
    assert:
      - type: assert-set
        assert:
          - { type: contains, value: Paris }
          - { type: contains, value: France }
  - id: js-fails
    vars: { input: Lyon }
    assert:
      - { type: javascript, value: "output === 'Paris'" }
`;
    const r = await evalSuite(dir, suite, ['--target', 'echo']);
    expect(r.code, r.stderr).toBe(1);
    const { js, set, ['set-fails']: setFails, ['js-fails']: jsFails } = r.byId;
    expect(js!.assertions.filter((a) => !a.passed), JSON.stringify(js!.assertions)).toEqual([]);
    expect(js!.assertions[2]).toMatchObject({ type: 'javascript', passed: true, score: 0.75, reason: 'checked t1' });
    expect(js!.assertions[6]!.type).toBe('not-contains');
    expect(js).toMatchObject({ execution_status: 'ok', passed: true });
    // The set passes at its threshold; its score (0.5) is the test's score.
    expect(set).toMatchObject({ execution_status: 'ok', passed: true, score: 0.5 });
    expect(set!.assertions[0]).toMatchObject({ type: 'assert-set', passed: true, score: 0.5 });
    expect(setFails).toMatchObject({ execution_status: 'quality_failure', passed: false });
    expect(jsFails).toMatchObject({ execution_status: 'quality_failure', passed: false, score: 0 });
  });

  it('an unknown key on an assertion, or a kind meant for another key, is exit 2 before anything runs', async () => {
    const dir = makeRepo();
    const r = await evalSuite(dir, 'tests:\n  - id: a\n    vars: { input: x }\n    assert: [{ type: contains, value: x, flagz: i }]\n', ['--target', 'echo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown key "flagz"/);
  });
});

describe('code that cannot judge is a grading error that keeps the output', () => {
  it('a javascript assertion that throws, or never returns, is execution_error with error_phase grading', async () => {
    const dir = makeRepo();
    limits(dir, 5000);
    const suite = `
tests:
  - id: throws
    vars: { input: hello }
    assert: [{ type: javascript, value: "(() => { throw new Error('boom') })()" }]
  - id: loops
    vars: { input: hello }
    assert: [{ type: javascript, value: "(() => { while (true) {} })()" }]
  - id: never
    vars: { input: hello }
    assert: [{ type: javascript, value: "new Promise(() => {})" }]
`;
    const r = await evalSuite(dir, suite, ['--target', 'echo']);
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ errored: 3 });
    expect(r.byId.throws).toMatchObject({ execution_status: 'execution_error', error_phase: 'grading', output: 'hello' });
    expect(r.byId.throws!.error).toMatch(/boom/);
    for (const id of ['loops', 'never']) {
      expect(r.byId[id]).toMatchObject({ execution_status: 'execution_error', error_phase: 'grading', output: 'hello' });
      expect(r.byId[id]!.error).toMatch(/timed out after 5000 ms \(limits\.assertion_timeout_ms\)/);
    }
  });

  it('a catastrophic regex is cut off by the time limit', async () => {
    const dir = makeRepo();
    limits(dir, 1000);
    const r = await evalSuite(dir, `tests:\n  - id: evil\n    vars: { input: "${'a'.repeat(40)}!" }\n    assert: [{ type: regex, value: "^(a+)+$" }]\n`, ['--target', 'echo']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.byId.evil).toMatchObject({ execution_status: 'execution_error', error_phase: 'grading', output: `${'a'.repeat(40)}!` });
    expect(r.byId.evil!.error).toMatch(/timed out/);
  });

  it('a target failure says error_phase target', async () => {
    const dir = makeRepo();
    const r = await evalSuite(dir, 'tests:\n  - id: t\n    vars: { input: x }\n    assert: [{ type: contains, value: x }]\n', ['--target', 'exec:exit 3']);
    expect(r.byId.t).toMatchObject({ execution_status: 'execution_error', error_phase: 'target', output: null });
  });
});

describe('python assertions', () => {
  const hasPython = (() => {
    try {
      execFileSync('python3', ['-c', 'print(1)'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasPython)('inline expressions, function bodies and file:// get_assert, with promptfoo semantics', async () => {
    const dir = makeRepo();
    writeFileSync(path.join(dir, 'check.py'), 'def get_assert(output, context):\n    print("noise")\n    return {"pass": context["vars"]["city"] in output, "score": 0.9, "reason": "py file"}\n');
    const suite = `
tests:
  - id: py
    vars: { input: Paris is nice, city: Paris }
    assert:
      - { type: python, value: "context['vars']['city'] in output" }
      - type: python
        value: |
          words = output.split()
          return len(words) / 10
      - { type: python, value: "file://check.py" }
  - id: raises
    vars: { input: x, city: Paris }
    assert:
      - { type: python, value: "1/0" }
`;
    const r = await evalSuite(dir, suite, ['--target', 'echo']);
    expect(r.byId.py, JSON.stringify(r.byId.py)).toMatchObject({ execution_status: 'ok', passed: true });
    expect(r.byId.py!.assertions[1]).toMatchObject({ passed: true, score: 0.3 });
    expect(r.byId.py!.assertions[2]).toMatchObject({ passed: true, score: 0.9, reason: 'py file' });
    expect(r.byId.raises).toMatchObject({ execution_status: 'execution_error', error_phase: 'grading' });
    expect(r.byId.raises!.error).toMatch(/ZeroDivisionError/);
  });

  it('without python3 on PATH: a clear grading error, the run goes on', async () => {
    const dir = makeRepo();
    const bin = tempDir();
    symlinkSync(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), path.join(bin, 'git'));
    const r = await evalSuite(dir, 'tests:\n  - id: py\n    vars: { input: x }\n    assert: [{ type: python, value: "True" }]\n', ['--target', 'echo'], { PATH: bin });
    expect(r.code, r.stderr).toBe(1);
    expect(r.byId.py).toMatchObject({ execution_status: 'execution_error', error_phase: 'grading' });
    expect(r.byId.py!.error).toMatch(/python assertions need python3 on PATH/);
  });
});

describe('a stop ends the run whatever an assertion is doing', () => {
  it('SIGINT during a catastrophic regex: exit 130 within the grace period, the test stays unrun', async () => {
    const dir = makeRepo();
    // The time limit is far away: only the stop can end this regex.
    limits(dir, 600_000);
    writeFileSync(
      path.join(dir, 'suite.yaml'),
      `tests:\n  - id: quick\n    vars: { input: ok }\n    assert: [{ type: contains, value: ok }]\n  - id: evil\n    vars: { input: "${'a'.repeat(60)}!" }\n    assert: [{ type: regex, value: "^(a+)+$" }]\n`,
    );
    const child = startCli(['eval', 'suite.yaml', '--target', 'echo', '--workers', '1', '--stop-grace', '0.5', '--run-id', 'stop-regex'], { cwd: dir });
    await waitForStderr(child, /PASS quick/);
    child.kill('SIGINT');
    const r = await waitExit(child);
    expect(r.code, r.stderr).toBe(130);
    const show = JSON.parse((await runCli(['runs', 'show', 'stop-regex', '--json'], { cwd: dir })).stdout);
    expect(show.run.status).toBe('stopped');
    expect(show.results.map((x: Result) => x.test_id)).toEqual(['quick']);
  }, 120_000);

  it('SIGTERM during a script assertion ends it and everything it started; a detached grandchild cannot hang a script', async () => {
    const dir = makeRepo();
    const pidFile = path.join(dir, 'pids');
    // `hangs` starts a background sleeper in its group and waits; `escapes` leaves a setsid'd
    // grandchild holding stdout and exits at once (the close fallback must not wait for it).
    const suite = `
tests:
  - id: escapes
    vars: { input: x }
    assert: [{ type: script, value: "setsid sleep 300 & echo $! >> ${pidFile}; echo '{\\"pass\\": true}'" }]
  - id: hangs
    vars: { input: x }
    assert: [{ type: script, value: "sleep 300 & echo $! >> ${pidFile}; wait" }]
`;
    writeFileSync(path.join(dir, 'suite.yaml'), suite);
    const child = startCli(['eval', 'suite.yaml', '--target', 'echo', '--workers', '1', '--stop-grace', '0.5', '--run-id', 'stop-script'], { cwd: dir });
    await waitForStderr(child, /PASS escapes/);
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim().split('\n').length < 2) await new Promise((res) => setTimeout(res, 20));
    child.kill('SIGTERM');
    const r = await waitExit(child);
    expect(r.code, r.stderr).toBe(143);
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    // The sleeper in the script's own group is gone; the setsid one escaped the group by design
    // (it is not ours to find), so it is ended here.
    for (let i = 0; i < 100 && isAlive(pids[1]!); i++) await new Promise((res) => setTimeout(res, 50));
    expect(isAlive(pids[1]!)).toBe(false);
    try {
      process.kill(pids[0]!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 120_000);
});

describe('cli targets keep their scratch files in the git dir', () => {
  it('{PROMPT_FILE} lives under <git-common-dir>/agentv/tmp and is removed after the test', async () => {
    const dir = makeRepo();
    const r = await evalSuite(dir, 'tests:\n  - id: t\n    vars: { input: hi }\n    assert: [{ type: contains, value: agentv }]\n', ['--target', 'exec:echo {PROMPT_FILE}']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.byId.t!.output).toContain(path.join('.git', 'agentv', 'tmp'));
    expect(readdirSync(path.join(dir, '.git/agentv/tmp'))).toEqual([]);
  });
});

describe('agentv graders', () => {
  it('code graders (stdin payload, {score, assertions}), tool-trajectory, execution-metrics and cost on what a cli target reported', async () => {
    const dir = makeRepo();
    writeFileSync(
      path.join(dir, 'agent.js'),
      `require('fs').writeFileSync(process.argv[2], JSON.stringify({ output: [{ role: 'assistant', content: 'The answer is 42', tool_calls: [{ tool: 'search', input: { q: 'x', page: 1 } }, { tool: 'read', input: {} }] }], token_usage: { input: 10, output: 5 }, cost_usd: 0.01 }));\n`,
    );
    writeFileSync(
      path.join(dir, 'grader.js'),
      `const d = JSON.parse(require('fs').readFileSync(0, 'utf8'));\nconst ok = d.output.includes(d.expected_output[0].content);\nconsole.log(JSON.stringify({ score: ok ? 1 : 0, assertions: [{ text: 'has ' + d.expected_output[0].content, passed: ok }] }));\n`,
    );
    const suite = `
tests:
  - id: agent
    vars: { input: q, expected_output: "42" }
    assert:
      - { type: code-grader, command: [node, grader.js] }
      - { type: tool-trajectory, mode: in_order, expected: [{ tool: search, args: { q: x } }, { tool: read }] }
      - { type: tool_trajectory, mode: any_order, minimums: { search: 1 } }
      - { type: execution-metrics, max_tool_calls: 5, max_tokens: 100, max_cost_usd: 0.05 }
      - { type: cost, threshold: 0.02 }
  - id: wrong-order
    vars: { input: q, expected_output: "43" }
    assert:
      - { type: code_judge, command: [node, grader.js] }
      - { type: tool-trajectory, mode: exact, expected: [{ tool: read }, { tool: search }] }
      - { type: execution-metrics, max_tool_calls: 1 }
  - id: grader-crash
    vars: { input: q }
    assert:
      - { type: code-grader, command: [sh, -c, "echo broken >&2; exit 2"] }
`;
    const r = await evalSuite(dir, suite, ['--target', 'exec:node agent.js {OUTPUT_FILE}']);
    expect(r.byId.agent!.assertions.filter((a) => !a.passed), JSON.stringify(r.byId.agent)).toEqual([]);
    expect(r.byId.agent).toMatchObject({ execution_status: 'ok', passed: true, output: 'The answer is 42' });
    expect(r.byId['wrong-order']).toMatchObject({ execution_status: 'quality_failure', passed: false, score: 0 });
    expect(r.byId['wrong-order']!.assertions[0]).toMatchObject({ type: 'code-grader', passed: false, reason: 'failed: has 43' });
    expect(r.byId['grader-crash']).toMatchObject({ execution_status: 'execution_error', error_phase: 'grading', output: 'The answer is 42' });
    expect(r.byId['grader-crash']!.error).toMatch(/broken/);
  });

  it('a target that reports no trace fails trace checks with that as the reason', async () => {
    const dir = makeRepo();
    const r = await evalSuite(dir, 'tests:\n  - id: t\n    vars: { input: x }\n    assert: [{ type: tool-trajectory, mode: any_order, minimums: { search: 1 } }]\n', ['--target', 'echo']);
    expect(r.byId.t).toMatchObject({ execution_status: 'quality_failure', passed: false });
    expect(r.byId.t!.assertions[0]!.reason).toMatch(/reported no trace/);
  });

  it('composite with weighted_average and min_score; numeric required', async () => {
    const dir = makeRepo();
    const suite = `
tests:
  - id: c
    vars: { input: Paris }
    assert:
      - type: composite
        min_score: 0.7
        aggregator: { type: weighted_average, weights: { city: 3, country: 1 } }
        assertions:
          - { name: city, type: contains, value: Paris }
          - { name: country, type: contains, value: France }
  - id: gate
    vars: { input: Paris }
    assert:
      - type: assert-set
        required: 0.5
        assert:
          - { type: contains, value: Paris }
          - { type: contains, value: France }
  - id: gate-fails
    vars: { input: Paris }
    assert:
      - type: assert-set
        required: 0.6
        assert:
          - { type: contains, value: Paris }
          - { type: contains, value: France }
`;
    const r = await evalSuite(dir, suite, ['--target', 'echo']);
    expect(r.byId.c).toMatchObject({ execution_status: 'ok', passed: true, score: 0.75 });
    // agentv's numeric \`required\`: the score this assertion must reach.
    expect(r.byId.gate).toMatchObject({ execution_status: 'ok', passed: true, score: 0.5 });
    expect(r.byId['gate-fails']).toMatchObject({ execution_status: 'quality_failure', passed: false });
  });
});

describe('model-graded kinds against a fake OpenAI-compatible server', () => {
  let server: Server;
  let port: number;
  const models: string[] = [];
  const userMessages: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const reply = (o: unknown) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(o));
        };
        const json = JSON.parse(body);
        if (req.url === '/v1/embeddings') {
          return reply({ data: (json.input as string[]).map((t, index) => ({ index, embedding: t.includes('Paris') ? [1, 0.1] : [0, 1] })) });
        }
        models.push(json.model);
        const messages = json.messages as { role: string; content: string }[];
        const system = messages.find((m) => m.role === 'system')?.content ?? '';
        const user = messages.at(-1)!.content;
        userMessages.push(user);
        const wrong = user.includes('WRONG');
        let answer: unknown;
        if (system.includes('"category"')) answer = { category: wrong ? 'D' : 'A', reason: 'compared' };
        else if (system.includes('from 0 to 10')) answer = { score: wrong ? 2 : 9, reason: 'g' };
        else if (system.includes('how relevant')) answer = { score: wrong ? 0.1 : 0.9, reason: 'rel' };
        else if (system.includes('rubric items')) answer = { checks: [{ id: 'core', satisfied: !wrong }, { id: 'extra', satisfied: false }] };
        else if (system.includes('strict evaluator')) answer = { score: wrong ? 0.2 : 0.95, reasoning: 'graded' };
        else if (user.startsWith('CUSTOM')) answer = { pass: true, score: 0.6, reason: 'custom prompt' };
        else answer = { pass: !wrong, score: wrong ? 0 : 1, reason: 'judged' };
        reply({ choices: [{ index: 0, message: { role: 'assistant', content: `Here you go: ${JSON.stringify(answer)}` } }] });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());

  it('similar, llm-rubric with rubricPrompt, closedqa, factuality, answer-relevance, g-eval, llm-grader with its own target and prompt file, rubrics', async () => {
    const dir = makeRepo();
    mkdirSync(path.join(dir, '.agentv'));
    writeFileSync(
      path.join(dir, '.agentv/targets.yaml'),
      `defaults: { grader: judge }\ntargets:\n  - { name: judge, provider: openai, base_url: "http://127.0.0.1:${port}/v1", model: judge-1 }\n  - { name: judge2, provider: openai, base_url: "http://127.0.0.1:${port}/v1", model: judge-2 }\n`,
    );
    mkdirSync(path.join(dir, 'evals'));
    writeFileSync(path.join(dir, 'evals/grade.md'), 'Question {{input}} / answer {{output}} / crit {{criteria}}\n');
    const kinds = (city: string) => `
    assert:
      - { type: similar, value: "The capital is Paris", threshold: 0.8 }
      - { type: llm-rubric, value: "names ${city}", rubricPrompt: "CUSTOM {{rubric}} for {{output}}" }
      - { type: model-graded-closedqa, value: "names the capital" }
      - { type: factuality, value: "Paris is the capital of France" }
      - { type: answer-relevance }
      - { type: g-eval, value: "accurate" }
      - { type: llm-grader, prompt: ./grade.md, target: judge2 }
      - { type: rubrics, criteria: [{ id: core, outcome: names Paris, weight: 3, required: true }, { id: extra, outcome: mentions the Seine, weight: 1 }], threshold: 0.7 }`;
    writeFileSync(
      path.join(dir, 'evals/suite.yaml'),
      `tests:\n  - id: good\n    vars: { input: "Paris", criteria: capital }${kinds('Paris')}\n  - id: bad\n    vars: { input: "WRONG Lyon", criteria: capital }${kinds('Lyon')}\n`,
    );
    const r = await runCli(['eval', 'evals/suite.yaml', '--target', 'echo', '--run-id', 'mg', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    const show = JSON.parse((await runCli(['runs', 'show', 'mg', '--json'], { cwd: dir })).stdout);
    const byId = Object.fromEntries(show.results.map((x: Result) => [x.test_id, x])) as Record<string, Result>;
    expect(byId.good!.assertions.map((a) => [a.type, a.passed]), JSON.stringify(byId.good)).toEqual([
      ['similar', true], ['llm-rubric', true], ['model-graded-closedqa', true], ['factuality', true],
      ['answer-relevance', true], ['g-eval', true], ['llm-grader', true], ['rubrics', true],
    ]);
    expect(byId.good!.assertions[1]).toMatchObject({ score: 0.6, reason: 'custom prompt' });
    expect(byId.good!.assertions[7]!.score).toBeCloseTo(0.75);
    expect(byId.good).toMatchObject({ execution_status: 'ok', passed: true });
    // Every kind but the custom-prompt llm-rubric (answers 0.6 whatever it reads) fails the wrong answer.
    expect(byId.bad!.assertions.filter((a) => a.passed).map((a) => a.type)).toEqual(['llm-rubric']);
    expect(byId.bad).toMatchObject({ execution_status: 'quality_failure', passed: false });
    expect(models).toContain('judge-2');
    expect(userMessages).toContain('CUSTOM names Paris for Paris');
    expect(userMessages.some((m) => m.startsWith('Question Paris / answer Paris / crit capital'))).toBe(true);

    // --grader replaces the grader an assertion names; a grader name that exists nowhere is exit 2.
    models.length = 0;
    const over = await runCli(['eval', 'evals/suite.yaml', '--target', 'echo', '--grader', 'judge', '--run-id', 'mg2', '--json'], { cwd: dir });
    expect(over.code, over.stderr).toBe(1);
    expect(models).not.toContain('judge-2');
    writeFileSync(path.join(dir, 'evals/bad.yaml'), 'tests:\n  - id: a\n    vars: { input: x }\n    assert: [{ type: llm-grader, target: nowhere }]\n');
    const bad = await runCli(['eval', 'evals/bad.yaml', '--target', 'echo', '--run-id', 'mg3'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/nowhere/);
  });
});
