// The bench rows of many machines pushing runs to one remote at the same
// moment (SPEC 3.6): 64 clones, one new run each, all `agentv results push`
// started together against one bare repository over file://. Measured: the
// time until every push has exited 0 (every run delivered, onto the results
// ref or an incoming ref), then until a fresh clone's `results pull` lists
// all 64, and the bytes that crossed the wire per push (both directions of
// every fetch and push a push made, counted by wrapping git's upload-pack and
// receive-pack in the clones' own config).
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { initRepo, runGit } from '../src/git/index.js';
import { createRun, openStore } from '../src/store/index.js';
import { syntheticRuns } from '../src/store/seed.js';
import { n } from './stats.js';

const CLONES = 64;
const execFileP = promisify(execFile);
const log = (s: string) => void process.stderr.write(`bench: ${s}\n`);
const row = (label: string, result: string, target: string) => [label, '', '', '', result, target];

/** A wrapper for a git server program that keeps a copy of both directions of the stream. */
function counter(dir: string, program: string): string {
  const file = path.join(dir, `count-${program}.sh`);
  const out = path.join(dir, 'wire');
  writeFileSync(file, `#!/bin/sh\ntee "${out}/$$.${program}.in" | git ${program} "$@" | tee "${out}/$$.${program}.out"\n`, { mode: 0o755 });
  return file;
}

function wireBytes(dir: string): number {
  const wire = path.join(dir, 'wire');
  return readdirSync(wire).reduce((sum, f) => sum + statSync(path.join(wire, f)).size, 0);
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await runGit({ cwd, args })).stdout.trim();
}

export async function measurePush({ tmp, cli }: { tmp: string; cli: string }): Promise<string[][]> {
  const dir = path.join(tmp, 'push');
  mkdirSync(path.join(dir, 'wire'), { recursive: true });
  const bare = path.join(dir, 'remote.git');
  await runGit({ cwd: dir, args: ['init', '-q', '--bare', bare] });
  const uploadPack = counter(dir, 'upload-pack');
  const receivePack = counter(dir, 'receive-pack');
  const clone = async (name: string) => {
    const c = path.join(dir, name);
    await initRepo({ dir: c });
    await git(c, 'remote', 'add', 'origin', `file://${bare}`);
    await git(c, 'config', 'remote.origin.uploadpack', uploadPack);
    await git(c, 'config', 'remote.origin.receivepack', receivePack);
    return c;
  };

  log(`push contention: ${CLONES} clones with one new run each ...`);
  const clones: string[] = [];
  const runs = [...syntheticRuns({ runs: CLONES, rowsPerRun: 10, startAt: new Date() })];
  for (let i = 0; i < CLONES; i++) {
    const c = await clone(`clone-${i}`);
    const store = await openStore({ repoDir: c });
    try {
      await createRun({ store, manifest: runs[i]!.manifest, rows: runs[i]!.rows });
    } finally {
      store.close();
    }
    clones.push(c);
  }

  log(`push contention: ${CLONES} \`agentv results push\` at once ...`);
  const t0 = performance.now();
  const docs = await Promise.all(
    clones.map(async (c) => JSON.parse((await execFileP(process.execPath, [cli, 'results', 'push', '--json'], { cwd: c })).stdout) as { result: string; landed: string }),
  );
  const delivered = performance.now() - t0;
  const bytes = wireBytes(dir);
  if (docs.some((d) => d.result !== 'pushed')) throw new Error(`push contention: a push did not push: ${JSON.stringify(docs)}`);
  const onRef = docs.filter((d) => d.landed === 'runs').length;
  const incoming = (await git(bare, 'for-each-ref', 'refs/agentv/incoming/')).split('\n').filter(Boolean).length;

  const reader = await clone('reader');
  const t1 = performance.now();
  await execFileP(process.execPath, [cli, 'results', 'pull'], { cwd: reader });
  const listed = JSON.parse((await execFileP(process.execPath, [cli, 'runs', 'list', '--limit', '500', '--json'], { cwd: reader })).stdout).runs.length as number;
  const readable = performance.now() - t1;
  if (listed !== CLONES) throw new Error(`push contention: a fresh clone lists ${listed} runs, not ${CLONES}`);

  const t2 = performance.now();
  await execFileP(process.execPath, [cli, 'results', 'push'], { cwd: reader });
  const folded = performance.now() - t2;
  const left = (await git(bare, 'for-each-ref', 'refs/agentv/incoming/')).split('\n').filter(Boolean).length;

  return [
    row(
      `${CLONES} clones run \`agentv results push\` at the same moment (one new run each, file:// bare remote): wall until every push exited 0 (s)`,
      `${(delivered / 1000).toFixed(1)} s; all ${CLONES} exit 0; ${onRef} moved the results ref, ${CLONES - onRef} landed on incoming refs (${incoming} left)`,
      `every push delivers ${docs.length === CLONES ? '✅' : '❌'}`,
    ),
    row(
      'then a fresh clone: `results pull` (folds the incoming refs) + `runs list` shows every run (s); then its `results push` folds them into the remote (s)',
      `${(readable / 1000).toFixed(1)} s (${listed} runs); ${(folded / 1000).toFixed(1)} s (${left} incoming refs left)`,
      `all ${CLONES} arrive ${listed === CLONES && left === 0 ? '✅' : '❌'}`,
    ),
    row(`bytes on the wire per push (both directions of its fetch and push, ${CLONES} pushes)`, `${n(bytes / CLONES)} B`, 'info'),
  ];
}
