// The openai target against a real local HTTP server faking /v1/chat/completions:
// request shape, auth, usage, retries (429, 5xx, dropped connections), Retry-After,
// timeouts, abort, and that the api key never leaks into an error.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiTarget } from '../../src/eval/targets/openai.js';
import { ProcessRegistry, resolveTarget, type TargetsConfig } from '../../src/eval/targets/index.js';
import type { OpenAiTargetConfig } from '../../src/schemas/targets.js';
import { TargetError, type ChatMessage, type Target, type TargetCall } from '../../src/eval/types.js';
import { targetError } from '../helpers/expect.js';

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** Decides the reply to the n-th request (0-based); may leave `res` unanswered. */
type Reply = (n: number, res: ServerResponse, seen: Seen) => void;

let server: Server;
let baseUrl: string;
let seen: Seen[];
let reply: Reply;

function completion(content: string, usage?: Record<string, number>) {
  return { id: 'c1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], ...(usage && { usage }) };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

beforeEach(async () => {
  seen = [];
  reply = (_n, res) => sendJson(res, 200, completion('ok'));
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const s: Seen = { url: req.url ?? '', headers: req.headers, body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {} };
      seen.push(s);
      if (req.url !== '/v1/chat/completions' || req.method !== 'POST') return sendJson(res, 404, { error: 'not found' });
      reply(seen.length - 1, res, s);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function target(fields: Partial<OpenAiTargetConfig> = {}, env: NodeJS.ProcessEnv = {}): Target {
  const config: TargetsConfig = {
    targets: [
      {
        name: 'local',
        provider: 'openai',
        base_url: baseUrl,
        model: 'tiny-model',
        api_key_env: 'TEST_OPENAI_KEY',
        timeout_seconds: 10,
        max_retries: 4,
        ...fields,
      },
    ],
  };
  return resolveTarget({ name: 'local', config, repoDir: '/nonexistent', registry: new ProcessRegistry(), env, retryBaseMs: 1 });
}

function callOf(prompt: string | ChatMessage[], signal = new AbortController().signal): TargetCall {
  const promptText = typeof prompt === 'string' ? prompt : prompt.map((m) => m.content).join('\n');
  return { prompt, promptText, testId: 't1', vars: {}, signal };
}


describe('openai target', () => {
  it('posts the model and a user message and records token usage', async () => {
    reply = (_n, res) => sendJson(res, 200, completion('Paris', { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 }));
    const out = await target({ temperature: 0.2, max_tokens: 64 }).call(callOf('Capital of France?'));
    expect(out).toEqual({ output: 'Paris', tokenUsage: { prompt: 12, completion: 3, total: 15 } });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.body).toEqual({
      model: 'tiny-model',
      messages: [{ role: 'user', content: 'Capital of France?' }],
      temperature: 0.2,
      max_tokens: 64,
    });
    // No key in the environment (a local server): no Authorization header at all.
    expect(seen[0]!.headers.authorization).toBeUndefined();
  });

  it('omits optional parameters and usage when absent', async () => {
    const out = await target().call(callOf('hi'));
    expect(out).toEqual({ output: 'ok' });
    expect(Object.keys(seen[0]!.body).sort()).toEqual(['messages', 'model']);
  });

  it('passes chat messages through unchanged', async () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: 'Bye' },
    ];
    await target().call(callOf(messages));
    expect(seen[0]!.body.messages).toEqual(messages);
  });

  it('sends the key from api_key_env as a Bearer token and never echoes it in errors', async () => {
    const key = 'sk-test-very-secret-123';
    reply = (n, res, s) =>
      n === 0 ? sendJson(res, 200, completion('fine')) : sendJson(res, 401, { error: { message: `Incorrect API key provided: ${s.headers.authorization}` } });
    const t = target({}, { TEST_OPENAI_KEY: key });
    await t.call(callOf('hi'));
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${key}`);
    const err = await targetError(t.call(callOf('hi')));
    expect(err.kind).toBe('http');
    expect(err.message).toContain('401');
    expect(err.message).not.toContain(key);
    expect(seen).toHaveLength(2); // a 401 is not retried
  });

  it('retries a 429 and succeeds', async () => {
    reply = (n, res) =>
      n === 0
        ? sendJson(res, 429, { error: 'slow down' }, { 'retry-after': '0' })
        : n === 1
          ? sendJson(res, 429, { error: 'slow down' })
          : sendJson(res, 200, completion('third time'));
    const out = await target().call(callOf('hi'));
    expect(out.output).toBe('third time');
    expect(seen).toHaveLength(3);
  });

  it('gives up on persistent 5xx after max_retries with an http error', async () => {
    reply = (_n, res) => sendJson(res, 503, { error: { message: 'upstream overloaded' } });
    const err = await targetError(target({ max_retries: 2 }).call(callOf('hi')));
    expect(err.kind).toBe('http');
    expect(err.message).toContain('503');
    expect(err.message).toContain('upstream overloaded');
    expect(seen).toHaveLength(3);
  });

  it('retries a dropped connection', async () => {
    reply = (n, res) => (n === 0 ? res.socket?.destroy() : sendJson(res, 200, completion('recovered')));
    expect((await target().call(callOf('hi'))).output).toBe('recovered');
    expect(seen).toHaveLength(2);
  });

  it('caps a long Retry-After', async () => {
    reply = (n, res) => (n === 0 ? sendJson(res, 429, {}, { 'retry-after': '3600' }) : sendJson(res, 200, completion('soon')));
    const config: OpenAiTargetConfig = {
      name: 'capped',
      provider: 'openai',
      base_url: baseUrl,
      model: 'm',
      api_key_env: 'NONE',
      timeout_seconds: 10,
      max_retries: 1,
    };
    const t = createOpenAiTarget({ config, configHash: 'x', env: {}, retryBaseMs: 1, maxRetryDelayMs: 20 });
    expect((await t.call(callOf('hi'))).output).toBe('soon');
  });

  it('times out a request that never answers', async () => {
    reply = () => {}; // hold the request open
    const err = await targetError(target({ timeout_seconds: 0.2 }).call(callOf('hi')));
    expect(err.kind).toBe('timeout');
    expect(seen).toHaveLength(1);
  });

  it('stops at once when aborted, in flight or while backing off', async () => {
    reply = () => {};
    const inFlight = new AbortController();
    const pending = target().call(callOf('hi', inFlight.signal));
    for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    inFlight.abort();
    expect((await targetError(pending)).kind).toBe('aborted');

    reply = (_n, res) => sendJson(res, 429, {}, { 'retry-after': '30' });
    const backingOff = new AbortController();
    const started = Date.now();
    const pending2 = target().call(callOf('hi', backingOff.signal));
    for (let i = 0; i < 200 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    backingOff.abort();
    expect((await targetError(pending2)).kind).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('treats a malformed body as a target error, not a crash', async () => {
    reply = (_n, res) => sendJson(res, 200, { choices: [] });
    expect(await targetError(target().call(callOf('hi')))).toBeInstanceOf(TargetError);
  });
});
