// Values a test can only know at run time: promptfoo's `options.storeOutputAs` (an earlier
// test's output as a var) and `_conversation` (the earlier turns of the same conversation).
// The loader (suite/runtime-deps.ts) links each such test to the tests it reads and renders
// it with placeholders, so its input_hash is fixed when planning; here the runner renders
// the real prompt, vars and assertions just before the test runs, from the outputs of this
// run and of the rows a resumed run already has.
import { AgentvError } from '../errors.js';
import type { PlannedTest } from '../schemas/manifest.js';
import type { Row } from '../schemas/row.js';
import { normaliseAssertion } from './assertions/normalise.js';
import { renderPromptTemplate, renderTemplate, templateNames, TemplateError } from './template.js';
import type { WorkItem } from './runner.js';
import type { AssertionSpec, Prompt, SuiteTest } from './types.js';

/** One earlier turn, as promptfoo's `_conversation` holds it. */
export interface Completion {
  /** The prompt sent: chat messages, parsed JSON, or text. */
  prompt: unknown;
  /** The last user message (or the whole text prompt). */
  input: unknown;
  output: string;
}

export const CONVERSATION_VAR = '_conversation';

/** The tests whose outputs this test reads (they run first). */
export function dependenciesOf(test: SuiteTest): string[] {
  const r = test.runtime;
  return r ? [...new Set([...Object.values(r.stored), ...(r.conversation ?? [])])] : [];
}

/**
 * The test rendered with run-time values: stored outputs join its vars (over its own, as in
 * promptfoo), a var whose text reads one of them is rendered first, then the prompt and the
 * assertions. Throws TemplateError when something cannot render.
 */
export function renderRuntime(test: SuiteTest, values: { stored: Record<string, unknown>; conversation?: Completion[] }): { prompt: Prompt; vars: Record<string, unknown>; assertions: AssertionSpec[] } {
  const r = test.runtime!;
  const names = new Set([...Object.keys(values.stored), ...(r.conversation ? [CONVERSATION_VAR] : [])]);
  const context: Record<string, unknown> = { ...test.vars, ...values.stored, ...(r.conversation ? { [CONVERSATION_VAR]: values.conversation ?? [] } : {}) };
  const vars: Record<string, unknown> = { ...test.vars, ...values.stored };
  const render = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (err instanceof TemplateError) throw new TemplateError(`${what} ${err.message}`);
      throw err;
    }
  };
  for (const [k, v] of Object.entries(test.vars)) {
    if (typeof v === 'string' && [...templateNames({ template: v })].some((n) => names.has(n))) vars[k] = render(`vars.${k}`, () => renderTemplate({ template: v, vars: context }));
  }
  const full = { ...context, ...vars };
  const prompt = render('prompt', () => renderPromptTemplate({ template: r.template, vars: full, affix: r.affix, ...(r.chatJson ? { chatJson: true } : {}) }));
  const problems: string[] = [];
  let assertions = r.assertions.map((s) =>
    normaliseAssertion({ assertion: s.a, vars: full, at: s.at, suiteDir: r.suiteDir, report: (at, m) => problems.push(`${at.join('.')}: ${m}`) }),
  );
  if (problems.length) throw new TemplateError(`assertion ${problems.join('; ')}`);
  if (r.transform !== undefined) assertions = assertions.map((a) => ({ ...a, transform: r.transform }));
  return { prompt, vars, assertions };
}

/** What the dry run and the input_hash see: each run-time value named by the test it comes from. */
export function placeholderValues(test: SuiteTest): { stored: Record<string, unknown>; conversation?: Completion[] } {
  const r = test.runtime!;
  return {
    stored: Object.fromEntries(Object.entries(r.stored).map(([name, id]) => [name, `[run time: output of test ${id}]`])),
    ...(r.conversation && {
      conversation: r.conversation.map((id) => ({ prompt: `[run time: prompt of test ${id}]`, input: `[run time: input of test ${id}]`, output: `[run time: output of test ${id}]` })),
    }),
  };
}

/** promptfoo's turn record: a chat prompt (or a text prompt that is JSON) keeps its shape, `input` is its last message. */
export function completionOf(prompt: Prompt, output: string): Completion {
  let shaped: unknown = prompt;
  if (typeof prompt === 'string' && /^\s*[[{]/.test(prompt)) {
    try {
      shaped = JSON.parse(prompt);
    } catch {
      shaped = prompt;
    }
  } else if (typeof prompt !== 'string') shaped = prompt.map((m) => ({ role: m.role, content: m.content }));
  if (Array.isArray(shaped) && shaped.length > 0) {
    const last = shaped[shaped.length - 1] as { content?: unknown } | unknown;
    const content = last !== null && typeof last === 'object' && 'content' in last ? (last as { content: unknown }).content : last;
    return { prompt: shaped, input: content ?? prompt, output };
  }
  return { prompt: typeof shaped === 'string' || shaped === null || typeof shaped !== 'object' ? prompt : shaped, input: prompt, output };
}

/** A selection (--test-id, --tag) that leaves out a test whose output a selected test reads is refused. */
export function requireProducers(tests: SuiteTest[]): void {
  const selected = new Set(tests.map((t) => t.id));
  const missing = tests.flatMap((t) => dependenciesOf(t).filter((d) => !selected.has(d)).map((d) => `${t.id} reads the output of ${d}`));
  if (missing.length) {
    const list = [...new Set(missing)].slice(0, 10).join('; ');
    throw new AgentvError('USAGE', `the selected tests read outputs of tests that are not selected (storeOutputAs or _conversation): ${list}; select those tests too`, { missing });
  }
}

/** Thrown when a test cannot be rendered because a value it reads does not exist. */
export class RuntimeValueError extends Error {}

/**
 * The run-time values of one run. Outputs come from the rows a resumed run already has and
 * from each test as it finishes; a test's stored value is its output through its transform.
 */
export class RuntimeVars {
  private readonly byId: Map<string, SuiteTest>;
  private readonly outputs = new Map<string, string | null>();
  private readonly sent = new Map<string, Prompt>();
  private readonly storedValues = new Map<string, Promise<string>>();
  private readonly completions = new Map<string, Completion>();

  constructor(
    tests: SuiteTest[],
    rows: Iterable<Row>,
    private readonly transform: (test: SuiteTest, output: string, store: NonNullable<SuiteTest['storeOutputAs']>) => Promise<string>,
  ) {
    this.byId = new Map(tests.map((t) => [t.id, t]));
    for (const row of rows) this.outputs.set(row.test_id, row.output ?? null);
  }

  /** True when some test stores its output or reads a run-time value. */
  static used(tests: SuiteTest[]): boolean {
    return tests.some((t) => t.runtime !== undefined || t.storeOutputAs !== undefined);
  }

  /** The test as it runs. Throws RuntimeValueError when a test it reads has no output, TemplateError when it cannot render. */
  async resolve(test: SuiteTest): Promise<SuiteTest> {
    const r = test.runtime;
    if (!r) return test;
    const stored: Record<string, unknown> = {};
    for (const [name, id] of Object.entries(r.stored)) stored[name] = await this.storedValue(id, `${name} (options.storeOutputAs)`);
    const conversation: Completion[] = [];
    for (const id of r.conversation ?? []) {
      let turn = this.completions.get(id);
      if (!turn) this.completions.set(id, (turn = completionOf(await this.promptOf(id), this.outputOf(id, 'an earlier turn of its conversation'))));
      conversation.push(turn);
    }
    const { prompt, vars, assertions } = renderRuntime(test, { stored, ...(r.conversation ? { conversation } : {}) });
    return { ...test, prompt, vars, assertions };
  }

  /** A test finished (or failed) in this run with this prompt and output. */
  finished(testId: string, prompt: Prompt, output: string | null): void {
    this.outputs.set(testId, output);
    this.sent.set(testId, prompt);
    this.storedValues.delete(testId);
    this.completions.delete(testId);
  }

  private outputOf(id: string, what: string): string {
    const output = this.outputs.get(id);
    if (output === undefined || output === null) {
      throw new RuntimeValueError(`not run: it reads ${what}, the output of test ${id}, which has ${this.outputs.has(id) ? 'no output (it failed)' : 'not run'}`);
    }
    return output;
  }

  private storedValue(id: string, what: string): Promise<string> {
    const output = this.outputOf(id, what);
    let value = this.storedValues.get(id);
    if (!value) {
      const sent = this.sent.get(id);
      const test = { ...this.byId.get(id)!, ...(sent === undefined ? {} : { prompt: sent }) };
      const store = test.storeOutputAs!;
      value = store.transform === undefined ? Promise.resolve(output) : this.transform(test, output, store);
      this.storedValues.set(id, value);
    }
    return value.catch((err: Error) => {
      throw new RuntimeValueError(`not run: options.transform of test ${id} failed on its output (${what}): ${err.message}`);
    });
  }

  /** The prompt a test was sent: recorded in this run, or rendered again from the outputs it read. */
  private async promptOf(id: string): Promise<Prompt> {
    const known = this.sent.get(id);
    if (known !== undefined) return known;
    const test = this.byId.get(id)!;
    const prompt = test.runtime ? (await this.resolve(test)).prompt : test.prompt;
    this.sent.set(id, prompt);
    return prompt;
  }
}

/**
 * A resume re-runs a test whose producer (a test it reads) is re-run: its input is what that
 * producer answers now. One pass in suite order is enough, since tests read earlier tests only.
 */
export function rerunDependents<P extends { items: WorkItem[]; planned: PlannedTest[]; carried: Row[]; done: number; summary: string; mode: string }>(plan: P, tests: SuiteTest[], rows: Row[]): P {
  if (!tests.some((t) => t.runtime)) return plan;
  // A re-grade keeps its output, so what its readers were sent still holds: only calls count.
  const running = new Set(plan.items.filter((i) => !i.stored).map((i) => i.test.id));
  const added = new Set<string>();
  for (const t of tests) {
    if (!running.has(t.id) && dependenciesOf(t).some((d) => running.has(d))) {
      running.add(t.id);
      added.add(t.id);
    }
  }
  if (added.size === 0) return plan;
  const attempts = new Map<string, number>();
  for (const r of rows) attempts.set(r.test_id, Math.max(attempts.get(r.test_id) ?? 0, r.attempt));
  const keys = new Map(plan.planned.map((p) => [p.test_id, p]));
  const existing = new Map(plan.items.map((i) => [i.test.id, i]));
  const items = tests
    .filter((t) => running.has(t.id) || existing.has(t.id))
    .map((t): WorkItem => existing.get(t.id) ?? { test: t, planned: keys.get(t.id)!, attempt: plan.mode === 'retry_errors' ? 1 : (attempts.get(t.id) ?? 0) + 1 });
  return {
    ...plan,
    items,
    carried: plan.carried.filter((r) => !added.has(r.test_id)),
    done: plan.done - added.size,
    summary: `${plan.summary.replace(/\d+ done, (\d+ to re-grade, )?\d+ to run/, (_m, regrade: string | undefined) => `${plan.done - added.size} done, ${regrade ?? ''}${items.filter((i) => !i.stored).length} to run`)}; ${added.size} finished test(s) run again: a test whose output they read runs again`,
  };
}
