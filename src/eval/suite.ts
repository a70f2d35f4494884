// Loads a suite file into a Suite: parses the YAML (and the tests file it points to),
// validates it with the zod schemas, merges default_test, renders prompts and normalises
// assertions. Every problem in the files is collected and thrown at once as SUITE_INVALID,
// each with its file, line and test id; nothing here runs a test.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import { LineCounter, isAlias, isMap, isNode, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { AgentvError } from '../errors.js';
import {
  DEFAULT_PROMPT,
  IGNORED_PROMPTFOO_KEYS,
  SUITE_KEYS,
  SuiteAssertion,
  editDistance,
  SuiteFile,
  SuiteTestInput,
  parseAssertionType,
  type DefaultTestInput,
  type SuiteProblem,
  type SuiteProblemCode,
} from '../schemas/suite.js';
import { jsonSchemaProblems } from './assertions/json-schema.js';
import { normaliseAssertion as normaliseAssertionSpec, usesGrader } from './assertions/normalise.js';
import { INPUT_ONLY, checkTemplate, isChatMessages, renderTemplate } from './template.js';
import type { AssertionSpec, ChatMessage, Prompt, Suite, SuiteTest } from './types.js';

export { checkTemplate, promptToText, renderTemplate } from './template.js';

// ---------------------------------------------------------------------------------------
// Problems and where they are.

type PathSeg = string | number;
type LineOf = (path: PathSeg[]) => number | undefined;

class Problems {
  readonly list: SuiteProblem[] = [];
  private seen = new Set<string>();
  add(p: SuiteProblem): void {
    const key = `${p.file}\0${p.line ?? ''}\0${p.test_id ?? ''}\0${p.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as SuiteProblem);
  }
  /** Adds a zod error's issues; `at` is where the validated value sits in its document. */
  addZod(error: z.ZodError, where: { file: string; lineOf: LineOf; at: PathSeg[]; testId?: string }): void {
    for (const iss of error.issues) {
      const path = iss.path.filter((s): s is PathSeg => typeof s !== 'symbol');
      const keys = iss.code === 'unrecognized_keys' ? iss.keys : [undefined];
      for (const key of keys) {
        const full = key === undefined ? path : [...path, key];
        const params = iss.code === 'custom' ? (iss.params as { code?: SuiteProblemCode } | undefined) : undefined;
        const message = key === undefined ? iss.message : `unknown key "${key}"`;
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

function formatPath(path: PathSeg[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
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

interface YamlSource {
  doc: Document;
  lineOf: LineOf;
}

function parseYaml(text: string, file: string, problems: Problems, code: SuiteProblemCode = 'yaml_syntax'): YamlSource | null {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  for (const e of doc.errors) {
    const message = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    problems.add({ code, file, line: e.linePos?.[0].line, message: `${code === 'yaml_syntax' ? 'YAML' : 'JSON'} syntax: ${message}` });
  }
  return doc.errors.length > 0 ? null : { doc, lineOf: (path) => yamlLineOf(doc, lc, path) };
}

// ---------------------------------------------------------------------------------------
// Files: every path must stay inside the repository.

function inside(base: string, target: string): boolean {
  const r = nodePath.relative(base, target);
  return r !== '' && r !== '..' && !r.startsWith(`..${nodePath.sep}`) && !nodePath.isAbsolute(r);
}

const toPosix = (p: string) => p.split(nodePath.sep).join('/');

async function realpathOrNull(p: string): Promise<string | null> {
  try {
    return await fsp.realpath(p);
  } catch {
    return null;
  }
}

interface RepoPath {
  abs: string;
  rel: string;
}

/** Resolves `p` (relative to `from`) and places it in the repo; null when it escapes. */
function placeInRepo(repoDir: string, repoReal: string, from: string, p: string): RepoPath | null {
  const abs = nodePath.resolve(from, p);
  for (const base of [nodePath.resolve(repoDir), repoReal]) {
    if (inside(base, abs)) return { abs, rel: toPosix(nodePath.relative(base, abs)) };
  }
  return null;
}

/** Also refuses a path that is inside lexically but a symlink to somewhere outside. */
async function escapesViaLink(repoReal: string, abs: string): Promise<boolean> {
  const real = await realpathOrNull(abs);
  return real !== null && !inside(repoReal, real);
}

// ---------------------------------------------------------------------------------------
// Tests: inline, or from a .jsonl / .json / .yaml file next to the suite.

interface RawTest {
  raw: unknown;
  file: string;
  /** Line of a path inside this test (`[]`: the test itself). */
  lineOf: LineOf;
}

interface TestsSource {
  tests: RawTest[];
  bytes: Buffer[];
}

async function readTests(opts: {
  value: unknown;
  suite: RepoPath & { lineOf: LineOf };
  repoDir: string;
  repoReal: string;
  problems: Problems;
}): Promise<TestsSource> {
  const { value, suite, problems } = opts;
  if (Array.isArray(value)) {
    return { tests: value.map((raw, i) => ({ raw, file: suite.rel, lineOf: (p: PathSeg[]) => suite.lineOf(['tests', i, ...p]) })), bytes: [] };
  }
  if (typeof value !== 'string') return { tests: [], bytes: [] };
  const line = suite.lineOf(['tests']);
  const fail = (code: SuiteProblemCode, message: string): TestsSource => {
    problems.add({ code, file: suite.rel, line, message });
    return { tests: [], bytes: [] };
  };
  const ref = value.replace(/^file:\/\//, '');
  const where = placeInRepo(opts.repoDir, opts.repoReal, nodePath.dirname(suite.abs), ref);
  if (!where || (await escapesViaLink(opts.repoReal, where.abs))) return fail('outside_repo', `tests file ${value} is outside the repository`);
  const ext = nodePath.extname(where.abs).toLowerCase();
  if (!['.jsonl', '.json', '.yaml', '.yml'].includes(ext)) {
    return fail('unsupported', `tests file ${value}: only .jsonl, .json, .yaml and .yml test files are supported`);
  }
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(where.abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail('tests_file', code === 'ENOENT' ? `tests file ${value} not found` : `tests file ${value} cannot be read (${code})`);
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const file = where.rel;
  const listOf = (items: unknown, lineOf: LineOf): TestsSource => {
    if (!Array.isArray(items)) {
      problems.add({ code: 'tests_file', file, line: 1, message: 'a tests file must hold a list of tests' });
      return { tests: [], bytes: [bytes] };
    }
    return { tests: items.map((raw, i) => ({ raw, file, lineOf: (p: PathSeg[]) => lineOf([i, ...p]) })), bytes: [bytes] };
  };

  if (ext === '.jsonl') {
    const tests: RawTest[] = [];
    text.split('\n').forEach((src, i) => {
      if (src.trim() === '') return;
      const line = i + 1;
      try {
        tests.push({ raw: JSON.parse(src), file, lineOf: () => line });
      } catch (err) {
        problems.add({ code: 'json_syntax', file, line, message: `invalid JSON: ${(err as Error).message}` });
      }
    });
    return { tests, bytes: [bytes] };
  }
  if (ext === '.json') {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      // V8 names a position for some errors only; else the YAML parser (JSON is YAML) may
      // find the line, and for the rest (`{"a": }` is valid YAML) there is none.
      const message = (err as Error).message;
      const pos = /at position (\d+)/.exec(message)?.[1];
      const lines = new Problems();
      parseYaml(text, file, lines, 'json_syntax');
      const line = pos === undefined ? lines.list[0]?.line : text.slice(0, Number(pos)).split('\n').length;
      problems.add({ code: 'json_syntax', file, line, message: `invalid JSON: ${message.split('\n')[0]}` });
      return { tests: [], bytes: [bytes] };
    }
    const located = parseYaml(text, file, new Problems());
    return listOf(data, located ? located.lineOf : () => undefined);
  }
  const src = parseYaml(text, file, problems);
  return src ? listOf(src.doc.toJS(), src.lineOf) : { tests: [], bytes: [bytes] };
}

// ---------------------------------------------------------------------------------------
// Assertions: checks that need more than the schema, and normalisation into AssertionSpec.

interface SourcedAssertion {
  a: SuiteAssertion;
  file: string;
  lineOf: LineOf;
  at: PathSeg[];
  testId?: string;
}

const TEMPLATED_KINDS = new Set(['equals', 'contains', 'icontains', 'contains-any', 'contains-all', 'icontains-any', 'icontains-all', 'starts-with', 'ends-with', 'regex', 'llm-rubric']);

/** Once per written assertion (not per test): template syntax and is-json schemas. */
function checkAssertionSource(s: SourcedAssertion, problems: Problems): void {
  const kind = parseAssertionType({ type: s.a.type })?.kind;
  const at = [...s.at, 'value'];
  const add = (code: SuiteProblemCode, message: string) =>
    problems.add({ code, file: s.file, line: s.lineOf(at), test_id: s.testId, message: `${formatPath(at)}: ${message}` });
  if (kind === 'is-json' && s.a.value !== undefined && s.a.value !== null) {
    for (const m of jsonSchemaProblems({ schema: s.a.value })) add('invalid_assertion', `is-json schema: ${m}`);
  }
  if (kind && TEMPLATED_KINDS.has(kind)) {
    const strings = Array.isArray(s.a.value) ? s.a.value : [s.a.value];
    for (const v of strings) if (typeof v === 'string') for (const m of checkTemplate({ template: v })) add('unsupported', m);
  }
}

/** Runs `checkAssertionSource` on each item of a written list that is a valid assertion. */
function checkRawAssertions(o: { list: unknown; file: string; lineOf: LineOf; at: PathSeg[]; testId?: string; problems: Problems }): void {
  if (!Array.isArray(o.list)) return;
  o.list.forEach((item, i) => {
    const r = SuiteAssertion.safeParse(item);
    if (r.success) checkAssertionSource({ a: r.data, file: o.file, lineOf: o.lineOf, at: [...o.at, i], testId: o.testId }, o.problems);
  });
}

function normaliseAssertion(s: SourcedAssertion, vars: Record<string, unknown>, testId: string, problems: Problems, suiteDir: string): AssertionSpec {
  return normaliseAssertionSpec({
    assertion: s.a,
    vars,
    at: s.at,
    suiteDir,
    report: (at, message) =>
      problems.add({ code: 'invalid_assertion', file: s.file, line: s.lineOf(at), test_id: testId, message: `${formatPath(at)}: ${message}` }),
  });
}

// ---------------------------------------------------------------------------------------

function renderPrompt(template: string, vars: Record<string, unknown>): Prompt {
  const input = vars.input;
  if (isChatMessages(input)) {
    const messages = input.map((m) => ({ role: m.role, content: renderTemplate({ template: m.content, vars }) }));
    if (INPUT_ONLY.test(template)) return messages;
    return renderTemplate({ template, vars: { ...vars, input: messages } });
  }
  return renderTemplate({ template, vars });
}

function testIdOf(raw: unknown): string | undefined {
  const id = raw !== null && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id !== '' ? id : typeof id === 'number' && Number.isInteger(id) ? String(id) : undefined;
}

/**
 * Loads and validates a suite. `path` is absolute or relative to `repoDir`, and must stay
 * inside the repository. Throws SUITE_NOT_FOUND for a missing file and SUITE_INVALID with
 * every problem found (`data.problems`: `{code, file, line?, test_id?, message}`).
 *
 * With more than one prompt every test runs once per prompt, and its ids become
 * `<id>:p1`, `<id>:p2`, ... (1-based, in the order of `prompts`); with one prompt the id
 * is the test's own.
 * @example const suite = await loadSuite({ path: 'evals/triage.yaml', repoDir: '/src/app' });
 */
export async function loadSuite({ path, repoDir }: { path: string; repoDir: string }): Promise<Suite> {
  const repoReal = (await realpathOrNull(repoDir)) ?? nodePath.resolve(repoDir);
  const problems = new Problems();
  const placed = placeInRepo(repoDir, repoReal, repoDir, path);
  if (!placed || (await escapesViaLink(repoReal, placed.abs))) {
    problems.add({ code: 'outside_repo', file: toPosix(path), message: 'the suite file must be inside the repository' });
    problems.throwIfAny(toPosix(path));
  }
  const { abs, rel } = placed!;
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new AgentvError('SUITE_NOT_FOUND', `suite file ${rel} not found`, { file: rel });
    problems.add({ code: 'invalid', file: rel, message: code === 'EISDIR' ? 'is a directory, not a suite file' : `cannot be read (${code})` });
    problems.throwIfAny(rel);
    throw err;
  }
  const hash = createHash('sha256').update(bytes);

  const src = parseYaml(bytes.toString('utf8').replace(/^\uFEFF/, ''), rel, problems);
  problems.throwIfAny(rel);
  const { doc, lineOf } = src!;
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    problems.add({ code: 'invalid', file: rel, line: 1, message: 'a suite file must be a YAML mapping (name, prompts, tests, ...)' });
    problems.throwIfAny(rel);
  }
  const top = data as Record<string, unknown>;
  const parsed = SuiteFile.safeParse(top);
  if (!parsed.success) problems.addZod(parsed.error, { file: rel, lineOf, at: [] });
  const suiteFile = parsed.success ? parsed.data : undefined;
  if (top.default_test !== undefined && top.defaultTest !== undefined) {
    problems.add({ code: 'invalid', file: rel, line: lineOf(['defaultTest']), message: 'both default_test and defaultTest are set; keep one' });
  }
  // Lenient for promptfoo's keys, but a near-miss of ours (`promts:`) silently changes results: say so.
  const warnings: string[] = [];
  for (const key of Object.keys(top)) {
    if (SUITE_KEYS.includes(key) || IGNORED_PROMPTFOO_KEYS.includes(key)) continue;
    const near = SUITE_KEYS.find((k) => editDistance(k, key) <= 2);
    warnings.push(`${rel}:${lineOf([key]) ?? '?'}: unknown top-level key "${key}" is ignored${near ? ` (did you mean "${near}"?)` : ''}`);
  }
  const defKey = top.default_test !== undefined ? 'default_test' : 'defaultTest';
  const def: DefaultTestInput = suiteFile?.default_test ?? suiteFile?.defaultTest ?? {};

  const prompts = suiteFile?.prompts ?? [DEFAULT_PROMPT];
  prompts.forEach((p, i) => {
    const at = typeof top.prompts === 'string' ? ['prompts'] : ['prompts', i];
    const add = (code: SuiteProblemCode, message: string) => problems.add({ code, file: rel, line: lineOf(at), message: `${formatPath(at)}: ${message}` });
    if (p.startsWith('file://')) add('unsupported', 'prompts loaded from files (file://) are not supported; write the template inline');
    for (const m of checkTemplate({ template: p })) add('unsupported', m);
  });

  const shared: SourcedAssertion[] = [
    ...(def.assert ?? []).map((a, i) => ({ a, file: rel, lineOf, at: [defKey, 'assert', i] })),
    ...(suiteFile?.assert ?? []).map((a, i) => ({ a, file: rel, lineOf, at: ['assert', i] })),
  ];
  const defRaw = top[defKey] as { assert?: unknown } | undefined;
  checkRawAssertions({ list: defRaw?.assert, file: rel, lineOf, at: [defKey, 'assert'], problems });
  checkRawAssertions({ list: top.assert, file: rel, lineOf, at: ['assert'], problems });

  const source = await readTests({ value: top.tests, suite: { abs, rel, lineOf }, repoDir, repoReal, problems });
  for (const b of source.bytes) hash.update(b);
  if (top.tests === undefined) problems.add({ code: 'invalid', file: rel, message: 'the suite has no `tests`' });
  else if (source.tests.length === 0 && Array.isArray(top.tests)) problems.add({ code: 'invalid', file: rel, line: lineOf(['tests']), message: 'the suite has no tests' });

  // Validate every test, then ids.
  const valid: { t: SuiteTestInput; raw: RawTest; id: string }[] = [];
  const firstLine = new Map<string, number | undefined>();
  for (const raw of source.tests) {
    const testId = testIdOf(raw.raw);
    const line = raw.lineOf([]);
    if (raw.raw === null || typeof raw.raw !== 'object' || Array.isArray(raw.raw)) {
      problems.add({ code: 'invalid', file: raw.file, line, message: 'a test must be a mapping with an `id`' });
      continue;
    }
    const r = SuiteTestInput.safeParse(raw.raw);
    if (!r.success) problems.addZod(r.error, { file: raw.file, lineOf: raw.lineOf, at: [], testId });
    const rawAssert = (raw.raw as { assert?: unknown }).assert;
    checkRawAssertions({ list: rawAssert, file: raw.file, lineOf: raw.lineOf, at: ['assert'], testId: r.success ? r.data.id : testId, problems });
    const id = r.success ? r.data.id : testId;
    if (id === undefined) {
      if ((raw.raw as { id?: unknown }).id === undefined) problems.add({ code: 'missing_id', file: raw.file, line, message: 'the test has no `id`' });
      continue;
    }
    if (firstLine.has(id)) {
      const first = firstLine.get(id);
      problems.add({ code: 'duplicate_id', file: raw.file, line: raw.lineOf(['id']), test_id: id, first_line: first, message: `duplicate test id "${id}" (first used at line ${first ?? '?'})` });
      continue;
    }
    firstLine.set(id, raw.lineOf(['id']));
    if (!r.success) continue;
    const t = r.data;
    // Message contents are templates too (the input may come from default_test).
    const own = t.vars?.input !== undefined;
    const input = own ? t.vars?.input : def.vars?.input;
    if (Array.isArray(input)) {
      input.forEach((m: ChatMessage, i) => {
        const at = ['vars', 'input', i, 'content'];
        const where = own ? { file: raw.file, line: raw.lineOf(at) } : { file: rel, line: lineOf([defKey, ...at]) };
        for (const message of checkTemplate({ template: m.content })) problems.add({ code: 'unsupported', ...where, test_id: id, message });
      });
    }
    valid.push({ t, raw, id });
  }
  problems.throwIfAny(rel);

  const tests: SuiteTest[] = [];
  for (const { t, raw, id } of valid) {
    const vars: Record<string, unknown> = { ...def.vars, ...t.vars };
    const own = (t.assert ?? []).map((a, i) => ({ a, file: raw.file, lineOf: raw.lineOf, at: ['assert', i] }));
    const assertions = [...shared, ...own].map((s) => normaliseAssertion(s, vars, id, problems, nodePath.posix.dirname(rel) === '.' ? '' : nodePath.posix.dirname(rel)));
    const threshold = t.threshold ?? def.threshold ?? suiteFile?.threshold;
    const description = t.description ?? def.description;
    prompts.forEach((template, i) => {
      // Unique ids stay unique: `:p<digits>` splits off the last `:p` unambiguously.
      tests.push({
        id: prompts.length > 1 ? `${id}:p${i + 1}` : id,
        ...(description === undefined ? {} : { description }),
        vars,
        prompt: renderPrompt(template, vars),
        assertions,
        ...(threshold === undefined ? {} : { threshold }),
        metadata: { ...def.metadata, ...t.metadata },
        tags: [...new Set([...(def.tags ?? []), ...(t.tags ?? [])])],
      });
    });
  }
  problems.throwIfAny(rel);

  return {
    name: suiteFile?.name ?? nodePath.basename(abs, nodePath.extname(abs)),
    ...(suiteFile?.description === undefined ? {} : { description: suiteFile.description }),
    path: rel,
    absPath: abs,
    hash: hash.digest('hex'),
    tests,
    needsGrader: tests.some((t) => t.assertions.some(usesGrader)),
    warnings,
  };
}
