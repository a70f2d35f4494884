// The one root error handler: error codes map to statuses through the shared
// table; 5xx are masked; no response ever carries a stack trace.
import type { FastifyError, FastifyInstance } from 'fastify';
import { AgentvError, httpStatusOf, isExposed } from '../errors.js';
import { ErrorResponse } from '../schemas/studio.js';
import { respond } from './validate.js';

/**
 * No error body names a path of this machine: the repository's own prefix
 * becomes relative, and any other absolute path is cut to its last segment.
 */
export function scrubPaths(message: string, roots: string[]): string {
  let out = message;
  for (const root of roots.filter((r) => r.length > 1).sort((a, b) => b.length - a.length)) {
    out = out.split(`${root}/`).join('').split(root).join('.');
  }
  return out.replace(/(^|[\s"'(=:,])\/(?:[^\s"'():,/]+\/)+([^\s"'():,/]*)/g, (_m, pre: string, last: string) => `${pre}…/${last}`);
}

export function installErrorHandler(app: FastifyInstance, { roots = [] }: { roots?: string[] } = {}): void {
  app.setErrorHandler((err: FastifyError | AgentvError | Error, req, reply) => {
    let status: number;
    let code: string;
    let message: string;
    if (err instanceof AgentvError) {
      status = (err as AgentvError & { statusCode?: number }).statusCode ?? httpStatusOf(err);
      code = err.code;
      message = err.message;
    } else {
      const fe = err as FastifyError;
      status = fe.statusCode && fe.statusCode >= 400 ? fe.statusCode : 500;
      code = fe.code ?? 'INTERNAL';
      message = fe.message;
      if (status === 415) code = 'UNSUPPORTED_MEDIA_TYPE';
    }
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      if (isExposed(err)) {
        // Damage and full disks say what they are, without any path of this machine.
        message = message.replace(/(?<![\w.~-])(?:[A-Za-z]:)?(?:[\\/][^\s'"\\/]+){2,}[\\/]?/g, '<path>');
      } else {
        code = 'INTERNAL';
        message = 'internal error';
      }
    }
    void reply.status(status).send(respond(ErrorResponse, { error: { code, message: scrubPaths(message, roots) } }));
  });
}
