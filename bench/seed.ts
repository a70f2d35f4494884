// `npm run bench:seed -- --repo DIR --runs N [--rows-per-run K]`: fill a
// repository's results ref with synthetic runs (src/store/seed.ts), e.g. to try
// Studio or `agentv runs list` at 100,000 runs. Progress and timing on stderr.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AgentvError, exitCodeOf } from '../src/errors.js';
import { initRepo } from '../src/git/index.js';
import { seedRuns } from '../src/store/seed.js';

const USAGE = `usage: npm run bench:seed -- --repo DIR --runs N [--rows-per-run K] [--start-at ISO-TIME]

Adds N completed synthetic runs (K rows each, default 20) to refs/agentv/runs/v1
of the repository at DIR (created with git init if missing), one commit on top
of what is there.`;

function positive(name: string, text: string | undefined, fallback?: number): number {
  if (text === undefined && fallback !== undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new AgentvError('USAGE', `--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      repo: { type: 'string' },
      runs: { type: 'string' },
      'rows-per-run': { type: 'string' },
      'start-at': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.repo || !values.runs) throw new AgentvError('USAGE', `--repo and --runs are required\n${USAGE}`);
  const runs = positive('runs', values.runs);
  const rowsPerRun = positive('rows-per-run', values['rows-per-run'], 10);
  const startAt = values['start-at'] ? new Date(values['start-at']) : undefined;
  if (startAt && Number.isNaN(startAt.getTime())) throw new AgentvError('USAGE', `--start-at is not a date: ${values['start-at']}`);
  // npm runs scripts from the package root; a relative --repo means the caller's folder.
  const repoDir = path.resolve(process.env.INIT_CWD ?? process.cwd(), values.repo);
  if (!existsSync(repoDir)) {
    await initRepo({ dir: repoDir });
    process.stderr.write(`created ${repoDir} (git init)\n`);
  }
  const t0 = performance.now();
  const result = await seedRuns({
    repoDir,
    runs,
    rowsPerRun,
    startAt,
    onProgress: (done) => {
      process.stderr.write(`  ${done.toLocaleString('en-US')} runs streamed (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    },
  });
  const s = (performance.now() - t0) / 1000;
  process.stderr.write(
    `seeded ${runs.toLocaleString('en-US')} runs x ${rowsPerRun} rows into ${repoDir} in ${s.toFixed(1)} s ` +
      `(${Math.round(runs / s).toLocaleString('en-US')} runs/s, ${(result.bytes / 2 ** 20).toFixed(0)} MiB streamed); ` +
      `${result.totalRuns.toLocaleString('en-US')} runs on the ref, tip ${result.commit.slice(0, 12)}\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const usage = e instanceof Error && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`seed: ${(e as Error).message}${usage ? `\n${USAGE}` : ''}\n`);
    process.exitCode = usage ? 2 : exitCodeOf(e);
  },
);
