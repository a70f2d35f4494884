// Assertions shared by test files.
import { expect } from 'vitest';
import { TargetError } from '../../src/eval/types.js';
import { runCli } from './cli.js';

/** The TargetError a promise rejects with (fails the test if it resolves or rejects otherwise). */
export async function targetError(p: Promise<unknown>): Promise<TargetError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TargetError);
  return err as TargetError;
}

/** Run the CLI in `dir` and require exit 0 (stderr in the failure message). */
export async function cliOk(dir: string, ...args: string[]) {
  const r = await runCli(args, { cwd: dir });
  expect(r.code, `agentv ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}
