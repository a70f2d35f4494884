// agentv eval against a real local HTTP server faking an OpenAI-compatible
// endpoint: token usage recorded, 429 retried, 5xx exhausted → execution_error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';
import { runCli } from '../helpers/cli.js';

let server: Server;
let port: number;
const hits = new Map<string, number>();
const auth: (string | undefined)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      auth.push(req.headers.authorization);
      const { messages, model } = JSON.parse(body) as { messages: { content: string }[]; model: string };
      const text = messages.at(-1)!.content;
      const key = text.split(' ')[0]!;
      const n = (hits.get(key) ?? 0) + 1;
      hits.set(key, n);
      const fail = (status: number) => {
        res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '0' });
        res.end(JSON.stringify({ error: { message: `status ${status}` } }));
      };
      if (req.url !== '/v1/chat/completions') return fail(404);
      if (key === 'broken') return fail(500);
      if (key === 'flaky' && n === 1) return fail(429);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: `answer to ${text}` }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.close();
  cleanupRepos();
});

describe('agentv eval with an OpenAI-compatible target', () => {
  it('records token usage, retries 429, and turns exhausted 5xx into an execution_error row', async () => {
    const dir = makeRepo();
    writeFileSync(
      path.join(dir, 'suite.yaml'),
      ['name: llm', 'tests:', ...['ok', 'flaky', 'broken'].map((k) => `  - id: ${k}\n    vars: { input: "${k} question" }\n    assert: [{ type: contains, value: answer }]`), ''].join('\n'),
    );
    mkdirSync(path.join(dir, '.agentv'));
    writeFileSync(
      path.join(dir, '.agentv/targets.yaml'),
      `targets:\n  - name: fake\n    provider: openai\n    base_url: http://127.0.0.1:${port}/v1\n    model: test-model\n    api_key_env: FAKE_KEY\n    max_retries: 2\n`,
    );
    const r = await runCli(['eval', 'suite.yaml', '--target', 'fake', '--json', '--run-id', 'llm'], { cwd: dir, env: { FAKE_KEY: 'sk-secret-123' } });
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ passed: 2, failed: 0, errored: 1 });
    expect(hits.get('flaky')).toBe(2);
    expect(hits.get('broken')).toBe(3);
    expect(auth.every((a) => a === 'Bearer sk-secret-123')).toBe(true);
    const show = JSON.parse((await runCli(['runs', 'show', 'llm', '--json'], { cwd: dir })).stdout);
    const byId = Object.fromEntries(show.results.map((x: { test_id: string }) => [x.test_id, x]));
    expect(byId.ok.token_usage).toEqual({ prompt: 7, completion: 3, total: 10 });
    expect(byId.ok.output).toBe('answer to ok question');
    expect(byId.broken).toMatchObject({ execution_status: 'execution_error', passed: false });
    expect(byId.broken.error).toMatch(/500/);
    // The key is read from the environment and never written to git.
    const { execFileSync } = await import('node:child_process');
    const all = execFileSync('git', ['log', '-p', 'refs/agentv/runs/v1'], { cwd: dir, encoding: 'utf8' });
    expect(all).not.toContain('sk-secret-123');
  });
});
