// Targets through their public surface: config loading and its errors (with YAML
// lines), inline names, configHash, echo, mock, and the cli target's placeholders,
// output, failures, timeout and process-group cleanup (grandchildren included).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentvError, isAgentvError } from '../../src/errors.js';
import { createCliTarget } from '../../src/eval/targets/cli.js';
import {
  configHash,
  defaultGraderName,
  defaultTargetName,
  loadTargetsConfig,
  parseInlineTarget,
  ProcessRegistry,
  resolveTarget,
  type TargetConfig,
  type TargetsConfig,
} from '../../src/eval/targets/index.js';
import type { Target, TargetCall } from '../../src/eval/types.js';
import { targetError } from '../helpers/expect.js';

let repoDir: string;
let registry: ProcessRegistry;

beforeEach(async () => {
  repoDir = await mkdtemp(join(tmpdir(), 'agentv-targets-test-'));
  registry = new ProcessRegistry();
});
afterEach(async () => {
  // Belt and braces: a failing test must not leave sleepers behind.
  registry.killAll();
  await rm(repoDir, { recursive: true, force: true });
});

async function writeTargets(text: string): Promise<void> {
  await mkdir(join(repoDir, '.agentv'), { recursive: true });
  await writeFile(join(repoDir, '.agentv', 'targets.yaml'), text);
}

async function invalidError(text: string): Promise<AgentvError> {
  await writeTargets(text);
  const err = await loadTargetsConfig({ repoDir }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(isAgentvError(err, 'TARGETS_INVALID')).toBe(true);
  return err as AgentvError;
}

function callOf(prompt: string, extra: Partial<TargetCall> = {}): TargetCall {
  return { prompt, promptText: prompt, testId: 't1', vars: { input: prompt }, signal: new AbortController().signal, ...extra };
}


function resolve(name: string, config: TargetsConfig | null = null, env: NodeJS.ProcessEnv = { ...process.env, OPENAI_API_KEY: 'sk-test' }): Target {
  return resolveTarget({ name, config, repoDir, registry, env });
}

/** Poll a bounded number of times; no sleep stands in for synchronisation. */
async function waitFor(check: () => boolean, what: string, tries = 200, everyMs = 25): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * False once the pid is gone. A killed orphan stays a zombie until init reaps it, and
 * some container inits never do, so a zombie counts as dead: it runs nothing.
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function pidFrom(file: string): Promise<number> {
  await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').trim() !== '', `${file}`);
  return Number((await readFile(file, 'utf8')).trim());
}

describe('loadTargetsConfig', () => {
  it('returns null when there is no targets file', async () => {
    expect(await loadTargetsConfig({ repoDir })).toBeNull();
  });

  it('parses every provider and fills defaults', async () => {
    await writeTargets(`
targets:
  - name: e
    provider: echo
  - name: m
    provider: mock
    response: "hi {{ input }}"
    delay_ms: 5
  - name: agent
    provider: cli
    command: ./agent.sh {PROMPT}
    env: { MODE: fast }
  - name: gpt
    provider: openai
    model: gpt-4o-mini
    temperature: 0
defaults:
  target: agent
  grader: openai:gpt-4o
`);
    const config = await loadTargetsConfig({ repoDir });
    expect(config?.targets.map((t) => t.provider)).toEqual(['echo', 'mock', 'cli', 'openai']);
    expect(config?.targets[2]).toMatchObject({ timeout_seconds: 300, env: { MODE: 'fast' } });
    expect(config?.targets[3]).toMatchObject({
      base_url: 'https://api.openai.com/v1',
      api_key_env: 'OPENAI_API_KEY',
      max_retries: 4,
      timeout_seconds: 120,
      temperature: 0,
    });
    expect(defaultTargetName(config)).toBe('agent');
    expect(defaultGraderName(config)).toBe('openai:gpt-4o');
    expect(defaultTargetName(null)).toBeNull();
    expect(defaultGraderName({ targets: [] })).toBeNull();
  });

  it('accepts an empty file as no targets', async () => {
    await writeTargets('');
    expect(await loadTargetsConfig({ repoDir })).toEqual({ targets: [] });
  });

  it('reports an unknown provider at its line', async () => {
    const err = await invalidError('targets:\n  - name: a\n    provider: anthropic\n');
    expect(err.data).toMatchObject({ file: '.agentv/targets.yaml', line: 3 });
  });

  it('reports a misspelt field at the line of the key', async () => {
    const err = await invalidError('targets:\n  - name: a\n    provider: cli\n    command: ./x\n    timeout: 5\n');
    expect(err.data.line).toBe(5);
  });

  it('reports a mistyped field at its line and collects every problem', async () => {
    const err = await invalidError(
      'targets:\n  - name: a\n    provider: cli\n    command: ./x\n    timeout_seconds: soon\n  - name: b\n    provider: openai\n',
    );
    const problems = err.data.problems as Array<{ file: string; line?: number; message: string }>;
    expect(problems.map((p) => p.line)).toEqual([5, 6]); // 6: openai without a model points at its entry
    expect(problems.every((p) => p.file === '.agentv/targets.yaml')).toBe(true);
  });

  it('rejects duplicate target names at the second one', async () => {
    const err = await invalidError('targets:\n  - name: a\n    provider: echo\n  - name: a\n    provider: mock\n');
    expect(err.data.line).toBe(4);
  });

  it('rejects a target name with a colon (reserved for inline forms)', async () => {
    await invalidError('targets:\n  - name: "exec:x"\n    provider: echo\n');
  });

  it('reports bad YAML with its line', async () => {
    const err = await invalidError('targets:\n  - name: a\n    provider: echo\n  bad: [unclosed\n');
    expect(typeof err.data.line).toBe('number');
    expect(err.data.line).toBeGreaterThanOrEqual(4);
  });

  it('rejects defaults naming neither a configured target nor an inline form', async () => {
    const err = await invalidError('targets: []\ndefaults:\n  target: nope\n');
    expect(err.data.line).toBe(3);
  });

  it('rejects unknown top-level keys', async () => {
    const err = await invalidError('targets: []\nproviders: []\n');
    expect(err.data.line).toBe(2);
  });
});

describe('resolveTarget', () => {
  it('resolves inline forms', () => {
    expect(resolve('echo').provider).toBe('echo');
    expect(resolve('mock').provider).toBe('mock');
    const exec = resolve('exec:./agent.sh {PROMPT}');
    expect(exec).toMatchObject({ name: 'exec:./agent.sh {PROMPT}', provider: 'cli' });
    expect(resolve('openai:gpt-4o').provider).toBe('openai');
    expect(parseInlineTarget('openai:chat:gpt-4o')).toMatchObject({ provider: 'openai', model: 'gpt-4o' });
    expect(parseInlineTarget('exec:')).toBeNull();
  });

  it('prefers a configured target over an inline form of the same name', async () => {
    const config: TargetsConfig = { targets: [{ name: 'echo', provider: 'mock', response: 'configured' }] };
    const out = await resolve('echo', config).call(callOf('hello'));
    expect(out.output).toBe('configured');
  });

  it('throws TARGET_NOT_FOUND with the known names', () => {
    const config: TargetsConfig = { targets: [{ name: 'a', provider: 'echo' }] };
    let err: unknown;
    try {
      resolve('b', config);
    } catch (e) {
      err = e;
    }
    expect(isAgentvError(err, 'TARGET_NOT_FOUND')).toBe(true);
    expect((err as AgentvError).data).toEqual({ name: 'b', known: ['a'] });
  });
});

describe('configHash', () => {
  const base: TargetConfig = {
    name: 'agent',
    provider: 'cli',
    command: './run.sh {PROMPT}',
    timeout_seconds: 300,
    env: { MODE: 'fast', API_KEY: 'sk-one', GithubToken: 'ghp-one' },
  };

  it('is a sha256 hex, independent of key order and name', () => {
    const h = configHash({ config: base });
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    const reordered = { env: { GithubToken: 'ghp-one', API_KEY: 'sk-one', MODE: 'fast' }, timeout_seconds: 300, command: './run.sh {PROMPT}', provider: 'cli', name: 'renamed' } as TargetConfig;
    expect(configHash({ config: reordered })).toBe(h);
    expect(resolve('agent', { targets: [base] }).configHash).toBe(h);
  });

  it('ignores secret env values but not other configuration', () => {
    const h = configHash({ config: base });
    const otherSecrets = { ...base, env: { MODE: 'fast', API_KEY: 'sk-two', GithubToken: 'ghp-two' } } as TargetConfig;
    expect(configHash({ config: otherSecrets })).toBe(h);
    expect(configHash({ config: { ...base, env: { ...base.env, MODE: 'slow' } } as TargetConfig })).not.toBe(h);
    expect(configHash({ config: { ...base, command: './other.sh' } as TargetConfig })).not.toBe(h);
  });

  it('refuses a hosted OpenAI target whose key is not set, before anything runs; a local server needs none', () => {
    const env = { PATH: process.env.PATH };
    const err = (() => {
      try {
        resolve('openai:gpt-4o', null, env);
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(isAgentvError(err, 'CONFIG')).toBe(true);
    expect((err as AgentvError).data).toMatchObject({ api_key_env: 'OPENAI_API_KEY' });
    const local: TargetsConfig = { targets: [{ name: 'llama', provider: 'openai', model: 'x', base_url: 'http://127.0.0.1:8080/v1', api_key_env: 'OPENAI_API_KEY', timeout_seconds: 120, max_retries: 4 }] };
    expect(resolve('llama', local, env).provider).toBe('openai');
  });

  it('gives an inline form and the same configured target the same hash', () => {
    const inline = resolve('openai:gpt-4o');
    const configured = resolve('g', { targets: [{ name: 'g', provider: 'openai', model: 'gpt-4o', base_url: 'https://api.openai.com/v1', api_key_env: 'OPENAI_API_KEY', timeout_seconds: 120, max_retries: 4 }] });
    expect(configured.configHash).toBe(inline.configHash);
    expect(resolve('openai:gpt-4o-mini').configHash).not.toBe(inline.configHash);
  });
});

describe('echo and mock', () => {
  it('echo returns the prompt text', async () => {
    expect((await resolve('echo').call(callOf('ping'))).output).toBe('ping');
  });

  it('a delay ends at once when the call is aborted', async () => {
    const target = resolve('slow', { targets: [{ name: 'slow', provider: 'echo', delay_ms: 60_000 }] });
    const ac = new AbortController();
    const pending = target.call(callOf('x', { signal: ac.signal }));
    ac.abort();
    expect((await targetError(pending)).kind).toBe('aborted');
  });

  it('mock renders its template, per-test responses and scripted errors', async () => {
    const target = resolve('m', {
      targets: [
        {
          name: 'm',
          provider: 'mock',
          response: 'Q={{ input }} L={{lang}} U={{ user.name }} M={{ missing }} T={{ test_id }}',
          responses: { special: 'special for {{ input }}' },
          errors: { broken: 'scripted failure' },
        },
      ],
    });
    const vars = { input: 'why?', lang: 'en', user: { name: 'ada' } };
    expect((await target.call(callOf('why?', { vars }))).output).toBe('Q=why? L=en U=ada M= T=t1');
    expect((await target.call(callOf('why?', { vars, testId: 'special' }))).output).toBe('special for why?');
    expect((await targetError(target.call(callOf('x', { testId: 'broken' })))).message).toBe('scripted failure');
    expect((await resolve('mock').call(callOf('x', { testId: 'constructor' }))).output).toBe('mock response');
  });
});

describe('cli target', () => {
  const nasty = `it's "quoted" $(touch PWNED) \`touch PWNED\` $HOME \\ end`;

  it('substitutes {PROMPT} as exactly one word, bare or inside quotes', async () => {
    for (const command of [`printf '%s' {PROMPT}`, `printf '%s' '{PROMPT}'`, `printf '%s' "{PROMPT}"`]) {
      const out = await resolve(`exec:${command}`).call(callOf(nasty));
      expect(out.output).toBe(nasty);
    }
    const framed = await resolve(`exec:printf '%s' "<{PROMPT}>" '[{TEST_ID}]'`).call(callOf(nasty, { testId: "a'b" }));
    expect(framed.output).toBe(`<${nasty}>[a'b]`);
    expect(existsSync(join(repoDir, 'PWNED'))).toBe(false);
  });

  it('passes the prompt in {PROMPT_FILE} and prefers {OUTPUT_FILE} over stdout', async () => {
    const fromFile = await resolve('exec:echo noise; tr a-z A-Z < {PROMPT_FILE} > {OUTPUT_FILE}').call(callOf('hello\nworld'));
    expect(fromFile.output).toBe('HELLO\nWORLD');
    const stdout = await resolve('exec:echo "id={TEST_ID}"').call(callOf('x', { testId: 'case-7' }));
    expect(stdout.output).toBe('id=case-7'); // the trailing newline is dropped
    const emptyFile = await resolve('exec:echo ignored; : > {OUTPUT_FILE}').call(callOf('x'));
    expect(emptyFile.output).toBe('');
  });

  it('runs in cwd relative to the repo with env merged over the environment', async () => {
    await mkdir(join(repoDir, 'sub'));
    const target = resolve('t', {
      targets: [{ name: 't', provider: 'cli', command: 'echo "$(basename "$PWD") $MODE ${PATH:+has-path}"', cwd: 'sub', env: { MODE: 'fast' }, timeout_seconds: 300 }],
    });
    expect((await target.call(callOf('x'))).output).toBe('sub fast has-path');
  });

  it('turns a non-zero exit into an exit error carrying the end of stderr', async () => {
    const err = await targetError(resolve('exec:echo first >&2; echo "last words" >&2; exit 3').call(callOf('x')));
    expect(err.kind).toBe('exit');
    expect(err.message).toContain('3');
    expect(err.message).toContain('last words');
  });

  it('reports a missing cwd as a spawn error', async () => {
    const target = resolve('t', { targets: [{ name: 't', provider: 'cli', command: 'true', cwd: 'does/not/exist', timeout_seconds: 300 }] });
    expect((await targetError(target.call(callOf('x')))).kind).toBe('spawn');
    expect(registry.size).toBe(0);
  });

  it('reports a prompt the OS cannot pass (a NUL byte) as a spawn error', async () => {
    expect((await targetError(resolve('exec:echo {PROMPT}').call(callOf('a\0b')))).kind).toBe('spawn');
  });

  it('times out, and escalates to SIGKILL when SIGTERM is ignored', async () => {
    const pidFile = join(repoDir, 'gc.pid');
    const target = createCliTarget({
      config: { name: 't', provider: 'cli', command: `trap '' TERM; sh -c 'sleep 100 & echo $! > ${pidFile}; wait'`, timeout_seconds: 0.3 },
      configHash: 'x',
      repoDir,
      registry,
      killGraceMs: 100,
    });
    const started = Date.now();
    const err = await targetError(target.call(callOf('x')));
    expect(err.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5_000);
    const gc = await pidFrom(pidFile);
    await waitFor(() => !isAlive(gc), 'the grandchild to die');
    expect(registry.size).toBe(0);
  });

  it('on abort kills the whole process group, grandchildren included', async () => {
    const pidFile = join(repoDir, 'gc.pid');
    const target = resolve(`exec:sh -c 'sleep 100 & echo $! > ${pidFile}; wait'; echo unreachable`);
    const ac = new AbortController();
    const pending = target.call(callOf('x', { signal: ac.signal }));
    const gc = await pidFrom(pidFile);
    expect(isAlive(gc)).toBe(true);
    expect(registry.size).toBe(1);
    ac.abort();
    expect((await targetError(pending)).kind).toBe('aborted');
    await waitFor(() => !isAlive(gc), 'the grandchild to die');
    expect(registry.size).toBe(0);
  });

  it('registry.killAll ends every registered group', async () => {
    const pidFiles = [join(repoDir, 'a.pid'), join(repoDir, 'b.pid')];
    // Handlers attach at once: a rejection must not wait unobserved behind another await.
    const calls = pidFiles.map((f) => targetError(resolve(`exec:sh -c 'sleep 100 & echo $! > ${f}; wait'`).call(callOf('x'))));
    const pids = await Promise.all(pidFiles.map(pidFrom));
    expect(registry.size).toBe(2);
    expect(registry.killAll()).toBe(2);
    for (const call of calls) expect((await call).kind).toBe('exit');
    await waitFor(() => pids.every((p) => !isAlive(p)), 'the grandchildren to die');
    expect(registry.size).toBe(0);
    expect(registry.killAll()).toBe(0);
  });

  it('reaps what a successful command left running in the background', async () => {
    const pidFile = join(repoDir, 'bg.pid');
    const out = await resolve(`exec:sleep 100 & echo $! > ${pidFile}; echo done`).call(callOf('x'));
    expect(out.output).toBe('done');
    const bg = await pidFrom(pidFile);
    await waitFor(() => !isAlive(bg), 'the background process to die');
  });

  it('does not start at all when the call is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const pidFile = join(repoDir, 'never.pid');
    const err = await targetError(resolve(`exec:echo $$ > ${pidFile}`).call(callOf('x', { signal: ac.signal })));
    expect(err.kind).toBe('aborted');
    expect(existsSync(pidFile)).toBe(false);
  });
});
