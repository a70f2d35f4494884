// Packages only some commands need (the template engine, CSV, globbing, .env),
// loaded on first use rather than when a command's modules load: every one-shot
// command pays for what it imports at start (SPEC 5, issue 11's "load only what a
// command needs"). Each of them ships CommonJS, which Node loads synchronously.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * A getter that loads `id` the first time it is called.
 * @example const csv = lazyRequire<typeof import('csv-parse/sync')>('csv-parse/sync'); csv().parse(text)
 */
export function lazyRequire<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= load(id) as T);
}
