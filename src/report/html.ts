// `agentv report`: one self-contained HTML file — inline CSS and a few lines
// of inline script, no network, no external fonts — showing a run and, when a
// base is given, its comparison (regressions first). Everything from the run
// is HTML-escaped; nothing is evaluated.
import type { RunDetailResponse } from '../schemas/api.js';
import type { CompareDocument, CompareTest } from '../schemas/compare.js';
import type { RowWithInput } from '../schemas/input.js';
import { failReason, pct, points, rowStatus } from './text.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function pretty(s: string | null): string {
  if (s === null) return '';
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return s;
  }
}

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--pass:#1a7f37;--fail:#cf222e;--err:#9a6700;--card:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--pass:#3fb950;--fail:#f85149;--err:#d29922;--card:#161b22}}
body{font:14px/1.45 system-ui,sans-serif;background:var(--bg);color:var(--fg);margin:0 auto;max-width:1200px;padding:16px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.muted{color:var(--muted)}code,pre{font:12px/1.4 ui-monospace,monospace}
pre{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px;white-space:pre-wrap;word-break:break-word;max-height:400px;overflow:auto;margin:4px 0}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px 12px}
.card b{display:block;font-size:18px}
details.test{border-bottom:1px solid var(--line)}details.test>summary{cursor:pointer;padding:6px 0;display:grid;grid-template-columns:120px minmax(120px,1fr) 110px 2fr;gap:8px;align-items:baseline}
.badge{font-weight:600;font-size:12px;text-transform:uppercase}.passed,.fixed,.unchanged{color:var(--pass)}.failed,.regressed,.still_failing{color:var(--fail)}.error,.new_error{color:var(--err)}
.side{display:grid;grid-template-columns:1fr 1fr;gap:12px}@media (max-width:700px){.side{grid-template-columns:1fr}details.test>summary{grid-template-columns:1fr 1fr}}
input[type=search]{padding:6px;width:260px;background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:6px}
`;

const SCRIPT = `
const q=document.getElementById('q');q&&q.addEventListener('input',()=>{const v=q.value.toLowerCase();for(const d of document.querySelectorAll('details.test'))d.hidden=v&&!d.dataset.id.toLowerCase().includes(v)&&!d.textContent.toLowerCase().includes(v);});
`;

function inputBlock(r: RowWithInput | null): string {
  if (!r?.input) return '<p class="muted">input not stored for this row</p>';
  const i = r.input;
  const asked = i.prompt ?? JSON.stringify(i.messages, null, 2);
  return `<div><b>Prompt</b><pre>${esc(asked)}</pre></div>` +
    `<div><b>Vars</b><pre>${esc(JSON.stringify(i.vars, null, 2))}</pre></div>` +
    (i.expected_output !== null ? `<div><b>Expected</b><pre>${esc(typeof i.expected_output === 'string' ? i.expected_output : JSON.stringify(i.expected_output, null, 2))}</pre></div>` : '');
}

function rowBlock(title: string, r: RowWithInput | null): string {
  if (!r) return `<div><h3>${esc(title)}</h3><p class="muted">not in this run</p></div>`;
  const asserts = r.assertions
    .map((a) => `<li class="${a.passed ? 'passed' : 'failed'}">${a.passed ? '✓' : '✗'} <code>${esc(a.type)}</code> ${esc(a.reason ?? '')}</li>`)
    .join('');
  return `<div><h3>${esc(title)} <span class="badge ${rowStatus(r)}">${rowStatus(r)}</span> <span class="muted">score ${r.score.toFixed(2)}</span></h3>` +
    (r.error ? `<p class="error">${esc(r.error)}</p>` : '') +
    (asserts ? `<ul>${asserts}</ul>` : '') +
    `<b>Output</b><pre>${esc(pretty(r.output))}</pre></div>`;
}

function testEntry(id: string, badge: string, cls: string, scores: string, reason: string, body: string): string {
  return `<details class="test" data-id="${esc(id)}"><summary><span class="badge ${cls}">${esc(badge)}</span><code>${esc(id)}</code><span>${esc(scores)}</span><span class="muted">${esc(reason)}</span></summary>${body}</details>`;
}

function comparisonSection(doc: CompareDocument): string {
  const s = doc.summary;
  const ci = s.pass_rate_delta_ci;
  const cards = (['regressed', 'new_error', 'fixed', 'still_failing', 'unchanged', 'added', 'removed'] as const)
    .map((k) => `<div class="card ${k}"><b>${s[k]}</b>${k.replace('_', ' ')}</div>`)
    .join('');
  const entries = doc.tests
    .map((t: CompareTest) => {
      const row = t.head ?? t.base!;
      const scores = `${t.base ? t.base.score.toFixed(2) : '–'} → ${t.head ? t.head.score.toFixed(2) : '–'}`;
      const body = `<div class="side">${rowBlock('Base', t.base)}${rowBlock('Head', t.head)}</div>${t.changed_input ? '<p class="err">input changed between the runs</p>' : ''}${inputBlock(t.head ?? t.base)}`;
      return testEntry(t.test_id, t.change.replace('_', ' '), t.change, scores, row.passed ? '' : failReason(row), body);
    })
    .join('');
  return `<h2>Comparison with base ${esc(doc.base.run_id)}</h2>` +
    doc.warnings.map((w) => `<p class="error">Warning: ${esc(w)}</p>`).join('') +
    `<p>Pass rate ${pct(doc.base.pass_rate)} → ${pct(doc.head.pass_rate)}; over the ${s.paired} tests in both runs ${esc(points(s.pass_rate_delta))}${ci ? ` (95 % interval ${esc(points(ci[0]))} to ${esc(points(ci[1]))}, paired)` : ''}.</p>` +
    `<div class="cards">${cards}</div><div id="compare">${entries}</div>`;
}

export function reportHtml({ run, comparison }: { run: RunDetailResponse; comparison: CompareDocument | null }): string {
  const m = run.run;
  const c = m.counts;
  const order = { error: 0, failed: 1, passed: 2 } as const;
  const rows = [...run.results].sort((a, b) => order[rowStatus(a)] - order[rowStatus(b)]);
  const tests = rows
    .map((r) => testEntry(r.test_id, rowStatus(r), rowStatus(r), r.score.toFixed(2), failReason(r), `${rowBlock('Result', r)}${inputBlock(r)}`))
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>agentv report: ${esc(m.suite.name)} ${esc(m.run_id)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(m.suite.name)} <span class="muted">on</span> ${esc(m.target.name)}</h1>
<p class="muted">run <code>${esc(m.run_id)}</code> · ${esc(m.status)} · started ${esc(m.started_at)}${m.source_commit ? ` · source <code>${esc(m.source_commit.slice(0, 12))}</code>` : ''}</p>
<div class="cards"><div class="card"><b>${pct(c?.pass_rate ?? null)}</b>pass rate</div><div class="card"><b>${c?.passed ?? 0} of ${c?.completed_count ?? 0}</b>run passed</div><div class="card"><b>${c?.failed ?? 0}</b>failed</div><div class="card"><b>${c?.errored ?? 0}</b>errored</div><div class="card"><b>${run.planned_test_count}</b>planned</div></div>
<p><input type="search" id="q" placeholder="Filter tests"></p>
${comparison ? comparisonSection(comparison) : ''}
<h2>Tests (${rows.length})</h2>
<div id="tests">${tests}</div>
<p class="muted">Written by agentv. This file makes no network requests.</p>
<script>${SCRIPT}</script>
</body></html>
`;
}
