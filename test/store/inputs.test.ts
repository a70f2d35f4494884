import { afterEach, describe, expect, it } from 'vitest';
import type { StoredInput } from '../../src/schemas/input.js';
import { createRun, finishRun, inputPath, inputRefOf, mergeRuns, openStore, showRun, updateRun, type Store } from '../../src/store/index.js';
import { cleanupRepos, git, makeRepo } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';

afterEach(cleanupRepos);

const input = (s: string): StoredInput => ({ prompt: s, messages: null, vars: { input: s }, expected_output: null });

async function runWith(store: Store, runId: string, inputs: StoredInput[]) {
  await createRun({ store, manifest: makeManifest(runId, { tests: inputs.length }) });
  const rows = inputs.map((inp, i) => makeRow(`t${i + 1}`, { input_ref: inputRefOf(inp) }));
  await updateRun({ store, runId, update: { rows, inputs: new Map(inputs.map((inp) => [inputRefOf(inp), inp])), subject: 'rows' } });
  await finishRun({ store, runId, status: 'completed' });
}

describe('stored inputs', () => {
  it('are content-addressed and sharded; rows without one read as input: null', async () => {
    const dir = makeRepo();
    const store = await openStore({ repoDir: dir });
    await runWith(store, 'r1', [input('same'), input('other')]);
    await runWith(store, 'r2', [input('same'), input('same')]);
    await createRun({ store, manifest: makeManifest('old', { tests: 1 }) });
    await updateRun({ store, runId: 'old', update: { rows: [makeRow('t1')], subject: 'rows' } });
    const files = git(dir, 'ls-tree', '-r', '--name-only', 'refs/agentv/runs/v1', 'inputs').split('\n');
    expect(files.sort()).toEqual([inputPath(inputRefOf(input('same'))), inputPath(inputRefOf(input('other')))].sort());
    expect(files[0]).toMatch(/^inputs\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}\.json$/);
    const r2 = await showRun({ store, runId: 'r2' });
    expect(r2.results.map((r) => r.input)).toEqual([input('same'), input('same')]);
    expect((await showRun({ store, runId: 'old' })).results[0]!.input).toBeNull();
    store.close();
  });

  it('a merge keeps the inputs of both sides', async () => {
    const dir = makeRepo();
    const ours = await openStore({ repoDir: dir });
    const theirs = await openStore({ repoDir: dir, ref: 'refs/agentv/test/theirs' });
    await runWith(ours, 'mine', [input('asked here')]);
    await runWith(theirs, 'yours', [input('asked there')]);
    const tip = (await theirs.tip())!.commit;
    await mergeRuns({ store: ours, theirs: tip, subject: 'merge' });
    expect((await showRun({ store: ours, runId: 'mine' })).results[0]!.input).toEqual(input('asked here'));
    expect((await showRun({ store: ours, runId: 'yours' })).results[0]!.input).toEqual(input('asked there'));
    ours.close();
    theirs.close();
  });
});
