// The `openai` target: any OpenAI-compatible /chat/completions endpoint over global
// fetch. Retries 429, 5xx and network errors with capped exponential backoff; the API
// key is read from the env at call time and never appears in an error or a result.
import type { OpenAiTargetConfig } from '../../schemas/targets.js';
import type { TokenUsage } from '../../schemas/row.js';
import { TargetError, type ChatMessage, type Target, type TargetCall, type TargetResponse } from '../types.js';
import { delay } from './echo.js';

const BODY_EXCERPT_CHARS = 300;

export interface CreateOpenAiTargetOptions {
  config: OpenAiTargetConfig;
  configHash: string;
  /** Where `api_key_env` is looked up; injectable for tests. */
  env?: NodeJS.ProcessEnv;
  /** Backoff before retry n (0-based) is retryBaseMs * 2^n plus up to retryBaseMs of jitter. */
  retryBaseMs?: number;
  /** Cap on any single wait, including one asked for by Retry-After. */
  maxRetryDelayMs?: number;
}

export function createOpenAiTarget({
  config,
  configHash,
  env = process.env,
  retryBaseMs = 500,
  maxRetryDelayMs = 60_000,
}: CreateOpenAiTargetOptions): Target {
  const url = `${config.base_url.replace(/\/+$/, '')}/chat/completions`;
  return {
    name: config.name,
    provider: 'openai',
    configHash,
    async call(call: TargetCall): Promise<TargetResponse> {
      const apiKey = env[config.api_key_env] || undefined;
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (apiKey !== undefined) headers.authorization = `Bearer ${apiKey}`;
      const body = JSON.stringify({
        model: config.model,
        messages: toMessages(call.prompt),
        ...(config.temperature !== undefined && { temperature: config.temperature }),
        ...(config.max_tokens !== undefined && { max_tokens: config.max_tokens }),
      });
      const redact = (text: string) => (apiKey === undefined ? text : text.replaceAll(apiKey, '***'));

      for (let attempt = 0; ; attempt++) {
        const canRetry = attempt < config.max_retries;
        if (call.signal.aborted) throw new TargetError('aborted', 'aborted');
        const timeout = AbortSignal.timeout(config.timeout_seconds * 1000);
        let res: Response;
        let text: string;
        try {
          res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.any([call.signal, timeout]) });
          text = await res.text();
        } catch (err) {
          if (call.signal.aborted) throw new TargetError('aborted', 'aborted');
          // Not retried: timeout_seconds bounds how long one test may wait, and four
          // more full waits would silently multiply it.
          if (timeout.aborted) throw new TargetError(`timed out after ${config.timeout_seconds}s (${url})`, 'timeout');
          if (!canRetry) throw new TargetError(redact(`request to ${url} failed: ${errorText(err)}`), 'http');
          await delay({ ms: backoffMs({ attempt, retryBaseMs, maxRetryDelayMs }), signal: call.signal });
          continue;
        }

        if (res.ok) return parseCompletion({ text, url, redact });
        const retryable = res.status === 429 || res.status >= 500;
        if (!retryable || !canRetry) {
          const excerpt = redact(text.replace(/\s+/g, ' ').trim().slice(0, BODY_EXCERPT_CHARS));
          const tries = attempt > 0 ? ` after ${attempt + 1} attempts` : '';
          throw new TargetError(`HTTP ${res.status} from ${url}${tries}${excerpt ? `: ${excerpt}` : ''}`, 'http');
        }
        const asked = retryAfterMs(res.headers);
        const wait = asked !== null ? Math.min(asked, maxRetryDelayMs) : backoffMs({ attempt, retryBaseMs, maxRetryDelayMs });
        await delay({ ms: wait, signal: call.signal });
      }
    },
    // Embeddings for the `similar` assertion: the same endpoint and key, /embeddings.
    async embed({ texts, model, signal }: { texts: string[]; model?: string; signal: AbortSignal }): Promise<number[][]> {
      const embedUrl = `${config.base_url.replace(/\/+$/, '')}/embeddings`;
      const apiKey = env[config.api_key_env] || undefined;
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (apiKey !== undefined) headers.authorization = `Bearer ${apiKey}`;
      const redact = (text: string) => (apiKey === undefined ? text : text.replaceAll(apiKey, '***'));
      const timeout = AbortSignal.timeout(config.timeout_seconds * 1000);
      let res: Response;
      let text: string;
      try {
        res = await fetch(embedUrl, { method: 'POST', headers, body: JSON.stringify({ model: model ?? config.model, input: texts }), signal: AbortSignal.any([signal, timeout]) });
        text = await res.text();
      } catch (err) {
        throw new TargetError(redact(`request to ${embedUrl} failed: ${errorText(err)}`), timeout.aborted ? 'timeout' : 'http');
      }
      if (!res.ok) throw new TargetError(redact(`HTTP ${res.status} from ${embedUrl}: ${text.replace(/\s+/g, ' ').trim().slice(0, BODY_EXCERPT_CHARS)}`), 'http');
      const data = (JSON.parse(text) as { data?: Array<{ embedding?: unknown; index?: number }> }).data;
      const vectors = (data ?? []).slice().sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).map((d) => d.embedding);
      if (vectors.length !== texts.length || !vectors.every((v) => Array.isArray(v) && v.every((x) => typeof x === 'number'))) {
        throw new TargetError(redact(`response from ${embedUrl} has no data[].embedding for each input`), 'other');
      }
      return vectors as number[][];
    },
  };
}

function toMessages(prompt: string | ChatMessage[]): ChatMessage[] {
  return typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : prompt;
}

function backoffMs({ attempt, retryBaseMs, maxRetryDelayMs }: { attempt: number; retryBaseMs: number; maxRetryDelayMs: number }): number {
  // Jitter spreads out parallel workers that were all throttled at the same moment.
  return Math.min(retryBaseMs * 2 ** attempt + Math.random() * retryBaseMs, maxRetryDelayMs);
}

/** `retry-after-ms` (OpenAI, Azure) or `Retry-After` in seconds or as an HTTP date. */
function retryAfterMs(headers: Headers): number | null {
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.has('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici hides the useful part (ECONNREFUSED ...) in `cause`.
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

function parseCompletion({ text, url, redact }: { text: string; url: string; redact: (s: string) => string }): TargetResponse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TargetError(redact(`response from ${url} is not JSON: ${text.slice(0, BODY_EXCERPT_CHARS)}`), 'other');
  }
  const body = json as {
    choices?: Array<{ message?: { content?: unknown; tool_calls?: unknown } }>;
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown; total_tokens?: unknown };
  };
  const message = body.choices?.[0]?.message;
  if (message === undefined) {
    throw new TargetError(redact(`response from ${url} has no choices[0].message: ${text.slice(0, BODY_EXCERPT_CHARS)}`), 'other');
  }
  return { output: messageText(message), ...(body.usage && { tokenUsage: toTokenUsage(body.usage) }) };
}

function messageText(message: { content?: unknown; tool_calls?: unknown }): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  // Some servers return content parts: [{type: 'text', text}].
  if (Array.isArray(content)) {
    return content.map((p) => (p && typeof p === 'object' && typeof p.text === 'string' ? p.text : '')).join('');
  }
  // A tool-calling answer has no text; its calls are the output worth asserting on.
  if (message.tool_calls !== undefined) return JSON.stringify(message.tool_calls);
  return '';
}

function toTokenUsage(usage: { prompt_tokens?: unknown; completion_tokens?: unknown; total_tokens?: unknown }): TokenUsage {
  const n = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);
  const prompt = n(usage.prompt_tokens);
  const completion = n(usage.completion_tokens);
  return { prompt, completion, total: n(usage.total_tokens) || prompt + completion };
}
