// SHA-256 repositories end to end: agentv writes its objects in the repository's
// object format (git fsck agrees), resumes, pushes and pulls between two
// SHA-256 repositories, and `results fsck` finds nothing wrong.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupRepos, git, makeRepo, tempDir } from '../helpers/repo.js';
import { runCli } from '../helpers/cli.js';
import { cliOk } from '../helpers/expect.js';

afterEach(cleanupRepos);

describe('a SHA-256 repository', () => {
  it('eval, resume, push / pull to another SHA-256 repository, fsck clean', async () => {
    const dir = makeRepo({ objectFormat: 'sha256' });
    expect(git(dir, 'rev-parse', '--show-object-format')).toBe('sha256');
    const flag = path.join(tempDir(), 'ok');
    writeFileSync(path.join(dir, 'suite.yaml'), 'name: s\ntests:\n  - id: t1\n    vars: { input: "a" }\n  - id: t2\n    vars: { input: "b" }\n');
    // The target fails until the flag file exists: the first run errors, the resume finishes it.
    const target = `exec:sh -c 'test -f ${flag} && echo fine || exit 1'`;
    const first = await runCli(['eval', 'suite.yaml', '--target', target, '--run-id', 'sha-run'], { cwd: dir });
    expect(first.code, first.stderr).toBe(1);
    writeFileSync(flag, '');
    await cliOk(dir, 'eval', 'suite.yaml', '--target', target, '--resume', 'sha-run');
    const show = JSON.parse((await cliOk(dir, 'runs', 'show', 'sha-run', '--json')).stdout);
    expect(show.run.status).toBe('completed');
    expect(show.results.map((r: { execution_status: string }) => r.execution_status)).toEqual(['ok', 'ok']);
    expect(git(dir, 'rev-parse', 'refs/agentv/runs/v1')).toHaveLength(64);
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');

    const remote = path.join(tempDir(), 'remote.git');
    git(path.dirname(remote), 'init', '-q', '--bare', '--object-format=sha256', remote);
    git(dir, 'remote', 'add', 'origin', remote);
    git(dir, 'push', '-q', 'origin', 'main');
    await cliOk(dir, 'results', 'push');
    const other = path.join(tempDir(), 'other');
    git(path.dirname(other), 'clone', '-q', remote, other);
    await cliOk(other, 'results', 'pull');
    const listed = JSON.parse((await cliOk(other, 'runs', 'list', '--json')).stdout);
    expect(listed.runs.map((r: { run_id: string }) => r.run_id)).toEqual(['sha-run']);

    for (const d of [dir, other]) {
      const f = await runCli(['results', 'fsck', '--json'], { cwd: d });
      expect(f.code, f.stderr).toBe(0);
      expect(JSON.parse(f.stdout)).toMatchObject({ ok: true, object_format: 'sha256', problems: [] });
    }
  });
});
