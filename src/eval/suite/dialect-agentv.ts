// agentv CLI eval files in the 4.x schema (`*.eval.yaml`: execution.target, evalcases or
// tests with input / criteria / expected_output / assertions) -> a Draft in agentv's own
// test shape. Chat content parts ({type: text|file, value}) are flattened to text, files
// read relative to the eval file. Grader items pass through unchanged to the assertion path.
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import type { LimitsConfig } from '../../schemas/limits.js';
import { expandRef, type Repo, type RepoPath } from './files.js';
import type { Draft, ProviderRef } from './model.js';
import { formatPath, type LineOf, type PathSeg, type Problems } from './problems.js';
import { readTests, type RawTest } from './tests-files.js';
import { readLimitedFile, textOf } from './yaml-source.js';

/** Keys of a test that only the agentv eval-file dialect uses. */
export const AGENTV_TEST_KEYS = ['input', 'criteria', 'expected_output', 'assertions', 'evaluators', 'conversation_id', 'execution', 'rubrics'];
const TOP_KEYS = ['name', 'description', 'execution', 'tests', 'evalcases', 'assertions', 'assert', 'evaluators', 'metadata', 'tags', 'threshold'];
/** Keys that describe the file and change nothing a run measures. */
const COSMETIC_TOP = ['version', 'author', 'notes', 'note'];

interface Ctx {
  repo: Repo;
  limits: LimitsConfig;
  problems: Problems;
  bytes: Buffer[];
  testTargets: { target: string; where: string }[];
}

/** True when the file is an agentv eval file rather than a promptfoo-shaped one. */
export function looksLikeAgentvEval(top: Record<string, unknown>): boolean {
  if (top.evalcases !== undefined || top.execution !== undefined) return true;
  // 5.x files are promptfoo-aligned: prompts/providers/default_test make them so.
  if (['prompts', 'providers', 'default_test', 'defaultTest', 'evaluate_options', 'evaluateOptions'].some((k) => k in top)) return false;
  const tests = Array.isArray(top.tests) ? top.tests : [];
  return tests.some((t) => t !== null && typeof t === 'object' && AGENTV_TEST_KEYS.some((k) => k in (t as object)));
}

/**
 * A content file as the agentv CLI finds it: relative to the eval file's folder, else to
 * each folder above it up to the repository root (`/x` means the repository root).
 */
async function findUpward(ctx: Omit<Ctx, 'testTargets'>, from: string, value: string): Promise<{ files: RepoPath[]; escaped: boolean }> {
  if (value.startsWith('/')) return expandRef(ctx.repo, ctx.repo.repoDir, value.slice(1));
  const root = nodePath.resolve(ctx.repo.repoDir);
  let first: { files: RepoPath[]; escaped: boolean } | null = null;
  for (let dir = from; ; dir = nodePath.dirname(dir)) {
    const got = await expandRef(ctx.repo, dir, value);
    first ??= got;
    if (got.files.length > 0 && !got.escaped && (await fsp.stat(got.files[0]!.abs).then(() => true, () => false))) return got;
    if (nodePath.resolve(dir) === root || nodePath.dirname(dir) === dir) break;
  }
  return first.escaped ? first : { files: [], escaped: false };
}

async function flattenContent(ctx: Omit<Ctx, 'testTargets'>, content: unknown, from: string, where: { file: string; line?: number; path: string }): Promise<string | undefined> {
  if (typeof content === 'string') return content;
  // Structured content (a mapping) reaches the target as JSON, as the agentv CLI sends it.
  if (content !== null && typeof content === 'object' && !Array.isArray(content)) return JSON.stringify(content, null, 2);
  if (!Array.isArray(content)) {
    ctx.problems.add({ code: 'invalid', file: where.file, line: where.line, message: `${where.path}: message content is text or a list of parts {type: text|file, value}` });
    return undefined;
  }
  const parts: string[] = [];
  for (const part of content) {
    const p = (part ?? {}) as { type?: unknown; value?: unknown; text?: unknown; path?: unknown };
    const value = p.value ?? p.text ?? p.path;
    if (p.type === 'text' && typeof value === 'string') parts.push(value);
    else if (p.type === 'file' && typeof value === 'string') {
      const { files, escaped } = await findUpward(ctx, from, value);
      if (escaped || files.length !== 1) {
        ctx.problems.add({ code: escaped ? 'outside_repo' : 'tests_file', file: where.file, line: where.line, message: `${where.path}: content file ${value} ${escaped ? 'is outside the repository' : 'not found'}` });
        continue;
      }
      const bytes = await readLimitedFile({ abs: files[0]!.abs, file: files[0]!.rel, what: 'content file', problems: ctx.problems, limits: ctx.limits, line: where.line, reportIn: where.file });
      if (!bytes) continue;
      ctx.bytes.push(bytes);
      parts.push(textOf(bytes));
    } else {
      ctx.problems.add({ code: 'unsupported', file: where.file, line: where.line, message: `${where.path}: chat content parts are {type: text, value} or {type: file, value: path}; ${JSON.stringify(p.type)} is not supported` });
    }
  }
  return parts.join('\n');
}

export async function messagesOf(ctx: Omit<Ctx, 'testTargets'>, value: unknown, from: string, file: string, lineOf: LineOf, at: PathSeg[]): Promise<unknown> {
  if (!Array.isArray(value)) return value;
  const out = [];
  for (const [i, m] of value.entries()) {
    if (m === null || typeof m !== 'object') return value; // the schema reports it
    const msg = m as { role?: unknown; content?: unknown };
    const content = await flattenContent(ctx, msg.content, from, { file, line: lineOf([...at, i, 'content']), path: formatPath([...at, i, 'content']) });
    out.push({ role: msg.role, content: content ?? '' });
  }
  return out;
}

/** The text of an expected output: a string, or the last message of a list. */
function expectedText(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const last = v[v.length - 1] as { content?: unknown } | undefined;
  return typeof last?.content === 'string' ? last.content : v;
}

async function translateTest(ctx: Ctx, t: RawTest, suiteTarget: string | undefined, from: string): Promise<RawTest> {
  if (t.raw === null || typeof t.raw !== 'object' || Array.isArray(t.raw)) return t;
  const src = t.raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const vars: Record<string, unknown> = { ...((src.vars as Record<string, unknown>) ?? {}) };
  const metadata: Record<string, unknown> = { ...((src.metadata as Record<string, unknown>) ?? {}) };
  const rename: [PathSeg[], PathSeg[]][] = [];
  for (const [k, v] of Object.entries(src)) {
    switch (k) {
      case 'id':
      case 'description':
      case 'threshold':
      case 'tags':
      case 'assert':
        out[k] = v;
        break;
      case 'vars':
      case 'metadata':
        break;
      case 'input':
        vars.input = await messagesOf(ctx, v, from, t.file, t.lineOf, ['input']);
        rename.push([['vars', 'input'], ['input']]);
        break;
      case 'expected_output':
        vars.expected_output = expectedText(v);
        rename.push([['vars', 'expected_output'], ['expected_output']]);
        break;
      case 'criteria':
        vars.criteria = v;
        break;
      case 'assertions':
      case 'evaluators':
        out.assert = [...((out.assert as unknown[]) ?? []), ...(Array.isArray(v) ? v : [v])];
        rename.push([['assert'], [k]]);
        break;
      case 'rubrics':
        out.assert = [...((out.assert as unknown[]) ?? []), { type: 'rubrics', value: v }];
        break;
      case 'conversation_id':
        metadata.conversation_id = v;
        break;
      case 'execution': {
        const ex = (v ?? {}) as Record<string, unknown>;
        for (const [ek, ev] of Object.entries(ex)) {
          if (ek === 'target' && (suiteTarget === undefined || ev === suiteTarget)) continue;
          if (ek === 'target') {
            // Refused at run time unless --target replaces every target (session.ts).
            ctx.testTargets.push({ target: String(ev), where: `${t.file}:${t.lineOf(['execution', 'target']) ?? '?'}` });
            continue;
          }
          if (ek === 'evaluators' || ek === 'assertions') out.assert = [...((out.assert as unknown[]) ?? []), ...(Array.isArray(ev) ? ev : [])];
          // skip_defaults and the rest are read with every dialect's tests (test-execution.ts).
          else out.execution = { ...((out.execution as object) ?? {}), [ek]: ev };
        }
        break;
      }
      default:
        // agentv keeps extra per-test fields with the test; so does agentv here, as metadata.
        metadata[k] = v;
    }
  }
  if (Object.keys(vars).length) out.vars = vars;
  if (Object.keys(metadata).length) out.metadata = metadata;
  return {
    raw: out,
    file: t.file,
    lineOf: (p) => {
      for (const [ours, theirs] of rename) if (ours.every((s, i) => p[i] === s)) return t.lineOf([...theirs, ...p.slice(ours.length)]);
      return t.lineOf(p);
    },
  };
}

export async function agentvEvalDraft(opts: Omit<Ctx, 'testTargets'> & { top: Record<string, unknown>; suite: RepoPath & { lineOf: LineOf } }): Promise<Draft> {
  const o: Ctx & typeof opts = { ...opts, testTargets: [] };
  const { top, suite, problems } = o;
  const file = suite.rel;
  for (const key of Object.keys(top)) {
    if (key === 'workspace') problems.add({ code: 'unsupported', file, line: suite.lineOf([key]), message: 'workspace set-up (workspace:) is not supported: prepare the workspace before the run, or use an exec: target that does' });
    else if (COSMETIC_TOP.includes(key)) problems.warn(file, suite.lineOf([key]), `\`${key}\` describes the file; agentv does not use it`);
    else if (!TOP_KEYS.includes(key)) problems.add({ code: 'invalid', file, line: suite.lineOf([key]), message: `unknown top-level key "${key}" in an agentv eval file: it would be ignored; see docs/suites.md` });
  }
  const ex = (top.execution ?? {}) as Record<string, unknown>;
  const providers: ProviderRef[] = [];
  let suiteTarget: string | undefined;
  let maxConcurrency: number | undefined;
  const suiteAssert: unknown[] = [...(Array.isArray(top.assertions) ? top.assertions : []), ...(Array.isArray(top.assert) ? top.assert : []), ...(Array.isArray(top.evaluators) ? top.evaluators : [])];
  for (const [k, v] of Object.entries(ex)) {
    if (k === 'target' && typeof v === 'string') {
      suiteTarget = v;
      providers.push({ id: v, file, line: suite.lineOf(['execution', 'target']) });
    } else if (k === 'targets' && Array.isArray(v)) {
      v.forEach((x, i) => typeof x === 'string' && providers.push({ id: x, file, line: suite.lineOf(['execution', 'targets', i]) }));
    } else if (k === 'evaluators' || k === 'assertions') {
      if (Array.isArray(v)) suiteAssert.push(...v);
    } else if (k === 'workers' && typeof v === 'number' && Number.isInteger(v) && v > 0) {
      maxConcurrency = v;
    } else problems.add({ code: 'unsupported', file, line: suite.lineOf(['execution', k]), message: `execution.${k} is not supported (execution.target, execution.targets and execution.evaluators are)` });
  }
  const testsKey = top.evalcases !== undefined ? 'evalcases' : 'tests';
  if (top.evalcases !== undefined && top.tests !== undefined) problems.add({ code: 'invalid', file, line: suite.lineOf(['evalcases']), message: 'both evalcases and tests are set; keep one' });
  const source = await readTests({ value: top[testsKey], suite, at: [testsKey], repo: o.repo, limits: o.limits, problems });
  o.bytes.push(...source.bytes);
  if (top[testsKey] === undefined) problems.add({ code: 'invalid', file, message: 'the eval file has no `tests`' });
  const from = nodePath.dirname(suite.abs);
  const tests: RawTest[] = [];
  for (const t of source.tests) tests.push(await translateTest(o, t, suiteTarget, from));
  const assertAt = top.assertions !== undefined ? 'assertions' : top.assert !== undefined ? 'assert' : 'evaluators';
  return {
    dialect: 'agentv-eval',
    ...(typeof top.name === 'string' ? { name: top.name } : {}),
    ...(typeof top.description === 'string' ? { description: top.description } : {}),
    tests,
    ...(suiteAssert.length ? { assert: { value: suiteAssert, file, lineOf: suite.lineOf, at: [assertAt] } } : {}),
    ...(typeof top.threshold === 'number' ? { threshold: top.threshold } : {}),
    providers,
    expandVarArrays: false,
    repeat: 1,
    ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
    derivedMetrics: [],
    assertionTemplates: {},
    env: {},
    testTargets: o.testTargets,
  };
}
