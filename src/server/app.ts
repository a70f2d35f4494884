// buildApp(): Studio's Fastify instance — API routes, the built viewer, the
// security hooks and one error handler. It never listens: tests drive it with
// app.inject(), and only `agentv studio` calls listen().
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { defaultRemote, remoteUrl } from '../git/index.js';
import { ErrorResponse, type SyncResponse } from '../schemas/studio.js';
import { pullRuns, sourceRootOf, type Store } from '../store/index.js';
import { installErrorHandler } from './error-handler.js';
import { commitUrlPattern } from './host-links.js';
import { JobManager } from './jobs.js';
import { compareRoutes } from './routes/compare.js';
import { evalRoutes } from './routes/eval.js';
import { metaRoutes } from './routes/meta.js';
import { resultsRoutes } from './routes/results.js';
import { IndexCache, runsRoutes } from './routes/runs.js';
import { RunCache } from './run-cache.js';
import { installSecurity } from './security.js';
import { SuiteCatalog } from './suites.js';
import { respond } from './validate.js';

export interface AppOptions {
  store: Store;
  /** The source repository (suites, targets); defaults to the store's. */
  repoDir?: string;
  readOnly?: boolean;
  /** The host Studio is bound to; requests must name it or a loopback name. */
  host?: string;
  version?: string;
  /** The built CLI that jobs run (dist/cli.js). */
  cliPath: string;
  /** The built viewer (dist/web); omitted in API-only tests. */
  webRoot?: string;
  /** Fetch runs from the remote; the default reports that there is none. */
  sync?: (remote: string | null) => Promise<SyncResponse>;
  logger?: boolean;
}

export interface StudioApp {
  app: FastifyInstance;
  jobs: JobManager;
  cache: IndexCache;
}

function notFound(req: FastifyRequest, reply: FastifyReply) {
  return reply.status(404).send(respond(ErrorResponse, { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }));
}

export async function buildApp(opts: AppOptions): Promise<StudioApp> {
  const { store } = opts;
  // Suites and targets come from the source repository, which is not the store's once results are promoted.
  const repoDir = opts.repoDir ?? sourceRootOf(store);
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 1 << 20 });
  // Only JSON bodies are understood; Fastify's text/plain parser would accept a cross-site form post.
  app.removeContentTypeParser('text/plain');
  installErrorHandler(app, { roots: [repoDir, store.repo.root, store.repo.commonDir] });
  installSecurity(app, { host: opts.host ?? '127.0.0.1', readOnly: opts.readOnly ?? false });

  const remote = await defaultRemote({ cwd: repoDir });
  const commitUrl = commitUrlPattern(remote ? await remoteUrl({ cwd: repoDir, remote }) : null);
  const catalog = new SuiteCatalog(repoDir);
  const jobs = new JobManager({ store, cliPath: opts.cliPath, now: store.now });
  const cache = new IndexCache(store);

  const runs = new RunCache(store);
  await app.register(runsRoutes, { store, cache, runs });
  await app.register(resultsRoutes, { store, cache, runs });
  await app.register(evalRoutes, { store, jobs, catalog });
  await app.register(compareRoutes, { store });
  await app.register(metaRoutes, {
    catalog,
    config: async () => ({
      read_only: opts.readOnly ?? false,
      repo: repoDir,
      ref: store.ref,
      remote,
      version: opts.version ?? '0.0.0',
    }),
    links: async () => ({ commit_url: commitUrl }),
    sync: async () => {
      if (opts.sync) return opts.sync(remote);
      if (!remote) return { remote: null, fetched_runs: 0, message: 'no remote configured' };
      const r = await pullRuns({ store, remote });
      return { remote, fetched_runs: r.new_runs, message: `pulled runs from ${remote}: ${r.new_runs} new (${r.result})` };
    },
  });

  if (opts.webRoot && existsSync(path.join(opts.webRoot, 'index.html'))) {
    await app.register(fastifyStatic, { root: opts.webRoot, index: ['index.html'], wildcard: false });
    // Client-side routes (/runs/:id, /jobs/:id, /new) get the viewer.
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api/')) return reply.type('text/html').sendFile('index.html');
      return notFound(req, reply);
    });
  } else {
    app.setNotFoundHandler(notFound);
  }
  app.addHook('onClose', async () => {
    catalog.close();
    await jobs.closeAll();
  });
  return { app, jobs, cache };
}
