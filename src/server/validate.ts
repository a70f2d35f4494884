// zod at the HTTP boundary: requests are parsed (400 with a readable message),
// responses are parsed too, so a response schema is the allow-list of what
// leaves the server.
import type { z } from 'zod';
import { AgentvError } from '../errors.js';

export function parseRequest<S extends z.ZodType>(schema: S, data: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(data ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  throw new AgentvError('USAGE', `invalid ${what}: ${where}${issue.message}`, { issues: r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) });
}

export function respond<S extends z.ZodType>(schema: S, data: z.input<S>): z.infer<S> {
  return schema.parse(data);
}
