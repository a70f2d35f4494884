// A local server that can start processes must not be drivable by web pages:
// - Host must be a loopback name or the configured host (DNS rebinding);
// - state-changing requests with a foreign Origin (or cross-site fetch metadata) are refused;
// - a request body must be application/json (so no "simple" cross-site form post works);
// - read-only mode refuses every launching and stopping route.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AgentvError } from '../errors.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function hostname(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const i = hostHeader.lastIndexOf(':');
  return (i >= 0 ? hostHeader.slice(0, i) : hostHeader).toLowerCase();
}

export interface SecurityOptions {
  host: string;
  readOnly: boolean;
}

export function installSecurity(app: FastifyInstance, { host, readOnly }: SecurityOptions): void {
  const allowed = new Set([...LOOPBACK, host.toLowerCase(), `[${host.toLowerCase()}]`]);
  const allowedHost = (h: string | undefined) => !!h && (allowed.has(hostname(h)) || /^127\.\d+\.\d+\.\d+$/.test(hostname(h)));
  const isWrite = (req: FastifyRequest) => !['GET', 'HEAD', 'OPTIONS'].includes(req.method);

  app.addHook('onRequest', async (req) => {
    if (!allowedHost(req.headers.host)) {
      throw new AgentvError('FORBIDDEN', 'forbidden host: Studio answers only to loopback names or its configured host');
    }
    if (!isWrite(req)) return;
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let originHost = '';
      try {
        originHost = new URL(origin).host;
      } catch {
        // "null" or garbage: foreign
      }
      if (!allowedHost(originHost)) throw new AgentvError('FORBIDDEN', 'forbidden origin: state-changing requests must come from Studio itself');
    }
    if (req.headers['sec-fetch-site'] === 'cross-site') throw new AgentvError('FORBIDDEN', 'forbidden: cross-site request');
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (hasBody && type !== 'application/json') {
      const err = new AgentvError('USAGE', 'request bodies must be application/json');
      (err as AgentvError & { statusCode: number }).statusCode = 415;
      throw err;
    }
  });

  if (readOnly) {
    app.addHook('onRequest', async (req) => {
      if (req.method === 'POST' && /^\/api\/eval\//.test(req.url)) {
        throw new AgentvError('FORBIDDEN', 'Studio is read-only: launching and stopping runs is disabled');
      }
    });
  }
}
