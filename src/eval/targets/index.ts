// Targets: load `.agentv/targets.yaml`, resolve a name (configured, or inline like
// `exec:<cmd>`) to a callable Target, and hash a target's configuration. The hash never
// covers the target's name or anything secret, so it is safe to commit and stable across renames.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { canonicalJson } from '../../canonical-json.js';
import { AgentvError } from '../../errors.js';
import { TargetConfig, TargetsConfig } from '../../schemas/targets.js';
import type { Target } from '../types.js';
import { createCliTarget } from './cli.js';
import { createEchoTarget } from './echo.js';
import { fromAgentvShape, isProviderCatalog, type ShapeProblem } from './agentv-shape.js';
import { createMockTarget } from './mock.js';
import { createOpenAiTarget } from './openai.js';
import type { ProcessRegistry } from './process-registry.js';

export type { TargetConfig, TargetsConfig } from '../../schemas/targets.js';
export { ProcessRegistry, killProcessGroup } from './process-registry.js';

/** Where the config lives, relative to the repository root; `.yml` is accepted too, and agentv 5.x's providers.yaml. */
export const TARGETS_FILES = ['.agentv/targets.yaml', '.agentv/targets.yml', '.agentv/providers.yaml', '.agentv/providers.yml'] as const;

export const INLINE_TARGET_FORMS = ['echo', 'mock', 'exec:<command>', 'openai:<model>'] as const;

export interface TargetsProblem {
  file: string;
  line?: number;
  message: string;
}

/**
 * Read `<repoDir>/.agentv/targets.yaml`; null when there is none.
 * Throws AgentvError TARGETS_INVALID with `{file, line?, problems}` for bad YAML or shape.
 *
 *   const config = await loadTargetsConfig({ repoDir });
 */
export async function loadTargetsConfig({ repoDir }: { repoDir: string }): Promise<TargetsConfig | null> {
  for (const file of TARGETS_FILES) {
    let text: string;
    try {
      text = await readFile(join(repoDir, file), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      if ((err as NodeJS.ErrnoException).code === 'EISDIR') {
        throw invalid(file, [{ file, message: `is a directory; it must be a YAML file listing targets (targets: [{name, provider, ...}])` }]);
      }
      throw err;
    }
    return parseTargetsConfig({ text, file, fallbackDefaults: await agentvConfigDefaults(repoDir) });
  }
  return null;
}

/**
 * agentv 5.x names the default provider and grader in `.agentv/config.yaml`
 * (`defaults: {provider, grader}`); a targets file's own defaults win.
 */
async function agentvConfigDefaults(repoDir: string): Promise<{ target?: string; grader?: string }> {
  let text: string;
  try {
    text = await readFile(join(repoDir, '.agentv/config.yaml'), 'utf8');
  } catch {
    return {};
  }
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) return {}; // reported by whoever reads the rest of config.yaml
  const d = (doc.toJS() as { defaults?: { provider?: unknown; target?: unknown; grader?: unknown } } | null)?.defaults;
  if (d === null || typeof d !== 'object') return {};
  const target = d.provider ?? d.target;
  return { ...(typeof target === 'string' && { target }), ...(typeof d.grader === 'string' && { grader: d.grader }) };
}

/** Parse and validate targets YAML text; `file` is only used in errors. */
export function parseTargetsConfig({ text, file, fallbackDefaults = {} }: { text: string; file: string; fallbackDefaults?: { target?: string; grader?: string } }): TargetsConfig {
  const lineCounter = new LineCounter();
  // prettyErrors off: the message stays one line and the line comes from `pos`.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineAt = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset).line);
  if (doc.errors.length > 0) {
    throw invalid(
      file,
      doc.errors.map((e) => ({ file, line: lineAt(e.pos[0]), message: e.message })),
    );
  }
  // An empty file is a config with no targets, not an error.
  // The agentv CLI's own shapes (4.x targets.yaml, 5.x providers.yaml) are translated first.
  const shapeProblems: ShapeProblem[] = [];
  const raw: unknown = doc.toJS() ?? {};
  const translated = fromAgentvShape({ raw, problems: shapeProblems });
  // Where a translated path sits in the file: 5.x writes `providers:` or a bare list.
  const srcPath = (path: (string | number)[]) =>
    path[0] !== 'targets' ? path : Array.isArray(raw) ? path.slice(1) : raw !== null && typeof raw === 'object' && 'providers' in raw ? ['providers', ...path.slice(1)] : path;
  const lineOfPath = (path: (string | number)[]) => lineAt(issueOffset(doc, { path: srcPath(path) }));
  // In a 5.x providers catalog (which lists providers for many tools), a target agentv
  // cannot call is refused when a run uses it (with its file, line and reason), so the
  // rest of the catalog stays usable. Our own targets.yaml stays strict.
  const unavailable: UnavailableTarget[] = [];
  if (translated !== null && typeof translated === 'object' && Array.isArray((translated as { targets?: unknown }).targets)) {
    const targets = (translated as { targets: unknown[] }).targets;
    const catalog = isProviderCatalog(translated);
    const keep: unknown[] = [];
    targets.forEach((t, i) => {
      const own = catalog ? shapeProblems.filter((p) => p.path[0] === 'targets' && p.path[1] === i) : [];
      const name = t !== null && typeof t === 'object' ? (t as { name?: unknown }).name : undefined;
      let reasons = own.map((p) => ({ message: p.message, line: lineOfPath(p.path) }));
      if (catalog && reasons.length === 0) {
        const r = TargetConfig.safeParse(t);
        if (!r.success) reasons = r.error.issues.map((issue) => ({ message: `${String(name ?? `targets[${i}]`)}: ${describeIssue(issue)}`, line: lineOfPath(['targets', i, ...issue.path.filter((x): x is string | number => typeof x !== 'symbol')]) }));
      }
      if (reasons.length > 0 && typeof name === 'string') unavailable.push({ name, file, reasons });
      else keep.push(t);
    });
    (translated as { targets: unknown[] }).targets = keep;
    if (catalog) shapeProblems.splice(0, shapeProblems.length, ...shapeProblems.filter((p) => p.path[0] !== 'targets' || typeof p.path[1] !== 'number'));
  }
  const result = TargetsConfig.safeParse(translated);
  if (shapeProblems.length > 0) {
    throw invalid(file, shapeProblems.map(({ path, message }) => ({ file, line: lineOfPath(path), message })));
  }
  if (!result.success) {
    throw invalid(
      file,
      result.error.issues.map((issue) => ({ file, line: lineAt(issueOffset(doc, { ...issue, path: srcPath(issue.path.filter((x): x is string | number => typeof x !== 'symbol')) })), message: describeIssue(issue) })),
    );
  }
  const config = result.data;
  if (unavailable.length > 0) unavailableOf.set(config, unavailable);
  const problems: TargetsProblem[] = [];
  for (const key of ['target', 'grader'] as const) {
    const name = config.defaults?.[key];
    if (name !== undefined && !config.targets.some((t) => t.name === name) && !unavailable.some((u) => u.name === name) && parseInlineTarget(name) === null) {
      problems.push({
        file,
        line: lineAt(issueOffset(doc, { path: ['defaults', key] })),
        message: `defaults.${key}: "${name}" is neither a configured target nor an inline form (${INLINE_TARGET_FORMS.join(', ')})`,
      });
    }
  }
  if (problems.length > 0) throw invalid(file, problems);
  const fallback = Object.entries(fallbackDefaults).filter(([k]) => config.defaults?.[k as 'target' | 'grader'] === undefined);
  if (fallback.length > 0) config.defaults = { ...config.defaults, ...Object.fromEntries(fallback) };
  return config;
}

/** A configured target agentv cannot call (an agentv CLI provider kind it lacks, or keys it cannot honour). */
export interface UnavailableTarget {
  name: string;
  file: string;
  reasons: { message: string; line?: number }[];
}
const unavailableOf = new WeakMap<TargetsConfig, UnavailableTarget[]>();

/** The targets of a loaded config that are refused when used. */
export function unavailableTargets(config: TargetsConfig | null): UnavailableTarget[] {
  return (config && unavailableOf.get(config)) ?? [];
}

function invalid(file: string, problems: TargetsProblem[]): AgentvError {
  const first = problems[0];
  const where = (p: TargetsProblem) => `${p.file}${p.line !== undefined ? `:${p.line}` : ''}`;
  const message = problems.map((p) => `${where(p)}: ${p.message}`).join('\n');
  return new AgentvError('TARGETS_INVALID', message, {
    file,
    ...(first?.line !== undefined && { line: first.line }),
    problems: problems.map((p) => ({ file: p.file, ...(p.line !== undefined && { line: p.line }), message: p.message })),
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

/**
 * The source offset an issue points at: the offending key for unknown keys, else the
 * deepest node on the issue's path that exists (a missing field points at its object).
 */
function issueOffset(doc: Document, issue: Pick<z.core.$ZodIssue, 'path'> & { code?: string; keys?: string[] }): number | undefined {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (node === undefined || node === null || typeof node !== 'object') continue;
    if (n === path.length && issue.code === 'unrecognized_keys' && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === issue.keys?.[0]);
      if (pair && isScalar(pair.key)) return pair.key.range?.[0];
    }
    const range = (node as { range?: [number, number, number] | null }).range;
    if (range) return range[0];
  }
  return undefined;
}

/**
 * The configuration an inline, promptfoo-style name stands for, or null:
 * `echo`, `mock`, `exec:<command>`, `openai:<model>` (also `openai:chat:<model>`).
 */
export function parseInlineTarget(name: string): TargetConfig | null {
  // Schema names may not contain ":", so validate with a stand-in and keep the real one.
  const parse = (raw: Record<string, unknown>): TargetConfig | null => {
    const r = TargetConfig.safeParse({ ...raw, name: 'inline' });
    return r.success ? { ...r.data, name } : null;
  };
  if (name === 'echo' || name === 'mock') return parse({ provider: name });
  if (name.startsWith('exec:')) {
    const command = name.slice('exec:'.length).trim();
    return command === '' ? null : parse({ provider: 'cli', command });
  }
  if (name.startsWith('openai:')) {
    const model = name.slice('openai:'.length).replace(/^chat:/, '');
    return /^\S+$/.test(model) ? parse({ provider: 'openai', model }) : null;
  }
  return null;
}

const SECRET_KEY = /key|token|secret|password/i;

/**
 * sha256 (hex) of the target's configuration as canonical JSON (sorted keys), without
 * its name (a rename changes nothing it does) and without values of secret-looking
 * `env` entries (their presence still counts, their value does not).
 */
export function configHash({ config }: { config: TargetConfig }): string {
  const { name: _name, ...rest } = config;
  const hashed: Record<string, unknown> = { ...rest };
  if ('env' in rest && rest.env !== undefined) {
    hashed.env = Object.fromEntries(
      Object.entries(rest.env).map(([k, v]) => [k, SECRET_KEY.test(k) ? '<secret>' : v]),
    );
  }
  return createHash('sha256').update(canonicalJson(hashed)).digest('hex');
}


export interface ResolveTargetOptions {
  /** A configured target name (wins), or an inline form such as `exec:./agent.sh {PROMPT}`. */
  name: string;
  config: TargetsConfig | null;
  repoDir: string;
  /** Where cli targets register their process groups, for stop. */
  registry: ProcessRegistry;
  /** Environment for api keys (`openai`) and the base of `env` (`cli`); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** openai backoff base; tests make it small. */
  retryBaseMs?: number;
}

/**
 * Turn a target name into a callable Target.
 * Throws AgentvError TARGET_NOT_FOUND with `{name, known}` for an unknown name.
 *
 *   const target = resolveTarget({ name: 'exec:./agent.sh {PROMPT}', config, repoDir, registry });
 */
export function resolveTarget({ name, config, repoDir, registry, env = process.env, retryBaseMs }: ResolveTargetOptions): Target {
  const targetConfig = config?.targets.find((t) => t.name === name) ?? parseInlineTarget(name);
  const refused = targetConfig === null ? unavailableTargets(config).find((u) => u.name === name) : undefined;
  if (refused) {
    throw invalid(refused.file, refused.reasons.map((r) => ({ file: refused.file, ...(r.line !== undefined && { line: r.line }), message: `target "${name}" cannot be used: ${r.message}` })));
  }
  if (targetConfig === null) {
    const known = config?.targets.map((t) => t.name) ?? [];
    const configured = known.length > 0 ? `configured: ${known.join(', ')}; ` : '';
    throw new AgentvError(
      'TARGET_NOT_FOUND',
      `unknown target "${name}" (${configured}inline forms: ${INLINE_TARGET_FORMS.join(', ')})`,
      { name, known },
    );
  }
  const hash = configHash({ config: targetConfig });
  switch (targetConfig.provider) {
    case 'echo':
      return createEchoTarget({ config: targetConfig, configHash: hash });
    case 'mock':
      return createMockTarget({ config: targetConfig, configHash: hash });
    case 'cli':
      return createCliTarget({ config: targetConfig, configHash: hash, repoDir, registry, baseEnv: env });
    case 'openai':
      requireHostedKey(targetConfig, env);
      return createOpenAiTarget({ config: targetConfig, configHash: hash, env, ...(retryBaseMs !== undefined && { retryBaseMs }) });
  }
}

/**
 * A hosted OpenAI endpoint without its key would fail every test with a 401 after the
 * run started: say so before anything runs (exit 2). Local servers (Ollama, vLLM,
 * llama.cpp) need no key, so only the hosted hosts are checked.
 */
function requireHostedKey(config: Extract<TargetConfig, { provider: 'openai' }>, env: NodeJS.ProcessEnv): void {
  const host = new URL(config.base_url).hostname;
  if (host !== 'api.openai.com' && !host.endsWith('.openai.azure.com')) return;
  if (env[config.api_key_env]) return;
  throw new AgentvError(
    'CONFIG',
    `target "${config.name}" (model ${config.model} at ${config.base_url}) needs an API key, and ${config.api_key_env} is not set: ` +
      `export it or put it in a .env file next to the suite; or run with --target echo, exec:<command>, or a target from .agentv/targets.yaml`,
    { target: config.name, api_key_env: config.api_key_env },
  );
}

/** `defaults.target` from the config, or null. */
export function defaultTargetName(config: TargetsConfig | null): string | null {
  return config?.defaults?.target ?? null;
}

/** `defaults.grader` from the config, or null. */
export function defaultGraderName(config: TargetsConfig | null): string | null {
  return config?.defaults?.grader ?? null;
}
