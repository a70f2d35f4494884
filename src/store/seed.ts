// Synthetic runs for benchmarks and scale tests. They are written straight into
// the results ref by one `git fast-import` (one commit on top of the current
// tip), with the same paths, manifest and row shapes and index files that
// createRun + RowWriter + finishRun produce, so every reader sees real runs.
// The ref still only moves forward: fast-import without --force refuses to
// update a ref that moved while we were seeding, and then nothing changes.
import { createHash } from 'node:crypto';
import os from 'node:os';
import { AgentvError } from '../errors.js';
import { commitIdentity, runGitStreaming, sourceState } from '../git/index.js';
import { Manifest } from '../schemas/manifest.js';
import { Row } from '../schemas/row.js';
import type { RunSummary } from '../schemas/summary.js';
import { ROWS_DIR, RESULTS_REF, commitMessage, rowChunkName, runDir } from './layout.js';
import { IndexView, buildIndexFiles, summaryOf } from './run-index.js';
import { digestPath, firstChunkDigest, serializeDigest } from './digest.js';
import { countsOf, currentRows, manifestPath, serializeManifest } from './runs.js';
import { openStore } from './store.js';

declare const __AGENTV_VERSION__: string;
const VERSION = typeof __AGENTV_VERSION__ === 'string' ? __AGENTV_VERSION__ : '0.0.0';

export interface SeedOptions {
  /** Any directory inside the repository. */
  repoDir: string;
  runs: number;
  rowsPerRun?: number;
  /** started_at of the first seeded run; one run per minute after it. Default: `runs` minutes before now. */
  startAt?: Date;
  now?: () => Date;
  ref?: string;
  /**
   * Awaited every 10,000 runs and once all runs are streamed, before the commit
   * (`done === runs`), with the number of runs streamed so far.
   */
  onProgress?: (done: number) => void | Promise<void>;
}

export interface SeedResult {
  runIds: string[];
  rows: number;
  /** Runs on the ref afterwards (existing + seeded). */
  totalRuns: number;
  commit: string;
  /** Bytes streamed into fast-import. */
  bytes: number;
}

const SUITES = ['checkout-flow', 'support-bot', 'sql-gen', 'summarize', 'code-review', 'triage'];
const TARGETS = [
  { name: 'gpt-4o-mini', provider: 'openai' },
  { name: 'claude-haiku', provider: 'openai' },
  { name: 'local-llama', provider: 'cli' },
  { name: 'echo', provider: 'echo' },
];
const ASSERTIONS = ['contains', 'equals', 'regex', 'json-schema', 'llm-rubric'];

const hex = (s: string, n = 64) => createHash('sha256').update(s).digest('hex').slice(0, n);

/** mulberry32: a tiny deterministic PRNG, so a seed is reproducible from its salt. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Combo {
  suite: string;
  target: (typeof TARGETS)[number];
  suiteHash: string;
  configHash: string;
  planned: { test_id: string; input_hash: string }[];
  /** Probability that a test passes, so suites and targets differ visibly. */
  passRate: number;
}

function combos(rowsPerRun: number): Combo[] {
  const out: Combo[] = [];
  SUITES.forEach((suite, si) =>
    TARGETS.forEach((target, ti) => {
      const configHash = hex(`${target.name}/${target.provider}`);
      out.push({
        suite,
        target,
        suiteHash: hex(`suite ${suite}`),
        configHash,
        planned: Array.from({ length: rowsPerRun }, (_, j) => {
          const id = `${suite}-${String(j + 1).padStart(3, '0')}`;
          return { test_id: id, input_hash: hex(`${id}\u0000${configHash}`, 32) };
        }),
        passRate: 0.55 + 0.4 * (((si * 7 + ti * 3) % 10) / 10),
      });
    }),
  );
  return out;
}

/**
 * Same form as a real run id (20261122-101500-k3f9qa). The suffix is a
 * bijective mix of `n` over 30 bits: distinct for distinct n, yet random-looking.
 */
function runIdOf(startedAt: string, n: number): string {
  const stamp = startedAt.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const mask = 2 ** 30 - 1;
  let x = Math.imul(n & mask, 0x2c1b3c6d) & mask;
  x ^= x >>> 13;
  x = Math.imul(x, 0x297a2d39) & mask;
  x ^= x >>> 16;
  let suffix = '';
  for (let k = 0; k < 6; k++, x >>>= 5) suffix += alphabet[x & 31];
  return `${stamp}-${suffix}`;
}

export interface SyntheticRun {
  /** A finished (`completed`) run's manifest, counts computed from `rows`. */
  manifest: Manifest;
  /** One row per planned test, attempt 1. */
  rows: Row[];
}

function syntheticRun(i: number, c: Combo, start: number, salt: number, host: string, sourceCommit: string | null): SyntheticRun {
  const rand = prng(salt ^ Math.imul(i + 1, 0x9e3779b1));
  const startedAt = new Date(start).toISOString();
  const runId = runIdOf(startedAt, salt + i);
  const rows: Row[] = [];
  let clock = start + 200;
  for (const p of c.planned) {
    const r = rand();
    const errored = r < 0.02;
    const passed = !errored && rand() < c.passRate;
    const score = errored ? 0 : passed ? 1 : Math.round(rand() * 60) / 100;
    const duration = 150 + Math.floor(rand() * 2500);
    const prompt = 80 + Math.floor(rand() * 900);
    const completion = errored ? 0 : 20 + Math.floor(rand() * 400);
    const type = ASSERTIONS[(i + rows.length) % ASSERTIONS.length]!;
    rows.push({
      test_id: p.test_id,
      input_hash: p.input_hash,
      execution_status: errored ? 'execution_error' : passed ? 'ok' : 'quality_failure',
      passed,
      score,
      assertions: errored ? [] : [{ type, passed, score, reason: passed ? null : `expected output to satisfy ${type}` }],
      output: errored ? null : `Synthetic answer for ${p.test_id} from ${c.target.name} (${completion} tokens).`,
      error: errored ? `target ${c.target.name} timed out after 30000 ms` : null,
      duration_ms: duration,
      started_at: new Date(clock).toISOString(),
      finished_at: new Date(clock + duration).toISOString(),
      attempt: 1,
      token_usage: { prompt, completion, total: prompt + completion },
      cost_usd: Math.round((prompt * 0.15 + completion * 0.6) / 10) / 100000,
    });
    // Four workers: the run's wall time is about a quarter of the summed durations.
    clock += Math.ceil(duration / 4);
  }
  const finishedAt = new Date(clock).toISOString();
  const suitePath = `suites/${c.suite}.yaml`;
  const tags = i % 5 === 0 ? ['nightly'] : [];
  // Keys in schema order, so serializeManifest gives the bytes createRun would write.
  const manifest: Manifest = {
    schema_version: 1,
    run_id: runId,
    suite: { name: c.suite, path: suitePath },
    suite_hash: c.suiteHash,
    target: { name: c.target.name, provider: c.target.provider, config_hash: c.configHash },
    grader: null,
    planned_tests: c.planned,
    planned_test_count: c.planned.length,
    source_commit: sourceCommit,
    source_dirty: false,
    argv: ['eval', suitePath, '--target', c.target.name],
    agentv_version: VERSION,
    host,
    started_at: startedAt,
    finished_at: finishedAt,
    status: 'completed',
    counts: countsOf(c.planned, currentRows(rows)),
    tags,
    options: { suite_paths: [suitePath], target: c.target.name, grader: null, workers: 4, test_ids: [], tags },
    owner: null,
    events: [
      { type: 'started', at: startedAt },
      { type: 'completed', at: finishedAt },
    ],
    retry_of: null,
  };
  return { manifest, rows };
}

export interface SyntheticRunsOptions {
  runs: number;
  rowsPerRun?: number;
  /** started_at of the first run; one run per minute after it. */
  startAt: Date;
  /** Same salt, same runs. Default: random. */
  salt?: number;
  host?: string;
  sourceCommit?: string | null;
}

/**
 * The runs seedRuns writes, for callers that write them another way (the
 * benchmark pushes them through createRun + RowWriter + finishRun).
 * @example for (const { manifest, rows } of syntheticRuns({ runs: 10, startAt: new Date() })) ...
 */
export function* syntheticRuns({
  runs,
  rowsPerRun = 10,
  startAt,
  salt = (Math.random() * 2 ** 31) >>> 0,
  host = os.hostname(),
  sourceCommit = null,
}: SyntheticRunsOptions): Generator<SyntheticRun> {
  const table = combos(rowsPerRun);
  const pick = prng(salt);
  const first = startAt.getTime();
  for (let i = 0; i < runs; i++) {
    yield syntheticRun(i, table[Math.floor(pick() * table.length)]!, first + i * 60_000, salt, host, sourceCommit);
  }
}

const rowsBlob = (rows: Row[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

/** The generator's output must be what the schemas accept, byte for byte after a parse. */
function checkShape({ manifest, rows }: SyntheticRun): void {
  const m = serializeManifest(Manifest.parse(manifest));
  const r = rowsBlob(rows.map((x) => Row.parse(x)));
  if (m !== serializeManifest(manifest) || r !== rowsBlob(rows)) {
    throw new AgentvError('INTERNAL', `seeded run ${manifest.run_id} does not round-trip through the schemas`);
  }
}

/** Buffers fast-import input and respects the pipe's back-pressure. */
class Feed {
  private parts: string[] = [];
  private size = 0;
  private broken: Error | null = null;
  bytes = 0;

  constructor(private readonly out: NodeJS.WritableStream) {
    // git exiting early (a bad stream) must end the seed with its error, not an unhandled EPIPE.
    out.on('error', (e: Error) => (this.broken = new AgentvError('GIT', `git fast-import stopped reading its input (${e.message})`)));
  }

  push(s: string): Promise<void> | void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= 1 << 20) return this.flush();
  }

  data(content: string): string {
    return `data ${Buffer.byteLength(content)}\n${content}\n`;
  }

  flush(): Promise<void> | void {
    if (this.broken) throw this.broken;
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(''));
    this.parts = [];
    this.size = 0;
    this.bytes += buf.length;
    this.out.write(buf);
    // Keep generating while git reads: wait only when a lot is queued, so node
    // and fast-import work in parallel instead of taking turns at the pipe.
    const queued = (this.out as NodeJS.WritableStream & { writableLength?: number }).writableLength ?? 0;
    if (queued > 32 << 20) {
      return new Promise((resolve) => {
        const done = () => {
          this.out.off('drain', done).off('close', done);
          resolve();
        };
        this.out.on('drain', done).on('close', done);
      });
    }
  }
}

/**
 * Add `runs` completed synthetic runs (varied suites, targets, pass/fail and a
 * few execution errors) to the results ref in one commit.
 * @example await seedRuns({ repoDir, runs: 100_000, rowsPerRun: 10 })
 */
export async function seedRuns({
  repoDir,
  runs,
  rowsPerRun = 10,
  startAt,
  now = () => new Date(),
  ref = RESULTS_REF,
  onProgress,
}: SeedOptions): Promise<SeedResult> {
  if (!Number.isInteger(runs) || runs < 1) throw new AgentvError('USAGE', `runs must be a positive integer, got ${runs}`);
  if (!Number.isInteger(rowsPerRun) || rowsPerRun < 1 || rowsPerRun > 999) {
    throw new AgentvError('USAGE', `rows per run must be an integer from 1 to 999, got ${rowsPerRun}`);
  }
  const store = await openStore({ repoDir, ref });
  let existing: RunSummary[] = [];
  let tip: string | null = null;
  try {
    const t = await store.tip();
    if (t) {
      tip = t.commit;
      const view = new IndexView(store, t.tree, undefined, true);
      existing = await view.all();
      if (view.damaged) {
        throw new AgentvError('CORRUPT', `the run index of ${ref} has ${view.damaged} damaged line(s); run \`agentv results reindex\` first`);
      }
    }
  } finally {
    store.close();
  }
  const cwd = store.repo.root;
  const [identity, source] = await Promise.all([commitIdentity({ cwd }), sourceState({ cwd })]);
  const taken = new Set(existing.map((s) => s.run_id));
  const generated = syntheticRuns({
    runs,
    rowsPerRun,
    startAt: startAt ?? new Date(now().getTime() - runs * 60_000),
    sourceCommit: source.commit,
  });
  const summaries: RunSummary[] = [];
  const runIds: string[] = [];
  let bytes = 0;

  const result = await runGitStreaming({
    cwd,
    // No deltas and zlib level 1: measured ~2x faster at 100,000 runs than the
    // defaults for a pack ~15% larger; `git gc` recompresses it later anyway.
    args: ['-c', 'pack.compression=1', 'fast-import', '--quiet', '--done', '--depth=0'],
    write: async (stdin) => {
      const feed = new Feed(stdin);
      let i = 0;
      for (const run of generated) {
        const id = run.manifest.run_id;
        if (taken.has(id)) throw new AgentvError('USAGE', `seeded run id ${id} already exists on ${ref}; seed again`, { run_id: id });
        taken.add(id);
        if (i === 0 || i === runs - 1 || i % 997 === 0) checkShape(run);
        runIds.push(id);
        summaries.push(summaryOf(run.manifest));
        // Marks 3i+1 (manifest), 3i+2 (rows) and 3i+3 (results digest, as createRun writes it); the commit below names them.
        await feed.push(`blob\nmark :${3 * i + 1}\n${feed.data(serializeManifest(run.manifest))}`);
        await feed.push(`blob\nmark :${3 * i + 2}\n${feed.data(rowsBlob(run.rows))}`);
        await feed.push(`blob\nmark :${3 * i + 3}\n${feed.data(serializeDigest(firstChunkDigest(run.manifest.planned_tests, run.rows)))}`);
        if (++i % 10_000 === 0 && i < runs) await onProgress?.(i);
      }
      await onProgress?.(runs);
      const when = `${Math.floor(now().getTime() / 1000)} +0000`;
      const clean = (s: string) => s.replace(/[<>\n]/g, '');
      const who = `${clean(identity.name)} <${clean(identity.email)}> ${when}`;
      // Many runs in one commit: bounded trailers and a count, as for merges and reindex.
      const message = commitMessage({
        subject: `seed: ${runs} synthetic run${runs === 1 ? '' : 's'} (${rowsPerRun} rows each)`,
        runId: runIds,
        sourceCommit: source.commit,
      });
      await feed.push(`commit ${ref}\nmark :${3 * runs + 1}\nauthor ${who}\ncommitter ${who}\n${feed.data(message)}`);
      if (tip) await feed.push(`from ${tip}\n`);
      for (let i = 0; i < runs; i++) {
        const id = runIds[i]!;
        // One row chunk, as a run whose rows all arrived in one group commit.
        await feed.push(`M 100644 :${3 * i + 1} ${manifestPath(id)}\nM 100644 :${3 * i + 2} ${runDir(id)}/${ROWS_DIR}/${rowChunkName(1)}\nM 100644 :${3 * i + 3} ${digestPath(id)}\n`);
      }
      // The index is a projection of every manifest on the ref: rebuild it whole.
      if (tip) await feed.push('D index\n');
      for (const [p, content] of buildIndexFiles([...existing, ...summaries])) {
        await feed.push(`M 100644 inline ${p}\n${feed.data(content)}`);
      }
      await feed.push(`\nget-mark :${3 * runs + 1}\ndone\n`);
      await feed.flush();
      bytes = feed.bytes;
    },
  }).catch((e: unknown) => {
    if (!(e instanceof AgentvError) || e.code !== 'GIT') throw e;
    const stderr = String(e.data.stderr ?? '');
    if (/Not updating/i.test(stderr)) {
      throw new AgentvError('CAS_EXHAUSTED', `${ref} moved while seeding (another writer?); nothing was changed, seed again`, {
        ref,
        expected: tip,
      });
    }
    if (!stderr.trim()) throw e;
    throw new AgentvError('GIT', `git fast-import failed: ${stderr.trim().split('\n').slice(-3).join(' ')}`, e.data);
  });
  const commit = result.stdout.trim().split('\n').pop() ?? '';
  return { runIds, rows: runs * rowsPerRun, totalRuns: existing.length + runs, commit, bytes };
}
