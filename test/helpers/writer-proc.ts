// A child process that writes runs through the store, for multi-process and
// kill tests. argv: <repoDir> <prefix> <runs> <rowsPerRun> [slow]
// Prints "journaled <run_id> <n>" after each durable row, "done" at the end.
import { acquireRunLock, createRun, finishRun, openStore, RowWriter } from '../../src/store/index.js';
import { makeManifest, makeRow } from './runs.js';

const [repoDir, prefix, runsText, rowsText, slow] = process.argv.slice(2) as [string, string, string, string, string | undefined];
const store = await openStore({ repoDir });
for (let r = 0; r < Number(runsText); r++) {
  const runId = `${prefix}-${r}`;
  const lock = acquireRunLock({ localDir: store.localDir, runId });
  await createRun({ store, manifest: { ...makeManifest(runId, { tests: Number(rowsText) }), started_at: new Date().toISOString() } });
  const writer = new RowWriter({ store, runId, maxBatch: 8, maxDelayMs: 20 });
  for (let i = 1; i <= Number(rowsText); i++) {
    await writer.add(makeRow(`t${i}`));
    process.stdout.write(`journaled ${runId} ${i}\n`);
    if (slow) await new Promise((res) => setTimeout(res, Math.random() * 15));
  }
  await writer.drain();
  await finishRun({ store, runId, status: 'completed' });
  writer.finish();
  lock.release();
}
process.stdout.write('done\n');
store.close();
