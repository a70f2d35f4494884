// Load time for promptfoo's run-time values (see ../runtime-vars.ts): which earlier test each
// test reads through `options.storeOutputAs` names and `_conversation`, and the placeholder
// rendering that fixes its prompt, assertions and input_hash before anything runs.
//
// Scope, as promptfoo runs a suite serially in suite order, per prompt: a stored name is the
// output of the latest earlier test (same prompt, same repeat) that stores it; a conversation
// is every earlier test with the same prompt, repeat and `metadata.conversationId` (agentv's
// `conversation_id`), and promptfoo scenarios keep theirs apart. Tests that read nothing at
// run time are left exactly as they were.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../canonical-json.js';
import { CONVERSATION_VAR, placeholderValues, renderRuntime } from '../runtime-vars.js';
import { TemplateError, templateNames } from '../template.js';
import type { Prompt, SuiteTest } from '../types.js';
import type { SourcedAssertion } from './assertion-specs.js';
import type { Problems } from './problems.js';

/** A test as the loader built it, with what is needed to render it again later. */
export interface TestRecipe {
  test: SuiteTest;
  template: Prompt;
  affix: { prefix?: string; suffix?: string };
  chatJson?: boolean;
  written: SourcedAssertion[];
  transform?: string;
  promptIndex: number;
  repeat: number;
  storeAs?: string;
  disableConversationVar: boolean;
  /** promptfoo scenarios isolate their conversations. */
  scope?: string;
  suiteDir: string;
  file: string;
  line?: number;
}

/** Assertion kinds whose value is code: it reads vars as `context.vars.x`, not as a template. */
const CODE_KINDS = /^(not-)?(javascript|python|js|py)$/;

/** Every text of a test that may read a var: templates (prompt, string vars, chat input, assertion values) and code (javascript/python values, transforms). */
function textsOf(r: TestRecipe): { templates: string[]; code: string[] } {
  const templates: string[] = [];
  const code: string[] = [];
  const add = (v: unknown, to = templates) => {
    if (typeof v === 'string') to.push(v);
    else if (Array.isArray(v)) v.forEach((x) => add(x, to));
    else if (v !== null && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') to.push((v as { content: string }).content);
  };
  add(r.template);
  for (const v of Object.values(r.test.vars)) add(v);
  const walk = (a: Record<string, unknown>) => {
    add(a.value, typeof a.type === 'string' && CODE_KINDS.test(a.type) ? code : templates);
    add(a.transform, code);
    for (const k of ['assert', 'assertions', 'graders']) if (Array.isArray(a[k])) (a[k] as Record<string, unknown>[]).forEach(walk);
  };
  for (const s of r.written) walk(s.a as Record<string, unknown>);
  add(r.transform, code);
  return { templates, code };
}

/** The names a test's templates read (each distinct template parsed once). */
function namesRead(texts: string[], cache: Map<string, Set<string>>): Set<string> {
  const names = new Set<string>();
  for (const t of texts) {
    let found = cache.get(t);
    if (!found) cache.set(t, (found = templateNames({ template: t })));
    for (const n of found) names.add(n);
  }
  return names;
}

function conversationIdOf(metadata: Record<string, unknown>): string {
  const id = metadata.conversationId ?? metadata.conversation_id;
  return id === undefined || id === null ? '' : String(id);
}

/**
 * Links tests that read run-time values to the tests they read, and renders them with
 * placeholders. Mutates the tests in `recipes` (suite order). Warns about a stored name a
 * test reads before any test stores it.
 */
export function linkRuntimeVars(recipes: TestRecipe[], problems: Problems): void {
  const storing = recipes.filter((r) => r.storeAs !== undefined);
  const storeNames = new Set(storing.map((r) => r.storeAs!));
  // Most suites use neither feature: a plain text scan decides before any template is parsed.
  const texts = recipes.map(textsOf);
  if (storeNames.size === 0 && !texts.some((t) => t.templates.some((x) => x.includes(CONVERSATION_VAR)))) return;
  const cache = new Map<string, Set<string>>();
  // Code reads a stored name as `context.vars.<name>`: a whole-word mention counts.
  const mentions = [...storeNames].map((n) => [n, new RegExp(`(^|[^\\w$])${n.replace(/\$/g, '\\$')}([^\\w$]|$)`)] as const);
  const reads = texts.map((t) => {
    const names = namesRead(t.templates, cache);
    for (const [n, re] of mentions) if (t.code.some((c) => re.test(c))) names.add(n);
    return names;
  });
  const latest = new Map<string, Map<string, string>>();
  const turns = new Map<string, string[]>();
  const warned = new Set<string>();
  recipes.forEach((r, i) => {
    const scope = `${r.promptIndex}#${r.repeat}`;
    const names = reads[i]!;
    const stored: Record<string, string> = {};
    for (const n of names) {
      if (!storeNames.has(n)) continue;
      const producer = latest.get(scope)?.get(n);
      if (producer !== undefined) stored[n] = producer;
      else if (!warned.has(`${n}@${r.file}:${r.line}`)) {
        warned.add(`${n}@${r.file}:${r.line}`);
        problems.warn(r.file, r.line, `test ${r.test.id} reads ${n} before any test stores it (options.storeOutputAs): there it is ${n in r.test.vars ? "the test's own var" : 'empty'}`);
      }
    }
    const conversationKey = `${scope}:${r.scope ?? ''}:${conversationIdOf(r.test.metadata)}`;
    let earlier = turns.get(conversationKey);
    if (!earlier) turns.set(conversationKey, (earlier = []));
    const readsConversation = names.has(CONVERSATION_VAR) && !r.disableConversationVar;
    if (Object.keys(stored).length > 0 || readsConversation) {
      const recipe = {
        template: r.template,
        affix: r.affix,
        ...(r.chatJson ? { chatJson: true } : {}),
        stored,
        ...(readsConversation ? { conversation: [...earlier] } : {}),
        assertions: r.written.map((s) => ({ a: s.a, at: s.at })),
        ...(r.transform === undefined ? {} : { transform: r.transform }),
        suiteDir: r.suiteDir,
      };
      r.test.runtime = { ...recipe, key: createHash('sha256').update(canonicalJson(recipe)).digest('hex').slice(0, 32) };
      try {
        const shown = renderRuntime(r.test, placeholderValues(r.test));
        r.test.prompt = shown.prompt;
        r.test.assertions = shown.assertions;
      } catch (err) {
        // The placeholders stand in for real values: what only breaks with them is judged at run time.
        if (!(err instanceof TemplateError)) throw err;
      }
    }
    if (r.storeAs !== undefined) {
      r.test.storeOutputAs = { name: r.storeAs, ...(r.transform === undefined ? {} : { transform: r.transform }), suiteDir: r.suiteDir };
      if (!latest.has(scope)) latest.set(scope, new Map());
      latest.get(scope)!.set(r.storeAs, r.test.id);
    }
    earlier.push(r.test.id);
  });
}
