// `results link`: a trailer on an unpublished HEAD (amended with the same tree,
// index and work tree untouched), a note on anything published; and
// `runs list --commit REV` finding runs linked either way.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { cliOk } from '../helpers/expect.js';
import { cleanupRepos, git, makeRepo, tempDir } from '../helpers/repo.js';

afterEach(cleanupRepos);

function withSuite(dir: string): string {
  writeFileSync(path.join(dir, 'suite.yaml'), 'name: tiny\ntests:\n  - id: a\n    vars: { input: hello }\n');
  return dir;
}

const evalRun = async (dir: string) => JSON.parse((await cliOk(dir, 'eval', 'suite.yaml', '--target', 'echo', '--json')).stdout).run_id as string;
const link = async (dir: string, ...args: string[]) => JSON.parse((await cliOk(dir, 'results', 'link', ...args, '--json')).stdout);
const ofCommit = async (dir: string, rev: string) =>
  (JSON.parse((await cliOk(dir, 'runs', 'list', '--commit', rev, '--json')).stdout).runs as { run_id: string }[]).map((r) => r.run_id).sort();

describe('results link', () => {
  it('amends an unpublished HEAD with the trailer, keeping tree, parents, author, index and work tree', async () => {
    const dir = withSuite(makeRepo());
    writeFileSync(path.join(dir, 'staged.txt'), 'staged\n');
    git(dir, 'add', 'staged.txt');
    writeFileSync(path.join(dir, 'README.md'), 'edited, not staged\n');
    const head = git(dir, 'rev-parse', 'HEAD');
    const show = (rev: string) => git(dir, 'show', '-s', '--format=%T %P|%an <%ae> %ad', rev);
    const status = git(dir, 'status', '--porcelain');
    const runId = await evalRun(dir);

    const r = await link(dir, runId);
    expect(r).toMatchObject({ run_id: runId, commit: head, mode: 'trailer' });
    const amended = git(dir, 'rev-parse', 'HEAD');
    expect(r.new_commit).toBe(amended);
    expect(amended).not.toBe(head);
    expect(show(amended)).toBe(show(head));
    expect(git(dir, 'log', '-1', '--format=%B', 'HEAD')).toBe(`init\n\nAgentv-Run: ${runId}`);
    expect(git(dir, 'status', '--porcelain')).toBe(status);
    expect(git(dir, 'diff', '--cached', '--name-only')).toBe('staged.txt');
    expect(git(dir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');

    expect(await ofCommit(dir, 'HEAD')).toEqual([runId]);
    expect(await ofCommit(dir, head.slice(0, 10))).toEqual([runId]);
    expect((await link(dir, runId, '--commit', 'HEAD')).mode).toBe('already_linked');
  });

  it('adds a note to a published commit, never rewriting it; --commit finds runs by note', async () => {
    const bare = path.join(tempDir(), 'remote.git');
    git(path.dirname(bare), 'init', '-q', '--bare', bare);
    const dir = withSuite(makeRepo());
    git(dir, 'remote', 'add', 'origin', `file://${bare}`);
    git(dir, 'push', '-q', '-u', 'origin', 'main');
    const published = git(dir, 'rev-parse', 'HEAD');
    const first = await evalRun(dir);

    expect(await link(dir, first)).toMatchObject({ commit: published, mode: 'note', new_commit: null });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(published);
    expect(git(dir, 'notes', '--ref=agentv', 'show', 'HEAD')).toBe(`Agentv-Run: ${first}`);

    // A later local commit and its run; then the first commit also gets linked to that run.
    git(dir, 'commit', '-q', '--allow-empty', '-m', 'second');
    const second = await evalRun(dir);
    expect(await ofCommit(dir, 'HEAD')).toEqual([second]);
    expect(await ofCommit(dir, 'HEAD~1')).toEqual([first]);
    expect((await link(dir, second, '--commit', 'HEAD~1')).mode).toBe('note');
    expect(git(dir, 'notes', '--ref=agentv', 'show', 'HEAD~1')).toBe(`Agentv-Run: ${first}\n\nAgentv-Run: ${second}`);
    expect(await ofCommit(dir, 'HEAD~1')).toEqual([first, second].sort());

    const bad = await runCli(['results', 'link', first, '--commit', 'no-such-rev'], { cwd: dir });
    expect(bad.code).toBe(2);
    const unknown = await runCli(['results', 'link', 'no-such-run'], { cwd: dir });
    expect(unknown.code).toBe(2);
  });
});
