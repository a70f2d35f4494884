// `agentv studio` as a user starts it: it listens, serves the viewer and the
// API, answers with the same documents as `runs list/show --json`, honours
// --read-only, and ends cleanly on Ctrl+C.
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';
import { waitExit } from '../helpers/proc.js';
import { runCli, startCli } from '../helpers/cli.js';

afterEach(cleanupRepos);

/** Start studio on a free port; resolves with its base URL from the "Studio: <url>" line. */
function studio(dir: string, ...args: string[]): Promise<{ child: ChildProcess; base: string }> {
  const child = startCli(['studio', '--port', '0', ...args], { cwd: dir });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /^Studio: (http:\/\/\S+)/m.exec(buf);
      if (m) resolve({ child, base: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`studio exited (${code}): ${buf}`)));
  });
}

describe('agentv studio', () => {
  it('serves the viewer and the API, with the same documents as the CLI, and stops on Ctrl+C', async () => {
    const dir = makeRepo();
    writeFileSync(path.join(dir, 'suite.yaml'), 'tests:\n  - { id: a, vars: { input: hi }, assert: [{ type: contains, value: hi }] }\n');
    expect((await runCli(['eval', 'suite.yaml', '--target', 'echo', '--run-id', 'r1'], { cwd: dir })).code).toBe(0);
    const { child, base } = await studio(dir);
    const page = await fetch(`${base}/runs/r1`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');
    const list = await (await fetch(`${base}/api/runs?limit=50`)).json();
    expect(list).toEqual(JSON.parse((await runCli(['runs', 'list', '--json'], { cwd: dir })).stdout));
    const run = await (await fetch(`${base}/api/runs/r1`)).json();
    expect(run).toEqual(JSON.parse((await runCli(['runs', 'show', 'r1', '--json'], { cwd: dir })).stdout));
    child.kill('SIGINT');
    expect((await waitExit(child)).code).toBe(0);
  });

  it('--read-only refuses launching', async () => {
    const dir = makeRepo();
    writeFileSync(path.join(dir, 'suite.yaml'), 'tests:\n  - { id: a }\n');
    const { child, base } = await studio(dir, '--read-only');
    expect((await (await fetch(`${base}/api/config`)).json()).read_only).toBe(true);
    const r = await fetch(`${base}/api/eval/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ suite: 'suite.yaml' }) });
    expect(r.status).toBe(403);
    child.kill('SIGTERM');
    expect((await waitExit(child)).code).toBe(0);
  });

  it('keeps answering while a huge suite loads for the launch form (suites load off the event loop)', async () => {
    const dir = makeRepo();
    // ~4 MB of YAML: seconds of loading, which in-process would hold up every request.
    const tests = Array.from({ length: 15_000 }, (_, i) => `  - id: t${i}\n    vars: { input: "question number ${i} about something fairly long to pad the file out" }\n    assert: [{ type: contains, value: "${i}" }]\n`);
    writeFileSync(path.join(dir, 'huge.yaml'), `tests:\n${tests.join('')}`);
    const { child, base } = await studio(dir);
    let loaded = false;
    const suites = fetch(`${base}/api/suites`).then(async (r) => {
      loaded = true;
      return (await r.json()) as { suites: { path: string; test_count: number }[] };
    });
    let answered = 0;
    while (!loaded) {
      const r = await fetch(`${base}/api/runs?limit=50`);
      expect(r.status).toBe(200);
      if (!loaded) answered++;
      await new Promise((r) => setTimeout(r, 50)); // leave the cores to the loader
    }
    expect((await suites).suites).toContainEqual(expect.objectContaining({ path: 'huge.yaml', test_count: 15_000 }));
    expect(answered).toBeGreaterThanOrEqual(10);
    child.kill('SIGINT');
    expect((await waitExit(child)).code).toBe(0);
  });

  it('a bad --port is a usage error', async () => {
    const dir = makeRepo();
    expect((await runCli(['studio', '--port', 'http'], { cwd: dir })).code).toBe(2);
  });
});
