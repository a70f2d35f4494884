// JUnit XML, the test-report format CI systems read (GitHub, GitLab, Jenkins):
// one <testsuite> per run or comparison, one <testcase> per test.
import type { CompareDocument } from '../schemas/compare.js';
import type { RunDetailResponse } from '../schemas/api.js';
import { JunitSuite, type JunitCase } from '../schemas/export.js';
import { failReason, oneLine } from './text.js';

function xml(s: string): string {
  // Characters XML 1.0 cannot carry at all are dropped; the rest escaped.
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function junitXml(suites: JunitSuite[]): string {
  const parsed = suites.map((s) => JunitSuite.parse(s));
  const count = (s: JunitSuite, r: JunitCase['result']) => s.cases.filter((c) => c.result === r).length;
  const total = (r: JunitCase['result']) => parsed.reduce((n, s) => n + count(s, r), 0);
  const time = (s: JunitSuite) => s.cases.reduce((n, c) => n + c.time_s, 0).toFixed(3);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="agentv" tests="${parsed.reduce((n, s) => n + s.cases.length, 0)}" failures="${total('failure')}" errors="${total('error')}" skipped="${total('skipped')}">`,
  ];
  for (const s of parsed) {
    out.push(
      `  <testsuite name="${xml(s.name)}" tests="${s.cases.length}" failures="${count(s, 'failure')}" errors="${count(s, 'error')}" skipped="${count(s, 'skipped')}" time="${time(s)}"${s.timestamp ? ` timestamp="${xml(s.timestamp)}"` : ''}>`,
    );
    for (const c of s.cases) {
      const open = `    <testcase name="${xml(c.name)}" classname="${xml(c.classname)}" time="${c.time_s.toFixed(3)}"`;
      if (c.result === 'passed') {
        out.push(`${open}/>`);
        continue;
      }
      const tag = c.result;
      out.push(`${open}>`);
      out.push(`      <${tag} message="${xml(c.message ?? '')}"${c.detail ? `>${xml(c.detail)}</${tag}>` : '/>'}`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/** A run: quality failures are <failure>, execution errors <error>, planned tests without a row <skipped>. */
export function runJunit(detail: RunDetailResponse): string {
  const m = detail.run;
  const classname = `agentv.${m.suite.name}`;
  const cases: JunitCase[] = detail.results.map((r) => {
    const reason = failReason(r);
    return {
      name: r.test_id,
      classname,
      time_s: r.duration_ms / 1000,
      result: r.execution_status === 'execution_error' ? 'error' : r.passed ? 'passed' : 'failure',
      message: r.passed ? null : oneLine(reason, 500),
      detail: r.passed ? null : `${reason}\n\noutput:\n${r.output ?? ''}`,
    };
  });
  const have = new Set(detail.results.map((r) => r.test_id));
  for (const p of m.planned_tests) {
    if (!have.has(p.test_id)) cases.push({ name: p.test_id, classname, time_s: 0, result: 'skipped', message: 'not run', detail: null });
  }
  return junitXml([{ name: `${m.suite.name} (${m.target.name}) ${m.run_id}`, timestamp: m.started_at, cases }]);
}

/** A comparison: only regressions and new errors fail; known failures are reported as skipped, removed tests too. */
export function diffJunit(doc: CompareDocument): string {
  const classname = `agentv.${doc.head.suite}`;
  const cases: JunitCase[] = doc.tests.map((t) => {
    const row = t.head ?? t.base!;
    const reason = t.head ? failReason(t.head) : '';
    const base = { name: t.test_id, classname, time_s: (t.head?.duration_ms ?? 0) / 1000 };
    switch (t.change) {
      case 'regressed':
        return { ...base, result: 'failure', message: `regressed: ${oneLine(reason, 400)}`, detail: `${reason}\n\noutput:\n${row.output ?? ''}` };
      case 'new_error':
        return { ...base, result: 'error', message: `new error: ${oneLine(reason, 400)}`, detail: reason };
      case 'still_failing':
        return { ...base, result: 'skipped', message: `still failing (known failure): ${oneLine(reason, 400)}`, detail: null };
      case 'removed':
        return { ...base, result: 'skipped', message: 'removed: only in the base run', detail: null };
      default:
        return { ...base, result: t.head && !t.head.passed ? 'skipped' : 'passed', message: t.head && !t.head.passed ? `${t.change}: ${oneLine(reason, 400)}` : null, detail: null };
    }
  });
  return junitXml([{ name: `${doc.head.suite}: ${doc.base.run_id} → ${doc.head.run_id}`, timestamp: doc.head.started_at, cases }]);
}
