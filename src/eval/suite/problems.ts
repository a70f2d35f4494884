// Every problem a suite can have, collected with its file, line and test id and thrown
// once, all together, as SUITE_INVALID. Warnings (cosmetic keys) travel beside them.
import type { z } from 'zod';
import { AgentvError } from '../../errors.js';
import type { SuiteProblem, SuiteProblemCode } from '../../schemas/suite.js';

export type PathSeg = string | number;
/** The 1-based line of a path inside a document (a map entry: its key's line). */
export type LineOf = (path: PathSeg[]) => number | undefined;

export function formatPath(path: PathSeg[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

export class Problems {
  readonly list: SuiteProblem[] = [];
  readonly warnings: string[] = [];
  private seen = new Set<string>();
  add(p: SuiteProblem): void {
    const key = `${p.file}\0${p.line ?? ''}\0${p.test_id ?? ''}\0${p.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as SuiteProblem);
  }
  /** A cosmetic key or setting that does not change results: told, never fatal. */
  warn(file: string, line: number | undefined, message: string): void {
    const text = `${file}:${line ?? '?'}: ${message}`;
    if (!this.warnings.includes(text)) this.warnings.push(text);
  }
  /** Adds a zod error's issues; `at` is where the validated value sits in its document. */
  addZod(error: z.ZodError, where: { file: string; lineOf: LineOf; at: PathSeg[]; testId?: string; feature?: string }): void {
    for (const iss of error.issues) {
      const path = iss.path.filter((s): s is PathSeg => typeof s !== 'symbol');
      const keys = iss.code === 'unrecognized_keys' ? iss.keys : [undefined];
      for (const key of keys) {
        const full = key === undefined ? path : [...path, key];
        const params = iss.code === 'custom' ? (iss.params as { code?: SuiteProblemCode } | undefined) : undefined;
        const message =
          key === undefined ? iss.message : `unknown key "${key}"${where.feature ? ` in ${where.feature}` : ''} (it is not read; remove it or see docs/suites.md)`;
        const shown = [...where.at, ...full];
        this.add({
          code: params?.code ?? 'invalid',
          file: where.file,
          line: where.lineOf(shown),
          test_id: where.testId,
          message: shown.length > 0 ? `${formatPath(shown)}: ${message}` : message,
        });
      }
    }
  }
  throwIfAny(suiteRel: string): void {
    if (this.list.length === 0) return;
    const lines = this.list.map((p) => {
      const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
      return `${where}: ${p.test_id === undefined ? '' : `test "${p.test_id}": `}${p.message}`;
    });
    const n = this.list.length;
    const first = this.list[0]!;
    throw new AgentvError('SUITE_INVALID', `suite ${suiteRel} is invalid (${n} problem${n === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
      file: first.file,
      ...(first.line === undefined ? {} : { line: first.line }),
      ...(first.test_id === undefined ? {} : { test_id: first.test_id }),
      problems: this.list,
    });
  }
}
