// `similar`: cosine similarity between embeddings of the output and the expected text
// (or the best of several), from an OpenAI-compatible /embeddings endpoint: the
// assertion's own provider (`openai:embedding:<model>` or a configured target), else the
// run's grader when it is OpenAI-compatible. Passes at `threshold` (default 0.75).
import type { AssertionSpec, Target } from '../types.js';
import type { GradeContext } from './context.js';
import { GradingError, type Verdict } from './verdict.js';

const DEFAULT_EMBEDDING_MODEL = 'text-embedding-3-large';

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

function embedderFor(spec: AssertionSpec, ctx: GradeContext): { target: Target; model?: string } {
  const named = spec.provider;
  const configured = typeof spec.config?.model === 'string' ? spec.config.model : undefined;
  const m = named ? /^openai:embeddings?:(.+)$/.exec(named) : null;
  if (m) {
    if (ctx.grader?.embed) return { target: ctx.grader, model: m[1]! };
    if (!ctx.resolveGrader) throw new GradingError(`cannot use provider "${named}" here`);
    return { target: ctx.resolveGrader(`openai:${m[1]}`), model: m[1]! };
  }
  if (named) {
    if (!ctx.resolveGrader) throw new GradingError(`cannot use provider "${named}" here`);
    return { target: ctx.resolveGrader(named), ...(configured && { model: configured }) };
  }
  if (!ctx.grader) throw new GradingError('similar needs embeddings: pass --grader openai:<model> (any OpenAI-compatible endpoint) or give the assertion a provider');
  return { target: ctx.grader, model: configured ?? DEFAULT_EMBEDDING_MODEL };
}

export async function similarVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const expected = (Array.isArray(spec.value) ? spec.value : [spec.value]).map(String);
  const { target, model } = embedderFor(spec, ctx);
  if (!target.embed) throw new GradingError(`similar needs an OpenAI-compatible target for embeddings; "${target.name}" is a ${target.provider} target`);
  let vectors: number[][];
  try {
    vectors = await target.embed({ texts: [output, ...expected], ...(model && { model }), signal: ctx.signal });
  } catch (err) {
    throw new GradingError(`embeddings failed: ${(err as Error).message}`);
  }
  const [out, ...refs] = vectors;
  const best = Math.max(...refs.map((r) => cosine(out!, r)));
  const threshold = spec.threshold ?? 0.75;
  const pass = best >= threshold;
  return { pass, score: Math.max(0, best), reason: `similarity ${best.toFixed(3)} ${pass ? '>=' : '<'} threshold ${threshold}` };
}
