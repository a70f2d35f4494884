// `.agentv/targets.yaml` as the agentv CLI writes it (4.x: `grader_target`/`judge_target`,
// cli `{EVAL_ID}`, `${{ VAR }}` env references, llm providers with `endpoint`/`api_key`)
// and 5.x `.agentv/providers.yaml` (`providers: [{id: <kind>, label: <name>, ...}]`,
// `{{ env.VAR }}`) -> agentv's own targets shape, before validation. Keys that only
// change how the agentv CLI logs are dropped; keys that would change results and cannot
// be honoured stay, so validation names them.
type Raw = Record<string, unknown>;

const ENV_REF = /^\s*(?:\$\{\{\s*([A-Za-z_]\w*)\s*\}\}|\{\{\s*env\.([A-Za-z_]\w*)\s*\}\})\s*$/;
const ENV_ANY = /\$\{\{\s*([A-Za-z_]\w*)\s*\}\}|\{\{\s*env\.([A-Za-z_]\w*)\s*\}\}/g;
/** Only change logging or temp-file keeping in the agentv CLI. */
const COSMETIC = ['verbose', 'keep_temp_files', 'log_dir', 'stream_log', 'healthcheck', 'workers', 'label'];

function interpolate(v: unknown, env: NodeJS.ProcessEnv): unknown {
  return typeof v === 'string' ? v.replace(ENV_ANY, (_m, a?: string, b?: string) => env[(a ?? b)!] ?? '') : v;
}

/** The env var a value names (`${{ X }}` or `{{ env.X }}`), or null. */
function envName(v: unknown): string | null {
  const m = typeof v === 'string' ? ENV_REF.exec(v) : null;
  return m ? (m[1] ?? m[2])! : null;
}

const lenient = new WeakSet<object>();
/** True for a translated 5.x providers catalog, whose targets are validated one by one. */
export function isProviderCatalog(doc: unknown): boolean {
  return doc !== null && typeof doc === 'object' && lenient.has(doc);
}

export interface ShapeProblem {
  /** Where in the targets file: ['targets', i, key]. */
  path: (string | number)[];
  message: string;
}

function translateTarget(t: Raw, env: NodeJS.ProcessEnv, problems: ShapeProblem[], i: number): Raw {
  const out: Raw = {};
  const say = (m: string, key?: string) => problems.push({ path: ['targets', i, ...(key ? [key] : [])], message: `targets[${i}] (${String(t.name ?? t.label ?? '?')}): ${m}` });
  for (const [k, v] of Object.entries(t)) {
    if (COSMETIC.includes(k) || k === 'grader_target' || k === 'judge_target') continue;
    if (k === 'provider_batching') {
      if (v) say('provider_batching (one command for all tests) is not supported; agentv runs the command once per test', k);
      continue;
    }
    if (k === 'files_format') continue; // only meaningful with {FILES}, refused below
    out[k] = k === 'command' || k === 'api_key' ? v : interpolate(v, env);
  }
  if (typeof t.provider === 'string' && !['echo', 'mock', 'cli', 'openai'].includes(t.provider)) {
    say(`agentv has no "${t.provider}" provider (it has echo, mock, cli, openai); point this target at an OpenAI-compatible endpoint with provider: openai, wrap the tool in provider: cli, or choose another target with --target (--grader for a grader)`, 'provider');
  }
  if (t.provider === 'cli' && typeof t.command === 'string') {
    out.command = t.command.replace(/\{EVAL_ID\}/g, '{TEST_ID}');
    for (const ph of ['{FILES}', '{ATTEMPT}']) if (t.command.includes(ph)) say(`the ${ph} placeholder is not supported (agentv has {PROMPT}, {PROMPT_FILE}, {OUTPUT_FILE}, {TEST_ID}/{EVAL_ID})`, 'command');
  }
  if (t.provider === 'openai') {
    if (out.endpoint !== undefined) {
      out.base_url = out.endpoint;
      delete out.endpoint;
    }
    if (t.api_key !== undefined) {
      const name = envName(t.api_key);
      // A literal key stays, and validation refuses it: keys live in the environment.
      if (name) {
        out.api_key_env = name;
        delete out.api_key;
      }
    }
  }
  return out;
}

/**
 * @example fromAgentvShape({ raw: { targets: [{ name: 'a', provider: 'cli', command: 'x {EVAL_ID}', grader_target: 'g' }] } })
 *   // { targets: [{ name: 'a', provider: 'cli', command: 'x {TEST_ID}' }], defaults: { target: 'a', grader: 'g' } }
 */
export function fromAgentvShape({ raw, env = process.env, problems = [] }: { raw: unknown; env?: NodeJS.ProcessEnv; problems?: ShapeProblem[] }): unknown {
  // 5.x providers.yaml may be the bare list itself.
  if (Array.isArray(raw)) raw = { providers: raw };
  if (raw === null || typeof raw !== 'object') return raw;
  const doc = { ...(raw as Raw) };
  // 5.x providers.yaml: {id: kind, label: name}.
  if (Array.isArray(doc.providers) && doc.targets === undefined) {
    doc.targets = (doc.providers as Raw[]).map((p) => {
      if (p === null || typeof p !== 'object') return p;
      const { id, label, ...rest } = p;
      return { name: label ?? id, provider: id, ...rest };
    });
    delete doc.providers;
    // Per-target kinds and keys the 5.x catalog holds for other tools are checked target
    // by target: a target agentv cannot call is refused when used, not for the whole file.
    lenient.add(doc);
  }
  if (!Array.isArray(doc.targets)) return doc;
  const targets = doc.targets as Raw[];
  const graders = targets.map((t) => (t && typeof t === 'object' ? (t.grader_target ?? t.judge_target) : undefined));
  const defaults = { ...((doc.defaults as Raw) ?? {}) };
  // The agentv CLI's conventional default target is the one named `default`.
  if (defaults.target === undefined && targets.some((t) => t?.name === 'default')) defaults.target = 'default';
  if (defaults.grader === undefined) {
    const chosen = targets.findIndex((t) => t?.name === defaults.target);
    const g = (chosen >= 0 ? graders[chosen] : undefined) ?? (new Set(graders.filter(Boolean)).size === 1 ? graders.find(Boolean) : undefined);
    if (typeof g === 'string') defaults.grader = g;
  }
  doc.targets = targets.map((t, i) => (t && typeof t === 'object' ? translateTarget(t, env, problems, i) : t));
  if (Object.keys(defaults).length) doc.defaults = defaults;
  return doc;
}
