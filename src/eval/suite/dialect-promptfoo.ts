// agentv's own suite files and promptfoo configs (and agentv 5.x's promptfoo-aligned
// eval files, which use the same keys, some in snake_case) -> a Draft. Every top-level
// key is read, or reported with its line: an error where ignoring it would change
// results, a warning where it is cosmetic.
import * as nodePath from 'node:path';
import type { LimitsConfig } from '../../schemas/limits.js';
import { editDistance } from '../../schemas/suite.js';
import type { Repo, RepoPath } from './files.js';
import { expandRef } from './files.js';
import type { Draft, Located, ProviderRef } from './model.js';
import type { LineOf, PathSeg, Problems } from './problems.js';
import { readPrompts } from './prompts.js';
import { scenarioTests } from './scenarios.js';
import { readTests } from './tests-files.js';
import { parseYaml, readLimitedFile, textOf } from './yaml-source.js';

/** Keys that make a file a promptfoo config (agentv's own files never use them). */
export const PROMPTFOO_ONLY_KEYS = [
  'providers', 'targets', 'defaultTest', 'evaluateOptions', 'evaluate_options', 'scenarios', 'derivedMetrics', 'derived_metrics',
  'outputPath', 'sharing', 'env', 'assertionTemplates', 'nunjucksFilters', 'extensions', 'redteam', 'commandLineOptions',
  'writeLatestResults', 'defaultProvider', 'tracing', 'metadata', 'tags',
];
const READ_KEYS = ['name', 'description', 'prompts', 'tests', 'default_test', 'defaultTest', 'assert', 'threshold', 'providers', 'targets',
  'evaluateOptions', 'evaluate_options', 'scenarios', 'derivedMetrics', 'derived_metrics', 'assertionTemplates', 'env'];
const COSMETIC_KEYS: Record<string, string> = {
  outputPath: 'results are kept in git; use `agentv runs show <run> --format json|csv|junit` to export',
  sharing: 'runs are shared through git remotes (`agentv results push`)',
  writeLatestResults: 'every run is kept on refs/agentv/runs/v1',
  commandLineOptions: 'pass options on the agentv command line',
  metadata: 'suite metadata is not recorded',
  tags: 'suite tags are not recorded; tests have `tags`',
  tracing: 'tracing is not collected',
  version: 'a version label describes the file; agentv does not use it',
  author: 'it describes the file; agentv does not use it',
};
const UNSUPPORTED_KEYS: Record<string, string> = {
  nunjucksFilters: 'custom nunjucks filters (code) are not supported',
  extensions: 'extension hooks (code run around the eval) are not supported',
  environment: 'the agentv CLI\'s environment recipes (a host or docker testbed with setup commands and a workdir) are not supported: prepare the workspace before the run, or do it in an exec: target\'s command',
  redteam: 'red-team generation is not supported',
  defaultProvider: 'defaultProvider is not supported: pass --grader, or set defaultTest.options.provider',
};

interface Ctx {
  repo: Repo;
  limits: LimitsConfig;
  problems: Problems;
  bytes: Buffer[];
}

/** Reads a `file://` reference holding YAML/JSON data (default_test: file://x.yaml); null when absent or broken. */
async function loadRef(ctx: Ctx, suite: RepoPath & { lineOf: LineOf }, ref: string, at: PathSeg[]): Promise<{ data: unknown; file: string; lineOf: LineOf } | null> {
  const { files, escaped } = await expandRef(ctx.repo, nodePath.dirname(suite.abs), ref);
  const line = suite.lineOf(at);
  if (escaped || files.length !== 1) {
    ctx.problems.add({ code: escaped ? 'outside_repo' : 'tests_file', file: suite.rel, line, message: `${ref}: ${escaped ? 'is outside the repository' : 'not found'}` });
    return null;
  }
  const f = files[0]!;
  const bytes = await readLimitedFile({ abs: f.abs, file: f.rel, what: 'file', problems: ctx.problems, limits: ctx.limits, line, reportIn: suite.rel });
  if (!bytes) return null;
  ctx.bytes.push(bytes);
  const src = parseYaml({ text: textOf(bytes), file: f.rel, problems: ctx.problems, limits: ctx.limits });
  return src ? { data: src.data, file: f.rel, lineOf: src.lineOf } : null;
}

function providersOf(value: unknown, file: string, lineOf: LineOf, key: string, problems: Problems): ProviderRef[] {
  const list = Array.isArray(value) ? value : [value];
  const out: ProviderRef[] = [];
  list.forEach((p, i) => {
    const at = Array.isArray(value) ? [key, i] : [key];
    const line = lineOf(at);
    if (typeof p === 'string' && p.trim() !== '') out.push({ id: p.trim(), file, line });
    else if (p !== null && typeof p === 'object' && !Array.isArray(p) && typeof (p as { id?: unknown }).id === 'string') {
      const o = p as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (!['id', 'label', 'config', 'delay', 'transform', 'prompts', 'env'].includes(k)) {
          problems.add({ code: 'invalid', file, line: lineOf([...at, k]), message: `${key}: unknown provider key "${k}" (id, label, config are read)` });
        }
      }
      for (const k of ['transform', 'prompts', 'env', 'delay']) {
        if (o[k] !== undefined) problems.add({ code: 'unsupported', file, line: lineOf([...at, k]), message: `${key}: provider \`${k}\` is not supported; set it on a target in .agentv/targets.yaml` });
      }
      out.push({
        id: String(o.id),
        ...(typeof o.label === 'string' ? { label: o.label } : {}),
        ...(o.config && typeof o.config === 'object' ? { config: o.config as Record<string, unknown> } : {}),
        file,
        line,
      });
    } else {
      problems.add({ code: 'invalid', file, line, message: `${key}: a provider is an id string (openai:gpt-4o-mini, exec:./agent.sh, a target name) or {id, label, config}` });
    }
  });
  return out;
}

/**
 * A Draft from a parsed top-level mapping.
 * @example const draft = await promptfooDraft({ top, suite, dialect: 'promptfoo', ... })
 */
export async function promptfooDraft(o: Ctx & { top: Record<string, unknown>; suite: RepoPath & { lineOf: LineOf }; dialect: 'agentv' | 'promptfoo' }): Promise<Draft> {
  const { top, suite, problems } = o;
  const { lineOf } = suite;
  const file = suite.rel;
  const at = (k: string) => lineOf([k]);
  for (const key of Object.keys(top)) {
    if (READ_KEYS.includes(key)) continue;
    if (key in COSMETIC_KEYS) problems.warn(file, at(key), `\`${key}\` is not used by agentv: ${COSMETIC_KEYS[key]}`);
    else if (key in UNSUPPORTED_KEYS) problems.add({ code: 'unsupported', file, line: at(key), message: `${key}: ${UNSUPPORTED_KEYS[key]}` });
    else {
      const near = READ_KEYS.find((k) => editDistance(k, key) <= 2);
      problems.add({ code: 'invalid', file, line: at(key), message: `unknown top-level key "${key}"${near ? ` (did you mean "${near}"?)` : ''}: it would be ignored; remove it or see docs/suites.md` });
    }
  }
  const str = (k: string) => {
    const v = top[k];
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    problems.add({ code: 'invalid', file, line: at(k), message: `${k} must be a string` });
    return undefined;
  };
  if (top.default_test !== undefined && top.defaultTest !== undefined) {
    problems.add({ code: 'invalid', file, line: at('defaultTest'), message: 'both default_test and defaultTest are set; keep one' });
  }
  const defKey = top.default_test !== undefined ? 'default_test' : 'defaultTest';
  let defaultTest: Located<Record<string, unknown>> | undefined;
  const defRaw = top[defKey];
  if (typeof defRaw === 'string') {
    const got = await loadRef(o, suite, defRaw, [defKey]);
    if (got && got.data !== null && typeof got.data === 'object' && !Array.isArray(got.data)) defaultTest = { value: got.data as Record<string, unknown>, file: got.file, lineOf: got.lineOf, at: [] };
    else if (got) problems.add({ code: 'invalid', file: got.file, line: 1, message: `${defKey} file must hold a mapping (vars, assert, ...)` });
  } else if (defRaw !== undefined) {
    if (defRaw === null || typeof defRaw !== 'object' || Array.isArray(defRaw)) problems.add({ code: 'invalid', file, line: at(defKey), message: `${defKey} is a mapping (vars, assert, options, ...)` });
    else defaultTest = { value: defRaw as Record<string, unknown>, file, lineOf, at: [defKey] };
  }

  const evalKey = top.evaluate_options !== undefined ? 'evaluate_options' : 'evaluateOptions';
  const evo = (top[evalKey] ?? {}) as Record<string, unknown>;
  let repeat = 1;
  let maxConcurrency: number | undefined;
  let delayMs: number | undefined;
  for (const [k, v] of Object.entries(evo)) {
    const line = lineOf([evalKey, k]);
    const num = (min: number) => {
      if (typeof v === 'number' && Number.isInteger(v) && v >= min) return v;
      problems.add({ code: 'invalid', file, line, message: `${evalKey}.${k} must be a whole number >= ${min}` });
      return undefined;
    };
    if (k === 'repeat') repeat = num(1) ?? 1;
    else if (k === 'maxConcurrency' || k === 'max_concurrency') maxConcurrency = num(1);
    else if (k === 'delay') delayMs = num(0);
    else if (['cache', 'showProgressBar', 'show_progress_bar', 'progressCallback'].includes(k)) problems.warn(file, line, `${evalKey}.${k} has no effect in agentv`);
    else problems.add({ code: 'unsupported', file, line, message: `${evalKey}.${k} is not supported (repeat, maxConcurrency, delay are)` });
  }

  const dmKey = top.derived_metrics !== undefined ? 'derived_metrics' : 'derivedMetrics';
  const derivedMetrics: Draft['derivedMetrics'] = [];
  if (top[dmKey] !== undefined) {
    const list = Array.isArray(top[dmKey]) ? (top[dmKey] as unknown[]) : [];
    if (!Array.isArray(top[dmKey])) problems.add({ code: 'invalid', file, line: at(dmKey), message: `${dmKey} is a list of {name, value}` });
    list.forEach((d, i) => {
      const x = (d ?? {}) as { name?: unknown; value?: unknown };
      if (typeof x.name === 'string' && typeof x.value === 'string') derivedMetrics.push({ name: x.name, value: x.value });
      else problems.add({ code: 'unsupported', file, line: lineOf([dmKey, i]), message: `${dmKey}: a derived metric is {name, value: "<expression over named metrics>"} (functions are not supported)` });
    });
  }

  const env: Record<string, string> = {};
  if (top.env !== undefined) {
    if (top.env === null || typeof top.env !== 'object' || Array.isArray(top.env)) problems.add({ code: 'invalid', file, line: at('env'), message: 'env is a mapping of NAME: value' });
    else for (const [k, v] of Object.entries(top.env)) env[k] = String(v);
  }

  const bytes = o.bytes;
  const prompts = await readPrompts({ value: top.prompts, suite, repo: o.repo, limits: o.limits, problems, bytes });
  const source = await readTests({ value: top.tests, suite, at: ['tests'], repo: o.repo, limits: o.limits, problems });
  bytes.push(...source.bytes);
  const tests = [...source.tests, ...(top.scenarios === undefined ? [] : await scenarioTests({ repo: o.repo, limits: o.limits, problems, bytes }, top.scenarios, { file, lineOf }))];
  if (top.tests === undefined && top.scenarios === undefined) problems.add({ code: 'invalid', file, message: 'the suite has no `tests`' });
  else if (tests.length === 0 && Array.isArray(top.tests)) problems.add({ code: 'invalid', file, line: at('tests'), message: 'the suite has no tests' });

  const provKey = top.providers !== undefined ? 'providers' : 'targets';
  const providers = top[provKey] === undefined ? [] : providersOf(top[provKey], file, lineOf, provKey, problems);
  if (top.providers !== undefined && top.targets !== undefined) problems.add({ code: 'invalid', file, line: at('targets'), message: 'both providers and targets are set; keep one' });

  const threshold = top.threshold;
  if (threshold !== undefined && (typeof threshold !== 'number' || threshold < 0 || threshold > 1)) {
    problems.add({ code: 'invalid', file, line: at('threshold'), message: 'threshold is a number from 0 to 1' });
  }
  const templates = top.assertionTemplates;
  return {
    dialect: o.dialect,
    name: str('name'),
    description: str('description'),
    prompts,
    tests,
    defaultTest,
    ...(top.assert === undefined ? {} : { assert: { value: top.assert, file, lineOf, at: ['assert'] } }),
    ...(typeof threshold === 'number' ? { threshold } : {}),
    providers,
    expandVarArrays: o.dialect === 'promptfoo',
    repeat,
    ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
    ...(delayMs === undefined ? {} : { delayMs }),
    derivedMetrics,
    assertionTemplates: templates !== null && typeof templates === 'object' && !Array.isArray(templates) ? (templates as Record<string, unknown>) : {},
    env,
  };
}
