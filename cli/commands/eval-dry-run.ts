// `agentv eval --dry-run`: print how agentv understood each suite — every run it would
// start, every test with its rendered prompt or messages, assertions and input hash —
// from the prepared sessions, without executing or writing anything.
import { DryRunReport } from '../../src/schemas/dry-run.js';
import type { EvalSession } from '../../src/eval/session.js';
import { promptToText } from '../../src/eval/template.js';
import type { CommandContext, CommandResult } from '../context.js';

export function dryRunReport(sessions: EvalSession[]): DryRunReport {
  return DryRunReport.parse({
    runs: sessions.map(({ plan }) => ({
      target: plan.target.name,
      suite: { name: plan.suite.name, path: plan.suite.path },
      tests: plan.items.map(({ test, planned }) => ({
        test_id: test.id,
        input: {
          prompt: promptToText({ prompt: test.prompt }),
          messages: typeof test.prompt === 'string' ? null : test.prompt,
          vars: test.vars,
          expected_output: test.vars.expected_output ?? null,
        },
        assertions: test.assertions.map((a) => ({
          type: `${a.negate ? 'not-' : ''}${a.type}`,
          ...(a.value === undefined ? (a.command ? { value: a.command } : {}) : { value: a.value }),
          weight: a.weight,
          ...(a.metric === undefined ? {} : { metric: a.metric }),
        })),
        input_hash: planned.input_hash,
        call_key: planned.call_key,
        grading_key: planned.grading_key,
      })),
    })),
  });
}

export function printDryRun(ctx: CommandContext, report: DryRunReport, json: boolean): CommandResult {
  if (json) return { exitCode: 0, json: report };
  for (const run of report.runs) {
    ctx.io.stdout(`suite ${run.suite.name} (${run.suite.path}) -> target ${run.target}: ${run.tests.length} tests (dry run: nothing executed or written)\n`);
    for (const t of run.tests) {
      ctx.io.stdout(`\n${t.test_id}  [${t.input_hash}]\n`);
      for (const line of t.input.prompt.split('\n')) ctx.io.stdout(`  | ${line}\n`);
      for (const a of t.assertions) {
        const v = a.value === undefined ? '' : ` ${JSON.stringify(a.value)}`;
        ctx.io.stdout(`  - ${a.type}${v}${a.weight !== undefined && a.weight !== 1 ? ` (weight ${a.weight})` : ''}${a.metric ? ` [${a.metric}]` : ''}\n`);
      }
    }
  }
  return { exitCode: 0 };
}
