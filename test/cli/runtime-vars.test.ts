// promptfoo's run-time values through `agentv eval`: options.storeOutputAs (an earlier
// test's output as a var of later tests) and _conversation (the earlier turns), in order,
// recorded as sent, with fixed input hashes so a stopped or killed run resumes without
// re-running finished tests, and a test re-runs when a test it reads re-runs.
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, startCli, waitForStderr } from '../helpers/cli.js';
import { ROOT, waitExit } from '../helpers/proc.js';
import { cleanupRepos, git, makeRepo, tempDir } from '../helpers/repo.js';

afterEach(cleanupRepos);

type Result = { test_id: string; execution_status: string; output: string | null; error: string | null; input_hash: string; attempt: number; input: { prompt: string | null; vars: Record<string, unknown> } | null };

function corpus(): string {
  const dir = makeRepo();
  cpSync(path.join(ROOT, 'fixtures/compat'), dir, { recursive: true });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'corpus');
  return dir;
}

async function show(dir: string, runId: string) {
  const r = await runCli(['runs', 'show', runId, '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as { results: Result[]; run: { planned_tests: { test_id: string; input_hash: string }[] } };
  return { ...doc, byId: Object.fromEntries(doc.results.map((x) => [x.test_id, x])) };
}

async function dryRun(dir: string, suite: string) {
  const r = await runCli(['eval', suite, '--dry-run', '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { runs: { tests: { test_id: string; input: { prompt: string }; input_hash: string; call_key: string; grading_key: string }[] }[] }).runs[0]!.tests;
}

describe('options.storeOutputAs', () => {
  it("a later test's vars, prompt and assertions read an earlier output (through options.transform); the prompt sent is stored", async () => {
    const dir = corpus();
    const suite = 'promptfoo/store-output/promptfooconfig.yaml';
    const planned = await dryRun(dir, suite);
    const [pick, why, rebut, unrelated] = planned;
    // Planned with placeholders that name the producing test: nothing runs in a dry run.
    expect(why!.input.prompt).toBe(`Answer: why [run time: output of test ${pick!.test_id}]?`);
    expect(rebut!.input.prompt).toContain(`because [run time: output of test ${why!.test_id}]`);
    expect(unrelated!.input.prompt).toBe('Answer: plain');

    const r = await runCli(['eval', suite, '--run-id', 'chain', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const run = await show(dir, 'chain');
    expect(run.results.map((x) => x.execution_status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(run.byId[why!.test_id]!.output).toBe('Answer: why mango?');
    expect(run.byId[rebut!.test_id]!.output).toBe('Answer: no to MANGO, because Answer: why mango?');
    // The stored input is what the target was sent, with the stored values among the vars.
    expect(run.byId[why!.test_id]!.input).toMatchObject({ prompt: 'Answer: why mango?', vars: { fruit: 'mango', message: 'why mango?' } });
    // The input hashes are the planned ones (fixed before anything ran).
    expect(run.run.planned_tests).toEqual(planned.map((t) => ({ test_id: t.test_id, input_hash: t.input_hash, call_key: t.call_key, grading_key: t.grading_key })));
  });

  it('is refused when not a var name, and a test reading a name before anything stores it is warned about', async () => {
    const dir = makeRepo();
    writeFileSync(
      path.join(dir, 'promptfooconfig.yaml'),
      ['prompts: ["{{ x }} {{ later }}"]', 'providers: [echo]', 'tests:', '  - vars: { x: a }', '    options: { storeOutputAs: "not a name" }', '  - vars: { x: b }', '    options: { storeOutputAs: later }', ''].join('\n'),
    );
    let r = await runCli(['eval', 'promptfooconfig.yaml', '--dry-run'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/promptfooconfig\.yaml:5: .*storeOutputAs names the var/);
    writeFileSync(path.join(dir, 'promptfooconfig.yaml'), readFileSync(path.join(dir, 'promptfooconfig.yaml'), 'utf8').replace('"not a name"', 'first'));
    r = await runCli(['eval', 'promptfooconfig.yaml', '--dry-run'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/reads later before any test stores it/);
  });
});

describe('_conversation', () => {
  it('turn three sees turns one and two (input, output) of its conversation; another conversationId is apart', async () => {
    const dir = corpus();
    const suite = 'promptfoo/conversation/promptfooconfig.yaml';
    const r = await runCli(['eval', suite, '--run-id', 'conv', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const run = await show(dir, 'conv');
    expect(run.results.map((x) => x.execution_status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(run.results[3]!.output).toBe('system: 2 earlier: [one] [two] last answer: user: two\nuser: three');
    expect(run.results[1]!.output).toBe('system: 0 earlier:\nuser: elsewhere');
  });

  it('a .json prompt that is JSON only once rendered (promptfoo multi-turn shape) is sent as the chat it renders to', async () => {
    const dir = corpus();
    const suite = 'promptfoo/conversation-json/promptfooconfig.yaml';
    const r = await runCli(['eval', suite, '--run-id', 'cj'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const run = await show(dir, 'cj');
    const first = 'system: Keep it short.\nuser: Who wrote "Emma"?';
    const second = `system: Keep it short.\nuser: Who wrote "Emma"?\nassistant: ${first}\nuser: When?`;
    expect((run.results[2]!.input as unknown as { messages: unknown }).messages).toEqual([
      { role: 'system', content: 'Keep it short.' },
      { role: 'user', content: 'Who wrote "Emma"?' },
      { role: 'assistant', content: first },
      { role: 'user', content: 'When?' },
      { role: 'assistant', content: second },
      { role: 'user', content: 'Where?' },
    ]);
  });
});

/**
 * A chain t1 -> t2 -> t3 through an exec target that logs every call; a prompt holding WAIT
 * blocks until the gate file exists, and one holding COUNT answers n1, n2, ... per call.
 */
function chainRepo() {
  const dir = makeRepo();
  const scratch = tempDir();
  const log = path.join(scratch, 'calls.log');
  const gate = path.join(scratch, 'gate');
  writeFileSync(
    path.join(dir, 'agent.sh'),
    [
      'echo "$1" >> "$LOG"',
      'case "$2" in *WAIT*) while [ ! -f "$GATE" ]; do sleep 0.05; done;; esac',
      'case "$2" in *COUNT*) n=$(($(cat "$COUNTER" 2>/dev/null || echo 0) + 1)); echo $n > "$COUNTER"; printf "n%s" "$n"; exit 0;; esac',
      'printf "seen(%s)" "$2"',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(dir, 'promptfooconfig.yaml'),
    [
      'prompts: ["{{ msg }}{% if _conversation | length %} after{% for t in _conversation %} <{{ t.input }}>{% endfor %}{% endif %}"]',
      'providers: ["exec:sh agent.sh {TEST_ID} {PROMPT}"]',
      'tests:',
      '  - id: t1',
      '    vars: { msg: alpha }',
      '    options: { storeOutputAs: a }',
      '  - id: t2',
      '    vars: { msg: "WAIT {{ a }}" }',
      '    options: { storeOutputAs: b }',
      '  - id: t3',
      '    vars: { msg: "end {{ b }}" }',
      '  - id: solo',
      '    vars: { msg: solo }',
      '    metadata: { conversationId: elsewhere }',
      '',
    ].join('\n'),
  );
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'chain');
  const env = { LOG: log, GATE: gate, COUNTER: path.join(scratch, 'counter') };
  const calls = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { dir, env, calls, open: () => writeFileSync(gate, '') };
}

describe('resume', () => {
  for (const signal of ['SIGKILL', 'SIGINT'] as const) {
    it(`after ${signal} mid-chain: finished tests are not re-run nor changed, later ones read their outputs from the run`, async () => {
      const { dir, env, calls, open } = chainRepo();
      const child = startCli(['eval', 'promptfooconfig.yaml', '--run-id', 'cut', '--workers', '4'], { cwd: dir, env });
      // t1 and solo finish; t2 blocks at the gate; t3 waits for t2.
      await waitForStderr(child, /^\[\d+\/\d+\] PASS/, 2);
      child.kill(signal);
      await waitExit(child);
      open();
      const r = await runCli(['eval', 'promptfooconfig.yaml', '--resume', 'cut'], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/2 done, 2 to run/);
      const run = await show(dir, 'cut');
      expect(run.results.map((x) => [x.test_id, x.execution_status])).toEqual([['t1', 'ok'], ['t2', 'ok'], ['t3', 'ok'], ['solo', 'ok']]);
      expect(calls().filter((id) => id === 't1')).toHaveLength(1);
      expect(calls().filter((id) => id === 'solo')).toHaveLength(1);
      // t3 reads t2's output (this run) and its conversation: t1 (the killed run) and t2.
      expect(run.byId.t2!.output).toBe('seen(WAIT seen(alpha) after <alpha>)');
      expect(run.byId.t3!.input!.prompt).toBe('end seen(WAIT seen(alpha) after <alpha>) after <alpha> <WAIT seen(alpha) after <alpha>>');
    });
  }

  it('a test whose producer runs again (--rerun-failed, or after it failed) runs again with the fresh value', async () => {
    const { dir, env, calls, open } = chainRepo();
    open();
    writeFileSync(
      path.join(dir, 'promptfooconfig.yaml'),
      [
        'prompts: ["{{ msg }}"]',
        'providers: ["exec:sh agent.sh {TEST_ID} {PROMPT}"]',
        'tests:',
        '  - id: count',
        '    vars: { msg: COUNT }',
        '    options: { storeOutputAs: n }',
        '    assert: [{ type: equals, value: n2 }]',
        '  - id: reader',
        '    vars: { msg: "got {{ n }}" }',
        '  - id: other',
        '    vars: { msg: other }',
        '',
      ].join('\n'),
    );
    git(dir, 'commit', '-q', '-am', 'count');
    let r = await runCli(['eval', 'promptfooconfig.yaml', '--run-id', 'again'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(1);
    let run = await show(dir, 'again');
    expect(run.byId.reader!.output).toBe('seen(got n1)');
    r = await runCli(['eval', 'promptfooconfig.yaml', '--rerun-failed', 'again'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/1 finished test\(s\) run again/);
    run = await show(dir, 'again');
    expect(run.byId.count!.output).toBe('n2');
    expect(run.byId.reader!).toMatchObject({ output: 'seen(got n2)', attempt: 2 });
    expect(run.byId.other!.attempt).toBe(1);
    expect(calls().filter((id) => id === 'other')).toHaveLength(1);
  });

  it('a test reading a producer that failed is an execution error naming it, and runs once the producer has an output', async () => {
    const { dir, env, open } = chainRepo();
    open();
    writeFileSync(
      path.join(dir, 'promptfooconfig.yaml'),
      [
        'prompts: ["{{ msg }}"]',
        `providers: ["exec:test -f ${path.join(path.dirname(env.LOG), 'healed')} && printf ok-%s {PROMPT}"]`,
        'tests:',
        '  - id: maker',
        '    vars: { msg: made }',
        '    options: { storeOutputAs: m }',
        '  - id: user',
        '    vars: { msg: "use {{ m }}" }',
        '',
      ].join('\n'),
    );
    git(dir, 'commit', '-q', '-am', 'failing producer');
    let r = await runCli(['eval', 'promptfooconfig.yaml', '--run-id', 'broken'], { cwd: dir, env });
    expect(r.code).toBe(1);
    let run = await show(dir, 'broken');
    expect(run.byId.user).toMatchObject({ execution_status: 'execution_error', output: null });
    expect(run.byId.user!.error).toMatch(/not run: it reads m .*the output of test maker, which has no output/);
    writeFileSync(path.join(path.dirname(env.LOG), 'healed'), '');
    r = await runCli(['eval', 'promptfooconfig.yaml', '--resume', 'broken'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    run = await show(dir, 'broken');
    expect(run.byId.user!.output).toBe('ok-use ok-made');
  });

  it('selecting a test without the test it reads is refused', async () => {
    const { dir, env } = chainRepo();
    const r = await runCli(['eval', 'promptfooconfig.yaml', '--test-id', 't3', '--dry-run'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/t3 reads the output of t2.*select those tests too/);
  });
});
