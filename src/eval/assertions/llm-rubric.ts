// The `llm-rubric` assertion: asks the grader target whether the output meets a rubric and
// reads back {"pass", "score", "reason"} from the first JSON object in its answer (code
// fences and prose around it are tolerated). An answer without a verdict is an error.
import { promptToText } from '../suite.js';
import type { ChatMessage, SuiteTest, Target } from '../types.js';
import { clamp01, type Verdict } from './verdict.js';

const INSTRUCTIONS = [
  'You grade the output of an AI system against a rubric.',
  'Decide whether the output satisfies the rubric, and how well on a scale from 0 to 1.',
  'Answer with only a JSON object, no other text:',
  '{"pass": true or false, "score": a number from 0 to 1, "reason": "one or two sentences"}',
].join('\n');

/** The grading conversation sent to the grader. */
export function rubricPrompt({ rubric, output }: { rubric: string; output: string }): ChatMessage[] {
  return [
    { role: 'system', content: INSTRUCTIONS },
    { role: 'user', content: `<rubric>\n${rubric}\n</rubric>\n\n<output>\n${output}\n</output>` },
  ];
}

/** Every balanced {...} in `text`, in order, skipping braces inside JSON strings. */
export function* jsonObjectCandidates(text: string): Generator<string> {
  for (let start = text.indexOf('{'); start !== -1; start = text.indexOf('{', start + 1)) {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) {
        yield text.slice(start, i + 1);
        break;
      }
    }
  }
}

/**
 * Reads a grader's verdict from its answer; null when there is none.
 * @example parseGraderAnswer({ text: '```json\n{"pass": true, "score": 0.9, "reason": "ok"}\n```' })
 */
export function parseGraderAnswer({ text }: { text: string }): Verdict | null {
  for (const candidate of jsonObjectCandidates(text)) {
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(candidate) as Record<string, unknown>;
    } catch {
      continue;
    }
    let pass = typeof v.pass === 'boolean' ? v.pass : typeof v.pass === 'string' ? v.pass.toLowerCase() === 'true' : undefined;
    const score = typeof v.score === 'number' ? clamp01(v.score) : typeof v.score === 'string' && v.score.trim() !== '' ? clamp01(Number(v.score)) : undefined;
    if (pass === undefined && score === undefined) continue;
    pass ??= (score ?? 0) >= 0.5;
    return { pass, score: score ?? (pass ? 1 : 0), reason: typeof v.reason === 'string' ? v.reason : null };
  }
  return null;
}

/** Grades `output` against `rubric`; rejects when there is no grader or no readable verdict. */
export async function gradeWithRubric({
  rubric,
  output,
  test,
  grader,
  signal,
}: {
  rubric: string;
  output: string;
  test: SuiteTest;
  grader: Target | null;
  signal: AbortSignal;
}): Promise<Verdict> {
  if (!grader) throw new Error('no grader configured');
  const prompt = rubricPrompt({ rubric, output });
  let answer: string;
  try {
    answer = (await grader.call({ prompt, promptText: promptToText({ prompt }), testId: test.id, vars: test.vars, signal })).output;
  } catch (err) {
    throw new Error(`grader ${grader.name} failed: ${(err as Error).message}`);
  }
  const verdict = parseGraderAnswer({ text: answer });
  if (!verdict) {
    const shown = answer.length > 200 ? `${answer.slice(0, 200)}…` : answer;
    throw new Error(`grader answer has no JSON verdict {pass, score, reason}: ${JSON.stringify(shown)}`);
  }
  return verdict;
}
