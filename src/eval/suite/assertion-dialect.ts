// Assertion spellings of the agentv CLI (4.x and 5.x eval files) that mean something
// other than agentv's own kinds of the same name, rewritten before validation:
// - `type: script` with `command:` is the agentv CLI's script grader (agentv's
//   `code-grader`: the JSON payload on stdin, `{score, pass?, reason?, checks?}` back);
//   keys it does not know are handed to the script as `config`, as the agentv CLI does.
//   Its `provider: {max_calls}` (an LLM proxy for the script) becomes `provider_access`,
//   which validation reports as unsupported.
// - A custom kind defined by convention: `.agentv/assertions/<kind>.{ts,js,mts,mjs}` in
//   the suite's folder or any folder above it (up to the repository root). The agentv
//   CLI runs that file with `bun run <file>` as a script grader; so does agentv.
// agentv's own suite files keep agentv's `script` kind unchanged.
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import { parseAssertionType } from '../../schemas/assertion.js';
import { toPosix } from './files.js';
import type { Dialect } from './model.js';

type Rec = Record<string, unknown>;

/** Keys a script grader reads itself; the rest are its config. */
const SCRIPT_OWN = new Set(['type', 'metric', 'name', 'command', 'script', 'cwd', 'weight', 'required', 'min_score', 'negate', 'transform', 'config', 'provider', 'threshold', 'description', 'value']);

/** Custom assertion kinds by name -> the file that defines them (relative to the suite's folder, where graders run). */
export type CustomKinds = Map<string, string>;

/**
 * `.agentv/assertions/*` from the suite's folder up to the repository root; the nearest
 * definition of a name wins, and built-in kinds are never replaced.
 */
export async function discoverCustomKinds({ repoDir, suiteAbs }: { repoDir: string; suiteAbs: string }): Promise<CustomKinds> {
  const out: CustomKinds = new Map();
  const root = nodePath.resolve(repoDir);
  const suiteDir = nodePath.dirname(nodePath.resolve(suiteAbs));
  for (let dir = suiteDir; ; dir = nodePath.dirname(dir)) {
    const folder = nodePath.join(dir, '.agentv', 'assertions');
    const names = await fsp.readdir(folder).catch(() => [] as string[]);
    for (const f of names.sort()) {
      const m = /^(.+)\.(ts|js|mts|mjs)$/.exec(f);
      if (!m || out.has(m[1]!) || parseAssertionType({ type: m[1]! }) !== null) continue;
      out.set(m[1]!, toPosix(nodePath.relative(suiteDir, nodePath.join(folder, f))));
    }
    if (dir === root || nodePath.dirname(dir) === dir || !dir.startsWith(root)) break;
  }
  return out;
}

function asScriptGrader(a: Rec, command: unknown): Rec {
  const out: Rec = { type: 'code-grader', command };
  const config: Rec = {};
  for (const [k, v] of Object.entries(a)) {
    if (k === 'type' || k === 'command' || k === 'script') continue;
    if (k === 'provider') {
      if (typeof v === 'string' || (v !== null && typeof v === 'object' && 'id' in v)) out.provider = v;
      else out.provider_access = v;
    } else if (k === 'min_score') out.threshold = v;
    else if (SCRIPT_OWN.has(k)) out[k] = v;
    else config[k] = v;
  }
  const merged = { ...config, ...((a.config as Rec | undefined) ?? {}) };
  if (Object.keys(merged).length) out.config = merged;
  else delete out.config;
  return out;
}

/** One written assertion list in the agentv CLI's meaning (recursively for assert-set/composite). */
export function fromAgentvCli(list: unknown, o: { dialect: Dialect; customKinds: CustomKinds }): unknown {
  if (o.dialect === 'agentv' || !Array.isArray(list)) return list;
  return list.map((item) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    let a = item as Rec;
    for (const key of ['assert', 'assertions', 'graders']) if (Array.isArray(a[key])) a = { ...a, [key]: fromAgentvCli(a[key], o) };
    if (typeof a.type !== 'string') return a;
    const not = a.type.startsWith('not-') ? 'not-' : '';
    const kind = a.type.slice(not.length);
    if (kind === 'script' && (a.command !== undefined || a.script !== undefined) && a.value === undefined) {
      const g = asScriptGrader(a, a.command ?? a.script);
      return { ...g, type: `${not}code-grader` };
    }
    const file = o.customKinds.get(kind);
    if (file !== undefined && parseAssertionType({ type: a.type }) === null) {
      const g = asScriptGrader(a, ['bun', 'run', file]);
      return { ...g, type: `${not}code-grader`, ...(g.metric === undefined && g.name === undefined ? { metric: kind } : {}) };
    }
    return a;
  });
}
