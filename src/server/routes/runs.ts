// GET /api/runs and GET /api/runs/:run_id. Pages come from the committed index
// through the long-lived reader; an unchanged ref costs no git call at all.
import type { FastifyInstance } from 'fastify';
import { refFingerprint } from '../../git/index.js';
import { RunsListResponse } from '../../schemas/api.js';
import { RunDetailQuery, RunParams } from '../../schemas/studio.js';
import { IndexBlobCache, IndexView, listRuns, showRun, type KnownChunks, type Store } from '../../store/index.js';
import type { RunCache } from '../run-cache.js';
import { parseRequest, respond } from '../validate.js';

/**
 * The index view of the current tip, re-resolved only when the ref's files
 * change. Concurrent requests that see the same change share one refresh.
 */
export class IndexCache {
  private fingerprint = '';
  private view: Promise<IndexView | null> = Promise.resolve(null);
  private readonly blobs = new IndexBlobCache(4_000);
  private readonly chunks: KnownChunks = new Map();
  gitLookups = 0;

  /** Row chunks of running runs parsed for the list's live counts, by blob id; dropped whole past a bound. */
  known(): KnownChunks {
    if (this.chunks.size > 2_000) this.chunks.clear();
    return this.chunks;
  }

  constructor(private readonly store: Store) {}

  async current(): Promise<IndexView | null> {
    const fp = refFingerprint({ commonDir: this.store.repo.commonDir, ref: this.store.ref });
    if (fp !== this.fingerprint) {
      this.fingerprint = fp;
      this.gitLookups++;
      this.view = this.store.tip().then((tip) => (tip ? new IndexView(this.store, tip.tree, this.blobs) : null));
      // A failed lookup must not stick: the next request tries again.
      this.view.catch(() => (this.fingerprint = ''));
    }
    return this.view;
  }
}

export async function runsRoutes(app: FastifyInstance, { store, cache, runs }: { store: Store; cache: IndexCache; runs: RunCache }) {
  app.get('/api/runs', async (req) => {
    // listRuns validates the raw query (a bad one is a USAGE error: 400). Without
    // a ref yet there is no view, and listRuns finds no tip: an empty page.
    const view = (await cache.current()) ?? undefined;
    return respond(RunsListResponse, await listRuns({ store, query: req.query as Record<string, unknown>, view, known: cache.known() }));
  });

  app.get('/api/runs/:run_id', async (req) => {
    const { run_id } = parseRequest(RunParams, req.params, 'run id');
    const { history, results } = parseRequest(RunDetailQuery, req.query, 'query');
    const yes = (v: string | undefined) => v === 'true' || v === '1';
    const withResults = results === undefined || yes(results);
    // The run page's first request: the run as opened for its results pages too (one read of the manifest and digest).
    const opened = withResults ? undefined : await runs.get(run_id);
    // showRun builds RunDetailResponse from values its readers checked (each its schema's parse result, keys in
    // schema order; test/store/run-document.test.ts): the allow-list holds without parsing 10,000 planned tests again.
    return showRun({ store, runId: run_id, history: yes(history), results: withResults, opened });
  });
}
