// Prompt templates: nunjucks-style `{{ var }}` / `{{ var.path }}` substitution,
// nothing more. What cannot be rendered faithfully is reported by checkTemplate
// (the suite loader turns that into a problem) instead of being guessed at.
import type { ChatMessage, Prompt } from './types.js';

const EXPR = /\{\{(-?)([\s\S]*?)(-?)\}\}/g;
const COMMENT = /\{#[\s\S]*?#\}/g;
const VAR_PATH = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\.\d+|\[\d+\]|\[(?:"[^"]*"|'[^']*')\])*$/;
const SEGMENT = /([A-Za-z_$][\w$]*|\d+)|\[(\d+|"[^"]*"|'[^']*')\]/g;
export const INPUT_ONLY = /^\s*\{\{-?\s*input\s*-?\}\}\s*$/;

export function isChatMessages(v: unknown): v is ChatMessage[] {
  return (
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((m) => m !== null && typeof m === 'object' && typeof m.role === 'string' && typeof m.content === 'string')
  );
}

/**
 * A prompt as plain text: chat messages become `role: content` lines.
 * @example promptToText({ prompt: [{ role: 'user', content: 'hi' }] }) // 'user: hi'
 */
export function promptToText({ prompt }: { prompt: Prompt }): string {
  return typeof prompt === 'string' ? prompt : prompt.map((m) => `${m.role}: ${m.content}`).join('\n');
}

function lookup(vars: Record<string, unknown>, expr: string): unknown {
  let cur: unknown = vars;
  for (const m of expr.matchAll(SEGMENT)) {
    let key = m[1] ?? m[2] ?? '';
    if (key.startsWith('"') || key.startsWith("'")) key = key.slice(1, -1);
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function stringify(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (isChatMessages(v)) return promptToText({ prompt: v });
  return JSON.stringify(v);
}

/**
 * Substitutes `{{ var }}` and `{{ var.path }}` (whitespace-tolerant, `{{-`/`-}}` trim like
 * nunjucks). An unknown var renders as '', an object as JSON, a chat message list as
 * `role: content` lines. Anything else (`{% %}` tags, filters) is left verbatim, never
 * guessed at: validate templates with `checkTemplate` first.
 * @example renderTemplate({ template: 'Hi {{ user.name }}', vars: { user: { name: 'Ada' } } }) // 'Hi Ada'
 */
export function renderTemplate({ template, vars }: { template: string; vars: Record<string, unknown> }): string {
  const t = template.replace(COMMENT, '');
  let out = '';
  let last = 0;
  let trimNext = false;
  for (const m of t.matchAll(EXPR)) {
    let text = t.slice(last, m.index);
    if (trimNext) text = text.trimStart();
    if (m[1]) text = text.trimEnd();
    const expr = (m[2] ?? '').trim();
    out += text + (VAR_PATH.test(expr) ? stringify(lookup(vars, expr)) : m[0]);
    trimNext = m[3] === '-';
    last = m.index + m[0].length;
  }
  const tail = t.slice(last);
  return out + (trimNext ? tail.trimStart() : tail);
}

/**
 * What in a template `renderTemplate` cannot render faithfully; [] when it is fine.
 * @example checkTemplate({ template: '{% if x %}a{% endif %}' }) // ['template tags ({% ... %}) are not supported ...']
 */
export function checkTemplate({ template }: { template: string }): string[] {
  const out: string[] = [];
  const t = template.replace(COMMENT, '');
  if (t.includes('{%')) out.push('template tags ({% ... %}) are not supported; only {{ var }} substitution is');
  for (const m of t.matchAll(EXPR)) {
    const expr = (m[2] ?? '').trim();
    if (VAR_PATH.test(expr)) continue;
    out.push(expr.includes('|') ? `template filters are not supported: ${m[0]}` : `unsupported template expression ${m[0]}`);
  }
  if (t.replace(EXPR, '').includes('{{')) out.push('unclosed "{{" in template');
  return out;
}
