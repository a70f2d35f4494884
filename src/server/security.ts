// A local server that can start processes must not be drivable by web pages:
// - Host must be a loopback name or the configured host (DNS rebinding);
// - state-changing requests with a foreign Origin (or cross-site fetch metadata) are refused;
// - a request body must be application/json (so no "simple" cross-site form post works);
// - read-only mode refuses every launching and stopping route.
import os from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AgentvError } from '../errors.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function hostname(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const i = hostHeader.lastIndexOf(':');
  return (i >= 0 ? hostHeader.slice(0, i) : hostHeader).toLowerCase();
}

/**
 * Studio's own origin is the scheme, host and port the request was sent to: a
 * page on another port of the same machine (another dev server) is foreign.
 */
export function sameOrigin(origin: string, hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" or garbage: foreign
  }
  // Studio serves plain HTTP; URL drops a default port, so compare host and port as parsed.
  let own: URL;
  try {
    own = new URL(`http://${hostHeader}`);
  } catch {
    return false;
  }
  return url.protocol === 'http:' && url.hostname === own.hostname && url.port === own.port;
}

export interface SecurityOptions {
  host: string;
  readOnly: boolean;
}

/** Routes outside /api/eval/ that start processes: refused in read-only mode too. */
const LAUNCHING = new Set(['/api/runs/:run_id/regrade']);

export function installSecurity(app: FastifyInstance, { host, readOnly }: SecurityOptions): void {
  const allowed = new Set([...LOOPBACK, host.toLowerCase(), `[${host.toLowerCase()}]`]);
  if (host === '0.0.0.0' || host === '::') {
    // Bound to every interface: the machine's own addresses and name are not foreign.
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) allowed.add(a.family === 'IPv6' ? `[${a.address}]` : a.address);
    allowed.add(os.hostname().toLowerCase());
  }
  const allowedHost = (h: string | undefined) => !!h && (allowed.has(hostname(h)) || /^127\.\d+\.\d+\.\d+$/.test(hostname(h)));
  const isWrite = (req: FastifyRequest) => !['GET', 'HEAD', 'OPTIONS'].includes(req.method);

  app.addHook('onRequest', async (req) => {
    if (!allowedHost(req.headers.host)) {
      throw new AgentvError('FORBIDDEN', 'forbidden host: Studio answers only to loopback names or its configured host');
    }
    if (!isWrite(req)) return;
    const origin = req.headers.origin;
    if (origin !== undefined && !sameOrigin(origin, req.headers.host)) {
      throw new AgentvError('FORBIDDEN', 'forbidden origin: state-changing requests must come from Studio itself');
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
      // The matched route, not the raw URL: /api/%65val/run routes to /api/eval/run too.
      const route = req.routeOptions.url ?? '';
      if (req.method !== 'GET' && req.method !== 'HEAD' && (route.startsWith('/api/eval/') || LAUNCHING.has(route))) {
        throw new AgentvError('FORBIDDEN', 'Studio is read-only: launching and stopping runs is disabled');
      }
    });
  }
}
