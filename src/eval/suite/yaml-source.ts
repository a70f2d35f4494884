// YAML (and JSON, which is YAML) text -> plain data plus a `lineOf` for every path, with
// the limits of `.agentv/config.yaml` applied: a file over `suite_bytes` or a document
// expanding more than `yaml_aliases` aliases is a problem (SUITE_INVALID), never a crash.
import { promises as fsp } from 'node:fs';
import { LineCounter, isAlias, isMap, isNode, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { DEFAULT_LIMITS, type LimitsConfig } from '../../schemas/limits.js';
import type { SuiteProblemCode } from '../../schemas/suite.js';
import { readConfig } from '../../store/config.js';
import type { LineOf, PathSeg, Problems } from './problems.js';

export interface YamlSource {
  data: unknown;
  lineOf: LineOf;
}

/** `limits:` from `<repoDir>/.agentv/config.yaml`, with the defaults of SPEC 2.1a. */
export async function readLimits({ repoDir }: { repoDir: string }): Promise<LimitsConfig> {
  try {
    return (await readConfig({ root: repoDir }))?.limits ?? DEFAULT_LIMITS;
  } catch {
    return DEFAULT_LIMITS; // a broken config is reported by the commands that own it
  }
}

/** The 1-based line of the deepest node on `path` that exists (a map entry: its key's line). */
function yamlLineOf(doc: Document, lc: LineCounter, path: PathSeg[]): number | undefined {
  const lineAt = (n: unknown) => (isNode(n) && n.range ? lc.linePos(n.range[0]).line : undefined);
  let node: unknown = doc.contents;
  let line = lineAt(node);
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) break;
      line = lineAt(pair.key) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      node = node.items[seg];
      line = lineAt(node) ?? line;
    } else break;
  }
  return line;
}

/**
 * Parses YAML text; null (with problems added) on a syntax error or an alias bomb.
 * @example parseYaml({ text: 'a: 1', file: 's.yaml', problems, limits })?.data // { a: 1 }
 */
export function parseYaml({
  text,
  file,
  problems,
  limits,
  code = 'yaml_syntax',
}: {
  text: string;
  file: string;
  problems: Problems;
  limits: LimitsConfig;
  code?: SuiteProblemCode;
}): YamlSource | null {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  for (const e of doc.errors) {
    const message = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    problems.add({ code, file, line: lc.linePos(e.pos[0]).line, message: `${code === 'yaml_syntax' ? 'YAML' : 'JSON'} syntax: ${message}` });
  }
  if (doc.errors.length > 0) return null;
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: limits.yaml_aliases });
  } catch (err) {
    problems.add({
      code: 'invalid',
      file,
      message: `the YAML expands too many aliases (*name); the limit is limits.yaml_aliases = ${limits.yaml_aliases} in .agentv/config.yaml (${(err as Error).message.split('\n')[0]})`,
    });
    return null;
  }
  return { data, lineOf: (path) => yamlLineOf(doc, lc, path) };
}

/** Reads a file within `limits.suite_bytes`; null (with a problem) when it is larger or unreadable. */
export async function readLimitedFile({
  abs,
  file,
  what,
  problems,
  limits,
  line,
  reportIn = file,
}: {
  abs: string;
  file: string;
  what: string;
  problems: Problems;
  limits: LimitsConfig;
  line?: number;
  /** The file a missing file is reported in (the suite that names it). */
  reportIn?: string;
}): Promise<Buffer | null> {
  try {
    const st = await fsp.stat(abs);
    if (st.isDirectory()) {
      problems.add({ code: 'tests_file', file: reportIn, line, message: `${what} ${file} is a directory, not a file` });
      return null;
    }
    if (st.size > limits.suite_bytes) {
      problems.add({
        code: 'invalid',
        file: reportIn,
        line,
        message: `${what} ${file} is ${st.size} bytes, over limits.suite_bytes = ${limits.suite_bytes} (set in .agentv/config.yaml)`,
      });
      return null;
    }
    return await fsp.readFile(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.add({
      code: 'tests_file',
      file: reportIn,
      line,
      message: code === 'ENOENT' || code === 'ENOTDIR' ? `${what} ${file} not found` : `${what} ${file} cannot be read (${code})`,
    });
    return null;
  }
}

export const textOf = (bytes: Buffer) => bytes.toString('utf8').replace(/^\uFEFF/, '');
