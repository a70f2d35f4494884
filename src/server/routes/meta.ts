// GET /api/config, GET /api/links, GET /api/suites, POST /api/remote/sync.
import type { FastifyInstance } from 'fastify';
import { ConfigResponse, LinksResponse, SuitesResponse, SyncResponse } from '../../schemas/studio.js';
import type { SuiteCatalog } from '../suites.js';
import { respond } from '../validate.js';

export interface MetaOptions {
  config: () => Promise<ConfigResponse>;
  links: () => Promise<LinksResponse>;
  catalog: SuiteCatalog;
  sync: () => Promise<SyncResponse>;
}

export async function metaRoutes(app: FastifyInstance, { config, links, catalog, sync }: MetaOptions) {
  app.get('/api/config', async () => respond(ConfigResponse, await config()));
  app.get('/api/links', async () => respond(LinksResponse, await links()));
  app.get('/api/suites', async () => respond(SuitesResponse, { suites: await catalog.suites(), ...(await catalog.targets()) }));
  app.post('/api/remote/sync', async () => respond(SyncResponse, await sync()));
}
