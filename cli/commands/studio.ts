// `agentv studio`: serve the API and the built viewer until interrupted.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentvError } from '../../src/errors.js';
import { buildApp } from '../../src/server/app.js';
import type { CommandContext, CommandResult } from '../context.js';

declare const __AGENTV_VERSION__: string;

export interface StudioOptions {
  port?: string;
  host?: string;
  readOnly?: boolean;
  open?: boolean;
}

export async function studio(ctx: CommandContext, opts: StudioOptions): Promise<CommandResult> {
  const port = Number(opts.port ?? 3117);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AgentvError('USAGE', `--port takes 0-65535, not ${JSON.stringify(opts.port)}`);
  const host = opts.host ?? '127.0.0.1';
  const store = await ctx.openStore();
  // dist/cli.js and dist/web sit beside the chunk this code is bundled into.
  const dist = path.dirname(fileURLToPath(import.meta.url));
  const { app } = await buildApp({
    store,
    readOnly: opts.readOnly,
    host,
    version: typeof __AGENTV_VERSION__ === 'string' ? __AGENTV_VERSION__ : '0.0.0',
    cliPath: path.join(dist, 'cli.js'),
    webRoot: path.join(dist, 'web'),
  });
  let address: string;
  try {
    address = await app.listen({ port, host });
  } catch (e) {
    throw new AgentvError('CONFIG', `cannot listen on ${host}:${port}: ${(e as Error).message}`);
  }
  const url = address.replace('[::1]', 'localhost');
  ctx.io.stderr(`Studio: ${url}${opts.readOnly ? ' (read-only)' : ''}  repo ${store.repo.root}\nPress Ctrl+C to stop.\n`);
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    ctx.io.stderr('warning: Studio is reachable beyond this machine; anyone who can reach it can start runs unless --read-only.\n');
  }
  if (opts.open) {
    const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'start' : 'xdg-open';
    spawn(opener, [url], { stdio: 'ignore', detached: true }).on('error', () => ctx.io.stderr(`Open ${url} in your browser.\n`)).unref();
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.close();
  return { exitCode: 0 };
}
