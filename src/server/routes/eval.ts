// Launch, follow and stop runs: POST /api/eval/run, GET /api/eval/status/:id,
// GET /api/eval/events/:id (server-sent events), POST /api/eval/run/:id/stop, GET /api/jobs,
// POST /api/runs/:run_id/regrade.
import type { FastifyInstance } from 'fastify';
import { AgentvError } from '../../errors.js';
import { newRunId } from '../../eval/plan.js';
import { EvalRunRequest, EvalRunResponse, JobParams, JobStatus, JobsResponse, RunParams, StopResponse } from '../../schemas/studio.js';
import { effectiveStatus, ownerLiveness, readLockOwner, readManifestAt, type Store } from '../../store/index.js';
import type { JobManager } from '../jobs.js';
import type { SuiteCatalog } from '../suites.js';
import { parseRequest, respond } from '../validate.js';

const TERMINAL = new Set(['finished', 'failed', 'stopped']);

export async function evalRoutes(app: FastifyInstance, { store, jobs, catalog }: { store: Store; jobs: JobManager; catalog: SuiteCatalog }) {
  app.post('/api/eval/run', async (req, reply) => {
    const body = parseRequest(EvalRunRequest, req.body, 'request body');
    const suite = await catalog.resolveSuite(body.suite);
    if (body.target) await catalog.checkTarget(body.target);
    if (body.run_id) {
      const tip = await store.tip();
      const exists = tip !== null && (await readManifestAt(store, tip.tree, body.run_id)) !== null;
      const continues = body.resume || body.rerun_failed || body.retry_errors;
      if (continues && !exists) throw new AgentvError('RUN_NOT_FOUND', `run ${body.run_id} not found`);
      if (!continues && exists) throw new AgentvError('USAGE', `run id ${body.run_id} already exists; resume it, or choose another id`);
    }
    const job = jobs.launch({ ...body, suite }, () => newRunId());
    return reply.status(202).send(respond(EvalRunResponse, { id: job.id, run_id: job.run_id, status: job.status, command: job.command }));
  });

  // Re-grade a run's stored outputs (`agentv regrade`): no target is called.
  app.post('/api/runs/:run_id/regrade', async (req, reply) => {
    const { run_id } = parseRequest(RunParams, req.params, 'run id');
    const tip = await store.tip();
    const manifest = tip ? await readManifestAt(store, tip.tree, run_id) : null;
    if (!manifest) throw new AgentvError('RUN_NOT_FOUND', `run ${run_id} not found`);
    const owner = readLockOwner(store.localDir, run_id);
    if (effectiveStatus(store, manifest) === 'running' || (owner && ownerLiveness(owner) === 'alive') || jobs.activeFor(run_id)) {
      throw new AgentvError('RUN_LIVE', `run ${run_id} is running; re-grade it once it has finished or been stopped`, { run_id });
    }
    const job = jobs.launchRegrade({ runId: run_id, suite: manifest.suite.name, target: manifest.target.name });
    return reply.status(202).send(respond(EvalRunResponse, { id: job.id, run_id: job.run_id, status: job.status, command: job.command }));
  });

  app.get('/api/jobs', async () => respond(JobsResponse, { jobs: await jobs.list() }));

  app.get('/api/eval/status/:id', async (req) => {
    const { id } = parseRequest(JobParams, req.params, 'job id');
    const status = await jobs.get(id);
    if (!status) throw new AgentvError('RUN_NOT_FOUND', `unknown job: ${id}`);
    return respond(JobStatus, status);
  });

  app.get('/api/eval/events/:id', async (req, reply) => {
    const { id } = parseRequest(JobParams, req.params, 'job id');
    const first = await jobs.get(id);
    if (!first) throw new AgentvError('RUN_NOT_FOUND', `unknown job: ${id}`);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (s: JobStatus) => {
      res.write(`data: ${JSON.stringify(respond(JobStatus, s))}\n\n`);
      if (TERMINAL.has(s.status)) {
        unsubscribe();
        res.end();
      }
    };
    const unsubscribe = jobs.subscribe(id, send);
    req.raw.on('close', unsubscribe);
    send(first);
  });

  app.post('/api/eval/run/:id/stop', async (req, reply) => {
    const { id } = parseRequest(JobParams, req.params, 'job id');
    const result = await jobs.stop(id);
    if (!result) throw new AgentvError('RUN_NOT_FOUND', `unknown job: ${id}`);
    return reply.status(result.stopped ? 202 : 200).send(respond(StopResponse, result));
  });
}
