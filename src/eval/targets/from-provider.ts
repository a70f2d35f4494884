// A provider as a promptfoo or agentv suite names it (`providers:` strings and
// `{id, label, config}` objects, `execution.target`) -> the TargetConfig agentv runs.
// Configured target names win; then the inline forms agentv can call (echo, mock,
// exec:, openai:<model>, openai:chat:<model>, ollama:...). Anything else is refused
// before a run starts, naming the provider and the ways around it.
import { AgentvError } from '../../errors.js';
import { TargetConfig, type TargetsConfig } from '../../schemas/targets.js';
import { parseInlineTarget, unavailableTargets } from './index.js';

export interface ProviderRef {
  id: string;
  label?: string;
  config?: Record<string, unknown>;
  /** `file:line` of the reference, for messages. */
  where: string;
}

/** promptfoo's OpenAI config keys -> agentv's openai target fields. */
const OPENAI_KEYS: Record<string, string> = {
  apiBaseUrl: 'base_url',
  api_base_url: 'base_url',
  baseUrl: 'base_url',
  base_url: 'base_url',
  apiKeyEnvar: 'api_key_env',
  api_key_env: 'api_key_env',
  temperature: 'temperature',
  max_tokens: 'max_tokens',
  maxTokens: 'max_tokens',
  timeout_seconds: 'timeout_seconds',
  max_retries: 'max_retries',
};

function refuse(ref: ProviderRef, why: string): never {
  throw new AgentvError(
    'CONFIG',
    `${ref.where}: provider "${ref.id}": ${why}. Run it against a target agentv can call with --target (echo, mock, exec:<command>, openai:<model>), or define the target in .agentv/targets.yaml and name it here`,
    { provider: ref.id },
  );
}

/**
 * @example providerTarget({ ref: { id: 'openai:chat:gpt-4o-mini', where: 's.yaml:3' }, config: null }).provider // 'openai'
 */
export function providerTarget({ ref, config, env = process.env }: { ref: ProviderRef; config: TargetsConfig | null; env?: NodeJS.ProcessEnv }): TargetConfig {
  const name = ref.label ?? ref.id;
  const configured = config?.targets.find((t) => t.name === ref.id);
  if (configured) {
    if (ref.config && Object.keys(ref.config).length) refuse(ref, 'a configured target takes its options from .agentv/targets.yaml, not from `config` here');
    return { ...configured, name };
  }
  const refused = unavailableTargets(config).find((u) => u.name === ref.id);
  if (refused) refuse(ref, `it is defined in ${refused.file}${refused.reasons[0]?.line !== undefined ? `:${refused.reasons[0].line}` : ''}, but ${refused.reasons.map((r) => r.message).join('; ')}`);
  let id = ref.id;
  if (id.startsWith('ollama:')) {
    const model = id.replace(/^ollama:(chat:|completion:)?/, '');
    const base = (env.OLLAMA_BASE_URL ?? 'http://localhost:11434').replace(/\/+$/, '');
    ref = { ...ref, config: { apiBaseUrl: `${base}/v1`, apiKeyEnvar: 'OLLAMA_API_KEY', ...ref.config } };
    id = `openai:${model}`;
  }
  const inline = parseInlineTarget(id);
  if (!inline) {
    const kind = id.startsWith('file://') ? 'a provider written as code' : id.startsWith('http') ? 'an HTTP provider' : `the "${id.split(':')[0]}" provider`;
    refuse(ref, `agentv cannot call ${kind}`);
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ref.config ?? {})) {
    if (inline.provider === 'openai' && k in OPENAI_KEYS) extra[OPENAI_KEYS[k]!] = v;
    else if (inline.provider === 'openai' && (k === 'apiKey' || k === 'api_key')) refuse(ref, 'an api key written in the suite would be committed with it; put it in an environment variable and name that in config.apiKeyEnvar');
    else if (inline.provider === 'mock' && ['response', 'responses', 'errors', 'delay_ms'].includes(k)) extra[k] = v;
    else if (inline.provider === 'cli' && ['timeout_seconds', 'cwd', 'env'].includes(k)) extra[k] = v;
    else if (inline.provider === 'echo' && k === 'delay_ms') extra[k] = v;
    else refuse(ref, `config.${k} is not an option of agentv's ${inline.provider} provider (see docs/targets.md)`);
  }
  // As promptfoo: OPENAI_BASE_URL (or OPENAI_API_BASE_URL) moves an openai provider without a configured endpoint.
  const envBase = env.OPENAI_BASE_URL || env.OPENAI_API_BASE_URL;
  if (inline.provider === 'openai' && extra.base_url === undefined && envBase) extra.base_url = envBase;
  const r = TargetConfig.safeParse({ ...inline, ...extra, name: 'inline' });
  if (!r.success) refuse(ref, `config: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { ...r.data, name };
}
