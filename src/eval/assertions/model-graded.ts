// Kinds judged by the grader target (an LLM): promptfoo's llm-rubric (with its own
// `rubricPrompt`), model-graded-closedqa, factuality, answer-relevance and g-eval, and
// agentv's llm-grader (with a prompt file and its own target) and rubrics. Each asks for a
// JSON answer and reads it leniently; a grader that fails or answers nothing readable is
// a GradingError (the test is re-gradable), never a silent fail.
import { readFile } from 'node:fs/promises';
import { promptToText } from '../suite.js';
import { renderTemplate } from '../template.js';
import type { AssertionSpec, ChatMessage, Target } from '../types.js';
import { AGENTV_PASS_SCORE, promptFromCommand, resolveFromSuite } from './code.js';
import type { GradeContext } from './context.js';
import { jsonObjectCandidates, parseGraderAnswer, rubricPrompt } from './llm-rubric.js';
import { clamp01, GradingError, type Verdict } from './verdict.js';

const JSON_ONLY = 'Answer with only a JSON object, no other text:';

/** The grader for this assertion: its own `provider`/`target`, else the run's. */
export function graderFor(spec: AssertionSpec, ctx: GradeContext): Target {
  const named = spec.provider ?? (typeof spec.options?.target === 'string' ? spec.options.target : undefined);
  if (named !== undefined) {
    if (!ctx.resolveGrader) throw new GradingError(`cannot use grader "${named}" here`);
    try {
      return ctx.resolveGrader(named);
    } catch (err) {
      throw new GradingError(`grader "${named}": ${(err as Error).message}`);
    }
  }
  if (!ctx.grader) throw new GradingError('no grader configured');
  return ctx.grader;
}

async function ask(spec: AssertionSpec, ctx: GradeContext, prompt: ChatMessage[] | string): Promise<string> {
  const grader = graderFor(spec, ctx);
  try {
    const r = await grader.call({ prompt, promptText: promptToText({ prompt }), testId: ctx.test.id, vars: ctx.test.vars, signal: ctx.signal });
    return r.output;
  } catch (err) {
    throw new GradingError(`grader failed: ${(err as Error).message}`);
  }
}

/** The first JSON object in a grader's answer (code fences and prose tolerated). */
function firstJson(text: string): Record<string, unknown> | null {
  let tried = 0;
  for (const candidate of jsonObjectCandidates(text)) {
    // Bounded, so a huge brace-heavy answer cannot stall grading.
    if (tried++ >= 100) break;
    try {
      const v: unknown = JSON.parse(candidate);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // the next balanced span
    }
  }
  return null;
}

function unreadable(answer: string, wanted: string): GradingError {
  const shown = answer.length > 200 ? `${answer.slice(0, 200)}…` : answer;
  return new GradingError(`grader answer has no ${wanted}: ${JSON.stringify(shown)}`);
}

function questionOf(ctx: GradeContext): string {
  const { test } = ctx;
  const input = test.vars.input ?? test.vars.query ?? test.vars.question;
  if (typeof input === 'string') return input;
  return promptToText({ prompt: test.prompt });
}

/** A `rubricPrompt`: a template (text, or chat messages as a list or a JSON string) rendered with vars, output and rubric. */
function customPrompt(rubricPromptValue: unknown, vars: Record<string, unknown>): ChatMessage[] | string {
  const render = (t: string) => renderTemplate({ template: t, vars });
  let value = rubricPromptValue;
  if (typeof value === 'string' && value.trim().startsWith('[')) {
    try {
      value = JSON.parse(value);
    } catch {
      // plain text that starts with "["
    }
  }
  if (Array.isArray(value)) return (value as ChatMessage[]).map((m) => ({ role: m.role, content: render(String(m.content)) }));
  return render(String(value));
}

export async function llmRubricVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const rubric = String(spec.value ?? '');
  const custom = spec.options?.rubricPrompt;
  const prompt = custom !== undefined ? customPrompt(custom, { ...ctx.test.vars, output, rubric }) : rubricPrompt({ rubric, output });
  const answer = await ask(spec, ctx, prompt);
  const v = parseGraderAnswer({ text: answer });
  if (!v) throw unreadable(answer, 'JSON verdict {pass, score, reason}');
  return v;
}

export async function closedQaVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const criterion = String(spec.value ?? '');
  const custom = spec.options?.rubricPrompt;
  const vars = { ...ctx.test.vars, input: questionOf(ctx), criteria: criterion, completion: output, output };
  const prompt = custom !== undefined
    ? customPrompt(custom, vars)
    : [
        { role: 'system' as const, content: `You assess whether a submitted answer meets a criterion. ${JSON_ONLY}\n{"pass": true or false, "reason": "one or two sentences"}` },
        { role: 'user' as const, content: `<task>\n${vars.input}\n</task>\n<submission>\n${output}\n</submission>\n<criterion>\n${criterion}\n</criterion>\nDoes the submission meet the criterion?` },
      ];
  const answer = await ask(spec, ctx, prompt);
  const v = parseGraderAnswer({ text: answer });
  if (v) return v;
  // promptfoo's own prompt ends the reasoning with a lone Y or N.
  const yn = /\b([YN])\s*$/.exec(answer.trim());
  if (yn) return { pass: yn[1] === 'Y', score: yn[1] === 'Y' ? 1 : 0, reason: answer.trim() };
  throw unreadable(answer, 'verdict (JSON {pass} or a final Y/N)');
}

const FACT_CATEGORIES: Record<string, string> = {
  A: 'the submission is a subset of the reference and fully consistent with it',
  B: 'the submission is a superset of the reference and fully consistent with it',
  C: 'the submission contains all the same details as the reference',
  D: 'there is a disagreement between the submission and the reference',
  E: 'the answers differ, but these differences do not matter for factuality',
};

export async function factualityVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const reference = String(spec.value ?? '');
  const categories = Object.entries(FACT_CATEGORIES).map(([k, d]) => `(${k}) ${d}`).join('\n');
  const custom = spec.options?.rubricPrompt;
  const vars = { ...ctx.test.vars, input: questionOf(ctx), ideal: reference, completion: output, output };
  const prompt = custom !== undefined
    ? customPrompt(custom, vars)
    : [
        { role: 'system' as const, content: `You compare the factual content of a submitted answer with an expert reference answer. Choose one category:\n${categories}\n${JSON_ONLY}\n{"category": "A" to "E", "reason": "one or two sentences"}` },
        { role: 'user' as const, content: `<question>\n${vars.input}\n</question>\n<reference>\n${reference}\n</reference>\n<submission>\n${output}\n</submission>` },
      ];
  const answer = await ask(spec, ctx, prompt);
  const json = firstJson(answer);
  const raw = typeof json?.category === 'string' ? json.category : (/\(?\b([A-E])\b\)?/.exec(answer)?.[1] ?? null);
  const category = raw?.trim().replace(/[()]/g, '').toUpperCase().slice(0, 1);
  if (!category || !(category in FACT_CATEGORIES)) throw unreadable(answer, 'factuality category A-E');
  // promptfoo's default: every category passes except a disagreement (D).
  const allowed = (spec.config?.factuality as Record<string, unknown> | undefined) ?? {};
  const key = { A: 'subset', B: 'superset', C: 'agree', D: 'disagree', E: 'differButFactual' }[category]!;
  const pass = allowed[key] !== undefined ? Boolean(allowed[key]) : category !== 'D';
  const why = typeof json?.reason === 'string' ? json.reason : answer.trim();
  return { pass, score: pass ? 1 : 0, reason: `(${category}) ${FACT_CATEGORIES[category]}: ${why}` };
}

/** A 0..1 score the grader gives, with its reason. */
async function askScore(spec: AssertionSpec, ctx: GradeContext, prompt: ChatMessage[] | string, scale: number): Promise<{ score: number; reason: string | null }> {
  const answer = await ask(spec, ctx, prompt);
  const json = firstJson(answer);
  const n = typeof json?.score === 'number' ? json.score : typeof json?.score === 'string' ? Number(json.score) : NaN;
  if (!Number.isFinite(n)) throw unreadable(answer, 'JSON {score}');
  return { score: clamp01(n / scale), reason: typeof json?.reason === 'string' ? json.reason : null };
}

export async function answerRelevanceVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const question = questionOf(ctx);
  const custom = spec.options?.rubricPrompt;
  const prompt = custom !== undefined
    ? customPrompt(custom, { ...ctx.test.vars, input: question, output })
    : [
        { role: 'system' as const, content: `You rate how relevant an answer is to the question it was given: does it address what was asked, without drifting off topic? ${JSON_ONLY}\n{"score": a number from 0 (irrelevant) to 1 (fully relevant), "reason": "one sentence"}` },
        { role: 'user' as const, content: `<question>\n${question}\n</question>\n<answer>\n${output}\n</answer>` },
      ];
  const { score, reason } = await askScore(spec, ctx, prompt, 1);
  const threshold = spec.threshold ?? 0.7;
  return { pass: score >= threshold, score, reason: reason ?? `relevance ${score.toFixed(2)} (threshold ${threshold})` };
}

export async function gEvalVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const criteria = Array.isArray(spec.value) ? spec.value.map(String) : [String(spec.value ?? '')];
  const custom = spec.options?.rubricPrompt;
  const threshold = spec.threshold ?? 0.7;
  const scores: number[] = [];
  const reasons: string[] = [];
  for (const criterion of criteria) {
    const prompt = custom !== undefined
      ? customPrompt(custom, { ...ctx.test.vars, input: questionOf(ctx), output, criteria: criterion })
      : [
          { role: 'system' as const, content: `You evaluate a reply against one criterion. First think through the steps needed to check it, then score it from 0 (does not meet it at all) to 10 (meets it fully). ${JSON_ONLY}\n{"steps": ["..."], "score": an integer from 0 to 10, "reason": "one or two sentences"}` },
          { role: 'user' as const, content: `<criterion>\n${criterion}\n</criterion>\n<input>\n${questionOf(ctx)}\n</input>\n<reply>\n${output}\n</reply>` },
        ];
    const r = await askScore(spec, ctx, prompt, 10);
    scores.push(r.score);
    if (r.reason) reasons.push(r.reason);
  }
  const score = scores.reduce((s, x) => s + x, 0) / scores.length;
  return { pass: score >= threshold, score, reason: reasons.join(' ') || `score ${score.toFixed(2)} (threshold ${threshold})` };
}

interface RubricItem {
  id: string;
  outcome: string;
  weight: number;
  required: boolean;
  minScore?: number;
}

function rubricItems(items: unknown): RubricItem[] {
  return (Array.isArray(items) ? items : []).map((it, i) => {
    if (typeof it === 'string') return { id: `r${i + 1}`, outcome: it, weight: 1, required: false };
    const o = it as Record<string, unknown>;
    return {
      id: typeof o.id === 'string' ? o.id : `r${i + 1}`,
      outcome: String(o.outcome ?? o.criteria ?? o.description ?? ''),
      weight: typeof o.weight === 'number' ? o.weight : 1,
      required: o.required === true,
      ...(typeof o.min_score === 'number' && { minScore: o.min_score }),
    };
  });
}

/** agentv `rubrics`: each outcome checked by the grader; weighted, with required ones gating. */
export async function rubricsVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const items = rubricItems(spec.options?.criteria ?? spec.options?.rubrics ?? spec.value);
  const list = items.map((r) => `- ${r.id}: ${r.outcome}`).join('\n');
  const prompt: ChatMessage[] = [
    { role: 'system', content: `You check an answer against a list of rubric items. For each item decide whether the answer satisfies it, with a score from 0 to 1. ${JSON_ONLY}\n{"checks": [{"id": "...", "satisfied": true or false, "score": 0 to 1, "reasoning": "one sentence"}]}` },
    { role: 'user', content: `<question>\n${questionOf(ctx)}\n</question>\n<answer>\n${output}\n</answer>\n<rubric>\n${list}\n</rubric>` },
  ];
  const answer = await ask(spec, ctx, prompt);
  const checks = firstJson(answer)?.checks;
  if (!Array.isArray(checks)) throw unreadable(answer, 'JSON {checks: [...]}');
  const byId = new Map((checks as Record<string, unknown>[]).map((c) => [String(c.id), c]));
  let total = 0;
  let got = 0;
  const failed: string[] = [];
  let requiredFailed = false;
  items.forEach((item, i) => {
    const c = byId.get(item.id) ?? (checks[i] as Record<string, unknown> | undefined);
    const s = typeof c?.score === 'number' ? clamp01(c.score) : c?.satisfied === true ? 1 : 0;
    const ok = item.minScore !== undefined ? s >= item.minScore : c?.satisfied === true || (c?.satisfied === undefined && s >= 0.5);
    total += item.weight;
    got += item.weight * (ok ? s || 1 : 0);
    if (!ok) {
      failed.push(item.id);
      if (item.required) requiredFailed = true;
    }
  });
  const score = total > 0 ? got / total : 0;
  const pass = !requiredFailed && score >= (spec.threshold ?? AGENTV_PASS_SCORE);
  return { pass, score, reason: failed.length ? `not met: ${failed.join(', ')}${requiredFailed ? ' (a required item failed)' : ''}` : 'every rubric item met' };
}

const DEFAULT_LLM_GRADER_PROMPT = `Evaluate the candidate answer.

Question: {{input}}
Criteria: {{criteria}}
Reference answer: {{expected_output}}
Candidate answer: {{output}}

Score it from 0 to 1 on correctness and completeness against the criteria.`;

/** agentv `llm-grader`: a prompt file (or the built-in one) rendered with the test, answered with {score, reasoning}. */
export async function llmGraderVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const ref = spec.options?.prompt;
  let template = DEFAULT_LLM_GRADER_PROMPT;
  if (typeof ref === 'string') {
    const file = ref.startsWith('file://') ? ref.slice(7) : ref;
    const looksLikeFile = ref.startsWith('file://') || (/\.(md|txt|prompt)$/.test(file) && !file.includes('\n'));
    if (looksLikeFile) {
      try {
        template = await readFile(resolveFromSuite(spec, ctx, file), 'utf8');
      } catch (err) {
        throw new GradingError(`llm-grader prompt file ${JSON.stringify(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    } else template = ref;
  }
  // A prompt-template command's output is the finished prompt, not a template.
  const scripted = ref !== null && typeof ref === 'object' ? await promptFromCommand(spec, ctx, output, ref as { command: string[]; config?: Record<string, unknown> }) : undefined;
  const { test } = ctx;
  const expected = test.vars.expected_output;
  const rubrics = spec.options?.rubrics ?? spec.options?.criteria;
  const vars = {
    ...test.vars,
    input: questionOf(ctx),
    criteria: test.vars.criteria ?? test.metadata.criteria ?? '',
    expected_output: typeof expected === 'string' ? expected : expected === undefined ? '' : JSON.stringify(expected),
    output,
    metadata: JSON.stringify(test.metadata, null, 2),
    metadata_json: JSON.stringify(test.metadata),
    ...(rubrics !== undefined && { rubrics: JSON.stringify(rubrics, null, 2), rubrics_json: JSON.stringify(rubrics) }),
  };
  const prompt: ChatMessage[] = [
    { role: 'system', content: `You are a strict evaluator. ${JSON_ONLY}\n{"score": a number from 0 to 1, "reasoning": "one or two sentences"}` },
    { role: 'user', content: scripted ?? renderTemplate({ template, vars }) },
  ];
  const answer = await ask(spec, ctx, prompt);
  const json = firstJson(answer);
  const n = typeof json?.score === 'number' ? json.score : typeof json?.score === 'string' ? Number(json.score) : NaN;
  if (!Number.isFinite(n)) {
    const v = parseGraderAnswer({ text: answer });
    if (!v) throw unreadable(answer, 'JSON {score, reasoning}');
    return v;
  }
  const score = clamp01(n);
  const reason = typeof json?.reasoning === 'string' ? json.reasoning : typeof json?.reason === 'string' ? json.reason : null;
  return { pass: score >= (spec.threshold ?? AGENTV_PASS_SCORE), score, reason };
}
