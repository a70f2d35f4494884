// Loads a suite file into a Suite. The file is parsed (within the limits of
// .agentv/config.yaml), its dialect detected from its keys and translated into one Draft
// (model.ts), and the Draft validated, expanded and rendered here. Every problem of the
// suite — prompts, tests files, tests, assertions — is collected and thrown at once as
// SUITE_INVALID with its file, line and test id; nothing here runs a test.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import { AgentvError } from '../../errors.js';
import { lazyRequire } from '../../lazy-require.js';
import { DEFAULT_PROMPT, DefaultTestInput, SuiteTestInput, type SuiteProblemCode } from '../../schemas/suite.js';
import { quickTestInput } from '../../schemas/suite-check.js';
import { TemplateError, checkTemplate, isChatMessages, renderPromptTemplate } from '../template.js';
import type { AssertionSpec, ChatMessage, Prompt, Suite, SuiteTest } from '../types.js';
import { usesGrader } from '../assertions/normalise.js';
import { normaliseAssertion, parseAssertionList, type SourcedAssertion } from './assertion-specs.js';
import { agentvEvalDraft, looksLikeAgentvEval, messagesOf } from './dialect-agentv.js';
import { PROMPTFOO_ONLY_KEYS, promptfooDraft } from './dialect-promptfoo.js';
import { expandRef, placeInRepo, escapesViaLink, realpathOrNull, toPosix, type Repo } from './files.js';
import { IdAllocator, deriveTestId } from './ids.js';
import { linkRuntimeVars, type TestRecipe } from './runtime-deps.js';
import type { Draft, Located } from './model.js';
import { Problems, formatPath, type LineOf, type PathSeg } from './problems.js';
import type { RawTest } from './tests-files.js';
import { takeExecution } from './test-execution.js';
import { discoverCustomKinds, fromAgentvCli } from './assertion-dialect.js';
import { parseYaml, readLimitedFile, readLimits, textOf } from './yaml-source.js';

const dotenv = lazyRequire<typeof import('dotenv')>('dotenv');

/** promptfoo test keys read here besides agentv's own test fields. */
const OPTION_KEYS = ['prefix', 'suffix', 'provider', 'transform', 'storeOutputAs', 'runSerially', 'disableVarExpansion', 'disableConversationVar'];

function testIdOf(raw: unknown): string | undefined {
  const id = raw !== null && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id !== '' ? id : typeof id === 'number' && Number.isInteger(id) ? String(id) : undefined;
}

/** Resolves promptfoo's `{$ref: '#/assertionTemplates/name'}` items in an assertion list. */
function resolveRefs(list: unknown, templates: Record<string, unknown>, where: { file: string; lineOf: LineOf; at: PathSeg[] }, problems: Problems): unknown {
  if (!Array.isArray(list)) return list;
  return list.map((item, i) => {
    if (item === null || typeof item !== 'object' || !('$ref' in item)) return item;
    const { $ref, ...rest } = item as { $ref: unknown };
    const name = typeof $ref === 'string' ? /^#\/assertionTemplates\/(.+)$/.exec($ref)?.[1] : undefined;
    const found = name === undefined ? undefined : templates[name];
    if (found === undefined || found === null || typeof found !== 'object') {
      problems.add({ code: 'invalid_assertion', file: where.file, line: where.lineOf([...where.at, i]), message: `${formatPath([...where.at, i])}: $ref ${String($ref)} names no entry of assertionTemplates` });
      return { type: 'equals', value: '' }; // reported; keeps the rest of the list checkable
    }
    return { ...(found as object), ...rest };
  });
}

/** `negate: true` on an assertion (agentv 5.x) is agentv's `not-` prefix. */
function negated(list: unknown): unknown {
  if (!Array.isArray(list)) return list;
  return list.map((a) => {
    if (a === null || typeof a !== 'object' || (a as { negate?: unknown }).negate === undefined) return a;
    const { negate, ...rest } = a as { negate: unknown; type?: unknown };
    if (negate !== true || typeof rest.type !== 'string') return negate === false ? rest : a;
    return { ...rest, type: rest.type.startsWith('not-') ? rest.type.slice(4) : `not-${rest.type}` };
  });
}

/** agentv 5.x test spellings in the promptfoo-aligned shape: negated assertions, conversation_id (content parts: withContentParts). */
function agentv5Test(raw: RawTest): Record<string, unknown> {
  const t = { ...(raw.raw as Record<string, unknown>) };
  if (t.assert !== undefined) t.assert = negated(t.assert);
  if (t.conversation_id !== undefined) {
    t.metadata = Object.assign({}, t.metadata as Record<string, unknown> | undefined, { conversation_id: t.conversation_id });
    delete t.conversation_id;
  }
  return t;
}

/** Chat messages in vars.input whose content is a list of parts (agentv 5.x). */
function hasContentParts(t: Record<string, unknown>): boolean {
  const vars = t.vars as Record<string, unknown> | undefined;
  return !!vars && Array.isArray(vars.input) && vars.input.some((m) => m && typeof m === 'object' && Array.isArray((m as { content?: unknown }).content));
}

/** The test with its content parts read into messages (files they name are read: the one step that waits). */
async function withContentParts(t: Record<string, unknown>, raw: RawTest, ctx: { repo: Repo; limits: NonNullable<Suite['limits']>; problems: Problems; bytes: Buffer[] }) {
  const vars = t.vars as Record<string, unknown> & { input: unknown[] };
  const from = nodePath.dirname(nodePath.resolve(ctx.repo.repoDir, raw.file));
  return Object.assign(t, { vars: Object.assign({}, vars, { input: await messagesOf(ctx, vars.input, from, raw.file, raw.lineOf, ['vars', 'input']) }) });
}

/** A var that names a file to read (`file://...`): loadVarFiles reads it. */
const isFileVar = (v: unknown): v is string => typeof v === 'string' && v.startsWith('file://');
const hasFileVars = (vars: Record<string, unknown>) => Object.values(vars).some(isFileVar);

/** Splits promptfoo's extra test keys off a raw test; reports what is not supported. */
function splitOptions(raw: Record<string, unknown>, where: { file: string; lineOf: LineOf; at: PathSeg[]; testId?: string }, problems: Problems) {
  const { options, assertScoringFunction, provider, providers, prompts, ...rest } = raw;
  const add = (code: SuiteProblemCode, path: PathSeg[], message: string) =>
    problems.add({ code, file: where.file, line: where.lineOf([...where.at, ...path]), test_id: where.testId, message: `${formatPath([...where.at, ...path])}: ${message}` });
  for (const [k, v] of [['provider', provider], ['providers', providers], ['prompts', prompts]] as const) {
    if (v !== undefined) add('unsupported', [k], `choosing ${k} per test is not supported (a run has one target; use --test-id or split the suite)`);
  }
  const out: { prefix?: string; suffix?: string; grader?: { id: string; label?: string; config?: Record<string, unknown>; where: string }; scoring?: string; transform?: string; storeAs?: string; disableConversationVar?: boolean } = {};
  if (typeof assertScoringFunction === 'string') out.scoring = assertScoringFunction;
  else if (assertScoringFunction !== undefined) add('invalid', ['assertScoringFunction'], 'assertScoringFunction is a file:// reference or an inline function body');
  if (options !== undefined) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) add('invalid', ['options'], 'options is a mapping');
    else
      for (const [k, v] of Object.entries(options)) {
        if (!OPTION_KEYS.includes(k)) add('invalid', ['options', k], `unknown test option "${k}" (${OPTION_KEYS.join(', ')})`);
        else if (k === 'prefix' || k === 'suffix') out[k] = String(v);
        else if (k === 'provider') {
          const o = (v && typeof v === 'object' ? v : { id: v }) as { id?: unknown; label?: unknown; config?: unknown };
          const line = where.lineOf([...where.at, 'options', k]);
          if (typeof o.id !== 'string' || o.id === '') add('invalid', ['options', k], 'options.provider names the grader: a target name, an inline form, or {id, label, config}');
          else out.grader = { id: o.id, ...(typeof o.label === 'string' ? { label: o.label } : {}), ...(o.config && typeof o.config === 'object' ? { config: o.config as Record<string, unknown> } : {}), where: `${where.file}:${line ?? '?'}` };
        } else if (k === 'transform') {
          if (typeof v === 'string' && v.trim() !== '') out.transform = v;
          else add('invalid', ['options', k], 'options.transform is javascript run on the output: an expression, a function body, or file://x.js[:fn]');
        }
        else if (k === 'storeOutputAs') {
          if (typeof v === 'string' && /^[A-Za-z_$][\w$]*$/.test(v) && v !== '_conversation' && v !== 'vars') out.storeAs = v;
          else add('invalid', ['options', k], 'options.storeOutputAs names the var that holds this test\'s output for later tests: a name like favoriteFruit (not vars or _conversation)');
        } else if (k === 'disableConversationVar') {
          if (typeof v === 'boolean') out.disableConversationVar = v;
          else add('invalid', ['options', k], 'options.disableConversationVar is true or false');
        }
        else if (k === 'runSerially') problems.warn(where.file, where.lineOf([...where.at, 'options', k]), 'options.runSerially: use --workers 1');
        else if (v) add('unsupported', ['options', k], `options.${k} is not supported`);
      }
  }
  return { rest, options: out };
}

/** promptfoo's cartesian product: every array var becomes one test per element. */
function expandVars(vars: Record<string, unknown>): Record<string, unknown>[] {
  let combos: Record<string, unknown>[] = [{}];
  for (const [k, v] of Object.entries(vars)) {
    const spread = Array.isArray(v) && k !== '_conversation' && !(k === 'input' && isChatMessages(v)) && v.length > 0;
    const values = spread ? (v as unknown[]) : [v];
    combos = combos.flatMap((c) => values.map((x) => ({ ...c, [k]: x })));
  }
  return combos;
}

/** Vars given as `file://path` are read (text, or parsed .json/.yaml), relative to the file that names them. */
async function loadVarFiles(o: { vars: Record<string, unknown>; from: string; file: string; lineOf: LineOf; at: PathSeg[]; repo: Repo; limits: NonNullable<Suite['limits']>; problems: Problems; bytes: Buffer[]; testId?: string }) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o.vars)) {
    if (!isFileVar(v)) {
      out[k] = v;
      continue;
    }
    const line = o.lineOf([...o.at, k]);
    const ext = nodePath.extname(v).toLowerCase();
    if (['.js', '.mjs', '.cjs', '.ts', '.py'].includes(ext)) {
      o.problems.add({ code: 'unsupported', file: o.file, line, test_id: o.testId, message: `vars.${k}: vars computed by code (${v}) are not supported; write the value or a text/JSON/YAML file` });
      continue;
    }
    const { files, escaped } = await expandRef(o.repo, o.from, v);
    if (escaped || files.length === 0) {
      o.problems.add({ code: escaped ? 'outside_repo' : 'tests_file', file: o.file, line, test_id: o.testId, message: `vars.${k}: ${v} ${escaped ? 'is outside the repository' : 'not found'}` });
      continue;
    }
    const values: unknown[] = [];
    for (const f of files) {
      const bytes = await readLimitedFile({ abs: f.abs, file: f.rel, what: `vars.${k} file`, problems: o.problems, limits: o.limits, line, reportIn: o.file });
      if (!bytes) continue;
      o.bytes.push(bytes);
      const text = textOf(bytes);
      const fext = nodePath.extname(f.abs).toLowerCase();
      if (fext === '.json' || fext === '.yaml' || fext === '.yml') {
        const src = parseYaml({ text, file: f.rel, problems: o.problems, limits: o.limits, code: fext === '.json' ? 'json_syntax' : 'yaml_syntax' });
        values.push(src?.data);
      } else values.push(text);
    }
    // A glob names several files: promptfoo makes one test per file.
    out[k] = files.length > 1 ? values : values[0];
  }
  return out;
}

/** `.env` next to the suite and at the repository root (the suite's wins); never overrides set variables. */
async function readDotenv(dirs: string[]): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const dir of [...new Set(dirs)].reverse()) {
    try {
      const text = await fsp.readFile(nodePath.join(dir, '.env'));
      Object.assign(env, dotenv().parse(text));
    } catch {
      /* no .env here */
    }
  }
  return env;
}

/**
 * Loads and validates a suite. `path` is absolute or relative to `repoDir`, and must stay
 * inside the repository. Throws SUITE_NOT_FOUND for a missing file and SUITE_INVALID with
 * every problem found (`data.problems`: `{code, file, line?, test_id?, message}`).
 *
 * With more than one prompt every test runs once per prompt, and its ids become
 * `<id>:p1`, `<id>:p2`, ... (1-based, in the order of `prompts`); with one prompt the id
 * is the test's own. `evaluateOptions.repeat: N` adds `<id>#2` ... `<id>#N`.
 * @example const suite = await loadSuite({ path: 'evals/triage.yaml', repoDir: '/src/app' });
 */
export async function loadSuite({ path, repoDir }: { path: string; repoDir: string }): Promise<Suite> {
  const repo: Repo = { repoDir, repoReal: (await realpathOrNull(repoDir)) ?? nodePath.resolve(repoDir) };
  const limits = await readLimits({ repoDir });
  const problems = new Problems();
  const placed = placeInRepo(repo, repoDir, path);
  if (!placed || (await escapesViaLink(repo, placed.abs))) {
    problems.add({ code: 'outside_repo', file: toPosix(path), message: 'the suite file must be inside the repository' });
    problems.throwIfAny(toPosix(path));
  }
  const { abs, rel } = placed!;
  try {
    await fsp.stat(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new AgentvError('SUITE_NOT_FOUND', `suite file ${rel} not found`, { file: rel });
  }
  const bytes = await readLimitedFile({ abs, file: rel, what: 'suite file', problems, limits });
  problems.throwIfAny(rel);
  const hash = createHash('sha256').update(bytes!);
  const src = parseYaml({ text: textOf(bytes!), file: rel, problems, limits });
  problems.throwIfAny(rel);
  const { data, lineOf } = src!;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    problems.add({ code: 'invalid', file: rel, line: 1, message: 'a suite file must be a YAML mapping (name, prompts, tests, ...)' });
    problems.throwIfAny(rel);
  }
  const top = data as Record<string, unknown>;
  const suite = { abs, rel, lineOf };
  const extra: Buffer[] = [];
  const ctx = { repo, limits, problems, bytes: extra };
  const dialect = looksLikeAgentvEval(top)
    ? 'agentv-eval'
    : /promptfooconfig/i.test(nodePath.basename(abs)) || Object.keys(top).some((k) => PROMPTFOO_ONLY_KEYS.includes(k))
      ? 'promptfoo'
      : 'agentv';
  const draft: Draft = dialect === 'agentv-eval' ? await agentvEvalDraft({ ...ctx, top, suite }) : await promptfooDraft({ ...ctx, top, suite, dialect });
  const env = { ...(await readDotenv([nodePath.dirname(abs), repoDir])), ...draft.env };

  // default test and suite-level assertions
  const customKinds = draft.dialect === 'agentv' ? new Map<string, string>() : await discoverCustomKinds({ repoDir, suiteAbs: abs });
  const cliKinds = (list: unknown) => fromAgentvCli(list, { dialect: draft.dialect, customKinds });
  const def = draft.defaultTest;
  let defTest: DefaultTestInput = {};
  let defOptions: ReturnType<typeof splitOptions>['options'] = {};
  const shared: SourcedAssertion[] = [];
  if (def) {
    const split = splitOptions(def.value, def, problems);
    defOptions = split.options;
    const { assert, ...fields } = split.rest;
    const r = DefaultTestInput.safeParse(fields);
    if (r.success) defTest = r.data;
    else problems.addZod(r.error, { file: def.file, lineOf: def.lineOf, at: def.at, feature: 'defaultTest' });
    const where = { file: def.file, lineOf: def.lineOf, at: [...def.at, 'assert'] };
    shared.push(...parseAssertionList({ ...where, list: cliKinds(negated(resolveRefs(assert, draft.assertionTemplates, where, problems))), problems }));
  }
  // The suite-level list, which a test's `execution.skip_defaults` leaves out.
  const rootShared: SourcedAssertion[] = [];
  if (draft.assert) {
    const a: Located = draft.assert;
    rootShared.push(...parseAssertionList({ file: a.file, lineOf: a.lineOf, at: a.at, list: cliKinds(negated(resolveRefs(a.value, draft.assertionTemplates, a, problems))), problems }));
  }

  // tests: validate, load var files, expand, then ids
  interface Valid {
    t: SuiteTestInput;
    raw: RawTest;
    explicitId?: string;
    own: SourcedAssertion[];
    options: ReturnType<typeof splitOptions>['options'];
    varsList: Record<string, unknown>[];
    skipDefaults: boolean;
  }
  const valid: Valid[] = [];
  const firstLine = new Map<string, number | undefined>();
  for (const raw of draft.tests) {
    const testId = testIdOf(raw.raw);
    const line = raw.lineOf([]);
    if (raw.raw === null || typeof raw.raw !== 'object' || Array.isArray(raw.raw)) {
      problems.add({ code: 'invalid', file: raw.file, line, message: 'a test must be a mapping (vars, assert, ...)' });
      continue;
    }
    const where = { file: raw.file, lineOf: raw.lineOf, at: [] as PathSeg[], testId };
    // A test with nothing to read from files is loaded without awaiting (10,000 awaits are ~10 % of loading 10,000 tests).
    let t5 = agentv5Test(raw);
    if (hasContentParts(t5)) t5 = await withContentParts(t5, raw, ctx);
    const { skipDefaults } = takeExecution({ t: t5, raw, problems, testId });
    const { rest, options } = splitOptions(t5, where, problems);
    const { assert, ...fields } = rest;
    const quick = quickTestInput(fields);
    const r = quick ? ({ success: true, data: quick } as const) : SuiteTestInput.safeParse(fields);
    if (!r.success) problems.addZod(r.error, { ...where, feature: 'a test' });
    const aWhere = { file: raw.file, lineOf: raw.lineOf, at: ['assert'] as PathSeg[] };
    const own = parseAssertionList({ testId, ...aWhere, list: cliKinds(negated(resolveRefs(assert, draft.assertionTemplates, aWhere, problems))), problems });
    const id = r.success ? r.data.id : testId;
    if (id !== undefined) {
      if (firstLine.has(id)) {
        const first = firstLine.get(id);
        problems.add({ code: 'duplicate_id', file: raw.file, line: raw.lineOf(['id']), test_id: id, first_line: first, message: `duplicate test id "${id}" (first used at line ${first ?? '?'})` });
        continue;
      }
      firstLine.set(id, raw.lineOf(['id']));
    }
    if (!r.success) continue;
    const t = r.data;
    const input = t.vars?.input !== undefined ? t.vars.input : defTest.vars?.input;
    if (Array.isArray(input)) {
      const ownInput = t.vars?.input !== undefined;
      input.forEach((m: ChatMessage, i) => {
        const at = ['vars', 'input', i, 'content'];
        const w = ownInput ? { file: raw.file, line: raw.lineOf(at) } : { file: def!.file, line: def!.lineOf([...def!.at, ...at]) };
        for (const message of checkTemplate({ template: m.content })) problems.add({ code: 'unsupported', ...w, test_id: id, message });
      });
    }
    const merged = Object.assign({}, defTest.vars, t.vars);
    const loaded = hasFileVars(merged)
      ? await loadVarFiles({ vars: merged, from: nodePath.dirname(nodePath.resolve(repoDir, raw.file)), file: raw.file, lineOf: raw.lineOf, at: ['vars'], repo, limits, problems, bytes: extra, testId: id })
      : merged;
    const varsList = draft.expandVarArrays ? expandVars(loaded) : [loaded];
    if (options.grader && options.grader.id !== defOptions.grader?.id) {
      problems.add({ code: 'unsupported', file: raw.file, line: raw.lineOf(['options', 'provider']), test_id: id, message: 'options.provider on one test: a run has one grader; set it in defaultTest.options.provider or pass --grader' });
    }
    valid.push({ t, raw, ...(id === undefined ? {} : { explicitId: id }), own, options, varsList, skipDefaults });
  }
  for (const b of extra) hash.update(b);
  problems.throwIfAny(rel);

  const prompts = draft.prompts ?? [{ template: DEFAULT_PROMPT, file: rel }];
  const suiteDir = nodePath.posix.dirname(rel) === '.' ? '' : nodePath.posix.dirname(rel);
  const ids = new IdAllocator(valid.flatMap((v) => (v.explicitId === undefined ? [] : [v.explicitId])));
  const tests: SuiteTest[] = [];
  const recipes: TestRecipe[] = [];
  const grader = defOptions.grader;
  for (const v of valid) {
    const { t } = v;
    const description = t.description ?? defTest.description;
    v.varsList.forEach((vars, vi) => {
      const baseId =
        v.explicitId !== undefined
          ? v.varsList.length > 1
            ? ids.next(`${v.explicitId}:v${vi + 1}`)
            : v.explicitId
          : ids.next(deriveTestId({ ...(description === undefined ? {} : { description }), vars }));
      let assertions: AssertionSpec[];
      try {
        assertions = [...shared, ...(v.skipDefaults ? [] : rootShared), ...v.own].map((s) => normaliseAssertion(s, vars, baseId, problems, suiteDir));
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        problems.add({ code: 'invalid', file: v.raw.file, line: v.raw.lineOf(['assert']), test_id: baseId, message: `assertion ${err.message}` });
        return;
      }
      // promptfoo's options.transform rewrites the output before every assertion of the test:
      // each assertion sees it through that transform (in the same time-limited sandbox).
      const transform = v.options.transform ?? defOptions.transform;
      if (transform !== undefined) {
        if (assertions.some((a) => a.transform !== undefined)) {
          problems.add({ code: 'unsupported', file: v.raw.file, line: v.raw.lineOf(['options', 'transform']), test_id: baseId, message: 'options.transform together with an assertion that has its own transform is not supported: put the whole transform on one of them' });
          return;
        }
        assertions = assertions.map((a) => Object.assign({}, a, { transform }));
      }
      const threshold = t.threshold ?? defTest.threshold ?? draft.threshold;
      const scoring = v.options.scoring ?? defOptions.scoring;
      const affix = { prefix: v.options.prefix ?? defOptions.prefix, suffix: v.options.suffix ?? defOptions.suffix };
      prompts.forEach((p, pi) => {
        const id = prompts.length > 1 ? `${baseId}:p${pi + 1}` : baseId;
        let prompt: Prompt;
        try {
          prompt = renderPromptTemplate({ template: p.template, vars, affix, ...(p.chatJson ? { chatJson: true } : {}) });
        } catch (err) {
          if (!(err instanceof TemplateError)) throw err;
          problems.add({ code: 'invalid', file: p.file, line: p.line, test_id: id, message: `prompt ${err.message}` });
          return;
        }
        for (let rep = 1; rep <= draft.repeat; rep++) {
          const test: SuiteTest = {
            // Unique ids stay unique: `:p<digits>` splits off the last `:p` unambiguously.
            id: rep === 1 ? id : `${id}#${rep}`,
            ...(description === undefined ? {} : { description }),
            vars,
            prompt,
            assertions,
            ...(threshold === undefined ? {} : { threshold }),
            metadata: Object.assign({}, defTest.metadata, t.metadata),
            tags: [...new Set([...(defTest.tags ?? []), ...(t.tags ?? [])])],
            ...(scoring === undefined ? {} : { assertScoringFunction: repoRelativeRef(scoring, suiteDir) }),
            ...(rep === 1 ? {} : { repeat: rep }),
          };
          tests.push(test);
          const storeAs = v.options.storeAs ?? defOptions.storeAs;
          recipes.push({
            test, template: p.template, affix, ...(p.chatJson ? { chatJson: true } : {}), written: [...shared, ...v.own], ...(transform === undefined ? {} : { transform }),
            promptIndex: pi, repeat: rep, ...(storeAs === undefined ? {} : { storeAs }),
            disableConversationVar: v.options.disableConversationVar ?? defOptions.disableConversationVar ?? false,
            ...(v.raw.scope === undefined ? {} : { scope: v.raw.scope }), suiteDir, file: v.raw.file, line: v.raw.lineOf([]),
          });
        }
      });
    });
  }
  linkRuntimeVars(recipes, problems);
  problems.throwIfAny(rel);

  return {
    // promptfoo configs are all called promptfooconfig.yaml: their folder names them.
    name: draft.name ?? (/^promptfooconfig\./i.test(nodePath.basename(abs)) ? nodePath.basename(nodePath.dirname(abs)) : nodePath.basename(abs).replace(/(\.eval)?\.ya?ml$/i, '')),
    ...(draft.description === undefined ? {} : { description: draft.description }),
    path: rel,
    absPath: abs,
    hash: hash.digest('hex'),
    tests,
    needsGrader: tests.some((t) => t.assertions.some(usesGrader)),
    warnings: problems.warnings,
    dialect: draft.dialect,
    providers: draft.providers.map(({ id, label, config, file, line }) => ({ id, ...(label ? { label } : {}), ...(config ? { config } : {}), where: `${file}:${line ?? '?'}` })),
    ...(grader === undefined ? {} : { grader }),
    ...(draft.maxConcurrency === undefined ? {} : { maxConcurrency: draft.maxConcurrency }),
    ...(draft.delayMs === undefined ? {} : { delayMs: draft.delayMs }),
    derivedMetrics: draft.derivedMetrics,
    ...(draft.testTargets?.length ? { testTargets: draft.testTargets } : {}),
    env,
    limits,
  };
}

/** A `file://x.js[:fn]` written relative to the suite, as the graders take it: relative to the repository root. */
function repoRelativeRef(ref: string, suiteDir: string): string {
  if (!ref.startsWith('file://')) return ref;
  const p = ref.slice('file://'.length);
  return nodePath.posix.isAbsolute(p) ? ref : `file://${nodePath.posix.join(suiteDir, p)}`;
}
