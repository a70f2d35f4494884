// Which keys each assertion kind reads (anything else on an assertion is an error with its
// path), and the agentv CLI's own kinds that agentv refuses by name.
import type { AssertionKind } from './assertion.js';

/** Keys every assertion may carry. */
export const COMMON_KEYS = ['type', 'value', 'threshold', 'weight', 'required', 'metric', 'provider', 'transform', 'config', 'negate', 'name', 'description'];
/** The further keys each kind reads. */
export const KIND_KEYS: Partial<Record<AssertionKind, string[]>> = {
  regex: ['flags'],
  latency: ['max_ms'],
  cost: ['max_usd'],
  script: ['command', 'cwd'],
  'code-grader': ['command', 'script', 'cwd', 'target', 'provider_access'],
  'llm-rubric': ['rubricPrompt', 'target'],
  'llm-grader': ['prompt', 'target', 'rubrics', 'criteria', 'rubricPrompt'],
  rubrics: ['criteria', 'rubrics', 'target'],
  'model-graded-closedqa': ['rubricPrompt'],
  factuality: ['rubricPrompt'],
  'answer-relevance': ['rubricPrompt'],
  'g-eval': ['rubricPrompt'],
  'assert-set': ['assert'],
  composite: ['assertions', 'graders', 'aggregator', 'min_score'],
  'tool-trajectory': ['mode', 'minimums', 'expected'],
  'execution-metrics': [
    'max_tool_calls', 'max_llm_calls', 'max_tokens', 'max_total_tokens', 'max_cost_usd', 'max_duration_ms',
    'target_exploration_ratio', 'exploration_tolerance',
  ],
};

/** The agentv CLI's own kinds that agentv cannot judge, and why. */
export const PEER_ONLY: Record<string, string> = {
  'skill-used': 'it needs the agent\'s skill invocations (Claude Code / Copilot skills), which agentv targets do not report',
  'field-accuracy': 'check the fields with a javascript or script assertion instead',
};

