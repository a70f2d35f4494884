// Prompt and assertion templates, rendered by the real nunjucks engine (filters, tags,
// loops, whitespace control), as promptfoo and agentv users write them. Values render as
// before the engine moved to nunjucks, so input hashes stay put: objects as JSON, chat
// message lists as `role: content` lines, null/undefined as ''. Templates see only the
// test's vars (plus `vars` itself and an empty `_conversation`), never prototypes.
import { lazyRequire } from '../lazy-require.js';
import type { ChatMessage, Prompt } from './types.js';

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

// Member access in templates reaches own properties (and a string's or list's own
// methods) only: `{{ x.constructor }}` is empty, and the classic escape through
// `range.constructor` is closed. Patched once on the runtime every template shares.
const FORBIDDEN = new Set(['constructor', '__proto__', 'prototype', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);
type Frame = { variables: Record<string, unknown>; parent?: Frame };
type Nunjucks = typeof import('nunjucks');
const loadNunjucks = lazyRequire<Nunjucks>('nunjucks');
let engine: { nunjucks: Nunjucks; env: import('nunjucks').Environment } | undefined;

/** nunjucks, made safe and given promptfoo's filter, the first time a template needs it (a suite of `{{ input }}` prompts never does). */
function nunjucksEngine(): { nunjucks: Nunjucks; env: import('nunjucks').Environment } {
  if (engine) return engine;
  const nunjucks = loadNunjucks();
  const runtime = nunjucks.runtime as unknown as {
    memberLookup: (obj: unknown, val: unknown) => unknown;
    contextOrFrameLookup: (context: { ctx: Record<string, unknown> }, frame: Frame, name: string) => unknown;
    __agentvSafe?: boolean;
  };
  if (!runtime.__agentvSafe) {
    const original = runtime.memberLookup;
    runtime.memberLookup = (obj: unknown, val: unknown) => {
      if (obj === undefined || obj === null) return undefined;
      const key = typeof val === 'number' ? String(val) : val;
      if (typeof key !== 'string' || FORBIDDEN.has(key)) return undefined;
      const boxed = Object(obj) as object;
      const own = Object.hasOwn(boxed, key);
      const method = (typeof obj === 'string' || Array.isArray(obj)) && typeof (boxed as Record<string, unknown>)[key] === 'function';
      return own || method ? original(obj, val) : undefined;
    };
    const lookup = runtime.contextOrFrameLookup;
    runtime.contextOrFrameLookup = (context, frame, name) => {
      if (!(name in Object.prototype)) return lookup(context, frame, name);
      for (let f: Frame | undefined = frame; f; f = f.parent) if (Object.hasOwn(f.variables, name)) return f.variables[name];
      return Object.hasOwn(context.ctx, name) ? context.ctx[name] : undefined;
    };
    runtime.__agentvSafe = true;
  }
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });
  // promptfoo's own filter: `{{ (json_var | load).field }}` parses a JSON string.
  env.addFilter('load', (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v));
  // Globals (range, cycler, joiner) without Object.prototype: `{{ toString }}` is empty.
  Object.setPrototypeOf((env as unknown as { globals: object }).globals, null);
  return (engine = { nunjucks, env });
}

const compiled = new Map<string, import('nunjucks').Template>();

// `{{ name }}` alone reads one var: the engine renders a string var as itself, so such a
// template (the default prompt, most assertion values) is answered without it. Whitespace
// is what the engine's lexer skips (space, tab, newline, carriage return, no-break space).
const ONE_VAR = /^\{\{-?[ \t\n\r\u00A0]*([A-Za-z_]\w*)[ \t\n\r\u00A0]*-?\}\}$/;
const LITERALS = new Set(['true', 'false', 'True', 'False', 'none', 'None', 'null', 'and', 'or', 'not', 'in', 'is', 'if', 'else']);
function oneVar(template: string): string | null {
  const m = ONE_VAR.exec(template);
  return m && !LITERALS.has(m[1]!) && !FORBIDDEN.has(m[1]!) ? m[1]! : null;
}

/** `{{ list.0 }}` (dotted index, which agentv always accepted) -> `{{ list[0] }}` for nunjucks. */
function dottedIndexes(template: string): string {
  return template.replace(/(\{\{|\{%)([\s\S]*?)(\}\}|%\})/g, (_m, open: string, body: string, close: string) => {
    let prev;
    do {
      prev = body;
      body = body.replace(/([A-Za-z_$][\w$]*|\])\.(\d+)(?!\w)/g, '$1[$2]');
    } while (body !== prev);
    return open + body + close;
  });
}

function compile(template: string): import('nunjucks').Template {
  let t = compiled.get(template);
  if (!t) {
    const { nunjucks, env } = nunjucksEngine();
    t = new nunjucks.Template(dottedIndexes(template), env, 'template', true);
    if (compiled.size > 5000) compiled.clear();
    compiled.set(template, t);
  }
  return t;
}

/** A copy of a value whose text form is what agentv has always printed for it. */
function presentable(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(v) ? v.map(presentable) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, presentable(x)]));
  // The text is made when printed: a long list (a conversation) is not stringified at every level.
  let text: string | undefined;
  Object.defineProperty(copy, 'toString', { value: () => (text ??= isChatMessages(v) ? promptToText({ prompt: v }) : JSON.stringify(v)), enumerable: false });
  return copy;
}

/** Turns a nunjucks error into one line: what is wrong and where. */
function cleanError(err: unknown): string {
  const m = (err as Error).message ?? String(err);
  const pos = /\[Line (\d+), Column (\d+)\]/.exec(m);
  const body = m.split('\n').map((l) => l.trim()).filter((l) => l && !/^\(template\)|^Template render error/.test(l)).join(' ') || m;
  return `template: ${body.replace(/^Error: /, '')}${pos ? ` (template line ${pos[1]}, column ${pos[2]})` : ''}`;
}

export class TemplateError extends Error {}

/**
 * Renders a nunjucks template with the test's vars (also reachable as `vars.<name>`).
 * An unknown var renders as '', an object as JSON, a chat message list as `role: content`
 * lines. Throws TemplateError for a template that cannot render (check with checkTemplate).
 * @example renderTemplate({ template: 'Hi {{ user.name | upper }}', vars: { user: { name: 'Ada' } } }) // 'Hi ADA'
 */
export function renderTemplate({ template, vars }: { template: string; vars: Record<string, unknown> }): string {
  if (!template.includes('{')) return template;
  const one = oneVar(template);
  if (one !== null && Object.hasOwn(vars, one) && typeof vars[one] === 'string') return vars[one];
  const ctx = Object.create(null) as Record<string, unknown>;
  ctx._conversation = [];
  const shown = presentable(vars) as Record<string, unknown>;
  ctx.vars = shown;
  // The copy's own toString (its text form) hides a var of that name: that one is read from vars.
  for (const k of Object.keys(vars)) ctx[k] = k === 'toString' ? presentable(vars[k]) : shown[k];
  try {
    return compile(template).render(ctx);
  } catch (err) {
    throw new TemplateError(cleanError(err));
  }
}

/**
 * A suite prompt rendered with a test's vars: a chat template message by message; a text
 * template around `vars.input` when that is a message list (alone, the messages are the
 * prompt); else text, between the test's `prefix` and `suffix`.
 * @example renderPromptTemplate({ template: 'Hi {{ name }}', vars: { name: 'Ada' } }) // 'Hi Ada'
 */
export function renderPromptTemplate({ template, vars, affix = {}, chatJson = false }: { template: Prompt; vars: Record<string, unknown>; affix?: { prefix?: string; suffix?: string }; chatJson?: boolean }): Prompt {
  const wrap = (s: string) => `${affix.prefix ?? ''}${s}${affix.suffix ?? ''}`;
  if (chatJson && typeof template === 'string') return chatOfJson(wrap(renderTemplate({ template, vars })));
  if (Array.isArray(template)) return template.map((m) => ({ role: m.role, content: renderTemplate({ template: m.content, vars }) }));
  const input = vars.input;
  if (isChatMessages(input)) {
    const messages = input.map((m) => ({ role: m.role, content: renderTemplate({ template: m.content, vars }) }));
    if (INPUT_ONLY.test(template)) return messages;
    return wrap(renderTemplate({ template, vars: Object.assign({}, vars, { input: messages }) }));
  }
  return wrap(renderTemplate({ template, vars }));
}

/** A rendered .json prompt read as chat messages (promptfoo's reading of JSON prompt files). */
function chatOfJson(text: string): ChatMessage[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new TemplateError(`a .json prompt must render to JSON (${(err as Error).message}); write {{ value | dump }} for values that may hold quotes or newlines`);
  }
  if (!isChatMessages(data)) throw new TemplateError('a .json prompt must render to a list of messages {role, content}');
  return data.map((m) => ({ role: m.role, content: m.content }));
}

/**
 * The names a template reads: its variables, and `x` of `vars.x`. A template that does not
 * parse reads nothing (checkTemplate reports it).
 * @example templateNames({ template: '{% for c in _conversation %}{{ vars.fruit }}{% endfor %}' }) // Set {'_conversation', 'c', 'vars', 'fruit'}
 */
export function templateNames({ template }: { template: string }): Set<string> {
  const names = new Set<string>();
  if (!template.includes('{')) return names;
  const one = oneVar(template);
  if (one !== null) return names.add(one);
  type Found = { value?: unknown; target?: { value?: unknown }; val?: { value?: unknown } };
  type Ast = { findAll: (type: unknown) => Found[] };
  const internals = nunjucksEngine().nunjucks as unknown as { parser: { parse: (src: string) => Ast }; nodes: Record<string, unknown> };
  let root: Ast;
  try {
    root = internals.parser.parse(dottedIndexes(template));
  } catch {
    return names;
  }
  for (const s of root.findAll(internals.nodes.Symbol)) if (typeof s.value === 'string') names.add(s.value);
  for (const l of root.findAll(internals.nodes.LookupVal)) {
    if (l.target?.value === 'vars' && typeof l.val?.value === 'string') names.add(l.val.value);
  }
  return names;
}

/**
 * Problems that stop a template from rendering (syntax errors, unknown filters); [] when fine.
 * @example checkTemplate({ template: '{% if x %}a' }) // ['template: ... expected elif, else, or endif ...']
 */
export function checkTemplate({ template }: { template: string }): string[] {
  if (!template.includes('{') || oneVar(template) !== null) return [];
  try {
    compile(template);
  } catch (err) {
    return [cleanError(err)];
  }
  // Filters are looked up when rendering: name an unknown one now, not mid-run.
  const out: string[] = [];
  for (const m of template.matchAll(/\|\s*([A-Za-z_]\w*)/g)) {
    const name = m[1]!;
    try {
      nunjucksEngine().env.getFilter(name);
    } catch {
      out.push(`template: unknown filter "${name}"`);
    }
  }
  return out;
}
