// GET /api/compare (the `runs diff --json` document, tests paged and filtered
// by change, summary whole), GET /api/baseline (the run `eval --baseline REV`
// would pick) and GET /api/runs/:run_id/export (the `runs show
// --format` output as a download).
import type { FastifyInstance } from 'fastify';
import { BaselineQuery, BaselineResponse, ComparePage, CompareQuery } from '../../schemas/compare.js';
import { ExportQuery } from '../../schemas/export.js';
import { RunParams } from '../../schemas/studio.js';
import { EXPORT_TYPES, exportRun } from '../../report/index.js';
import { CompareCache, compareRunsPage, findBaseline, showRun, type Store } from '../../store/index.js';
import { parseRequest, respond } from '../validate.js';

export async function compareRoutes(app: FastifyInstance, { store }: { store: Store }) {
  const cache = new CompareCache();
  app.get('/api/compare', async (req) => {
    const q = parseRequest(CompareQuery, req.query, 'query');
    return respond(ComparePage, await compareRunsPage({ store, base: q.base, head: q.head, limit: q.limit, cursor: q.cursor, change: q.change, cache }));
  });

  app.get('/api/baseline', async (req) => {
    const q = parseRequest(BaselineQuery, req.query, 'query');
    const b = await findBaseline({ store, rev: q.rev, suite: q.suite, target: q.target });
    return respond(BaselineResponse, { run: b.run, distance: b.distance, commit: b.searched.commit });
  });

  app.get('/api/runs/:run_id/export', async (req, reply) => {
    const { run_id } = parseRequest(RunParams, req.params, 'run id');
    const { format } = parseRequest(ExportQuery, req.query, 'query');
    const body = exportRun(await showRun({ store, runId: run_id }), format);
    const type = EXPORT_TYPES[format];
    return reply
      .header('content-type', type.contentType)
      .header('content-disposition', `attachment; filename="agentv-${run_id}.${type.ext}"`)
      .send(body);
  });
}
