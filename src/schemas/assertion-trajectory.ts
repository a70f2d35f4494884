// Load-time shape checks of the agentv CLI's `trajectory:*` assertion values (graded by
// src/eval/assertions/trajectory.ts), so a malformed one is a problem with its path.
type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

export const TRAJECTORY_KINDS = ['trajectory:tool-used', 'trajectory:tool-sequence', 'trajectory:tool-args-match', 'trajectory:step-count', 'trajectory:goal-success'] as const;

/** Load-time checks of a trajectory assertion's `value`; messages for the suite's problems. */
export function trajectoryValueProblem(kind: string, value: unknown): string | null {
  const named = (v: unknown) => typeof v === 'string' ? v !== '' : isRec(v) && (typeof v.name === 'string' || typeof v.pattern === 'string');
  switch (kind) {
    case 'trajectory:tool-used':
      if (typeof value === 'string' ? value !== '' : Array.isArray(value) ? value.length > 0 && value.every((v) => typeof v === 'string' && v !== '') : named(value)) return null;
      return 'trajectory:tool-used needs `value`: a tool name, a list of names, or {name|pattern, min?, max?}';
    case 'trajectory:tool-sequence': {
      const steps = Array.isArray(value) ? value : isRec(value) ? value.steps : undefined;
      if (isRec(value) && value.mode !== undefined && !['in_order', 'exact'].includes(String(value.mode))) return 'trajectory:tool-sequence `mode` is in_order or exact';
      return Array.isArray(steps) && steps.length > 0 && steps.every(named) ? null : 'trajectory:tool-sequence needs `value.steps`: a list of tool names (or {name|pattern})';
    }
    case 'trajectory:tool-args-match':
      if (!named(value) || typeof value === 'string') return 'trajectory:tool-args-match needs `value`: {name|pattern, args, mode?: partial|exact, defaults?, ignore?}';
      if (!Object.hasOwn(value as Rec, 'args') && !Object.hasOwn(value as Rec, 'arguments')) return 'trajectory:tool-args-match needs `value.args`';
      if ((value as Rec).mode !== undefined && !['partial', 'exact'].includes(String((value as Rec).mode))) return 'trajectory:tool-args-match `mode` is partial or exact';
      return null;
    case 'trajectory:step-count':
      return isRec(value) && (typeof value.min === 'number' || typeof value.max === 'number') ? null : 'trajectory:step-count needs `value`: {type?, name|pattern?, min?, max?} with min or max';
    case 'trajectory:goal-success':
      return (typeof value === 'string' && value.trim() !== '') || (isRec(value) && typeof value.goal === 'string') ? null : 'trajectory:goal-success needs `value`: the goal, or {goal}';
  }
  return null;
}
