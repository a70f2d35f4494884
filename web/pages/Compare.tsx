// Two runs side by side (/compare?base=&head=&change=&test=): the summary (tests
// per change, the pass-rate delta with its 95 % interval), then the tests grouped
// regressions first, each expandable to its input and the two outputs with a
// text diff. Paged from GET /api/compare; this page and its diff library are a
// chunk of their own, loaded on first visit (web/lazy.tsx).
import { useEffect, useState } from 'preact/hooks';
import type { ComparePage, CompareTest } from '../../src/schemas/compare.js';
import type { RunSummary } from '../../src/schemas/summary.js';
import { api, errorMessage } from '../api.js';
import { navigate } from '../state.js';
import type { PageProps } from '../routes.js';
import { passCounts, percent, score } from '../format.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { RunBadge, StatusBadge } from '../components/StatusBadge.js';
import { InputView, pretty } from '../components/Diagnosis.js';
import { testState } from '../components/TestRow.js';
import { textDiff, type Part } from '../textdiff.js';

const PAGE = 100;
const CHANGES = ['regressed', 'new_error', 'fixed', 'still_failing', 'added', 'removed', 'unchanged'] as const;
/** Display groups: a change, or `score` for tests whose verdict held but whose score moved. */
const GROUPS: [string, string][] = [
  ['regressed', 'Regressions'],
  ['new_error', 'New errors'],
  ['fixed', 'Fixes'],
  ['score', 'Score changes'],
  ['still_failing', 'Still failing'],
  ['added', 'Added'],
  ['removed', 'Removed'],
  ['unchanged', 'Unchanged'],
];
const groupOf = (t: CompareTest): string =>
  (t.change === 'unchanged' || t.change === 'still_failing') && t.score_delta !== null && Math.abs(t.score_delta) > 1e-9 ? 'score' : t.change;

const signed = (n: number, digits = 1) => `${n > 0 ? '+' : n < 0 ? '−' : '±'}${Math.abs(n * 100).toFixed(digits)}`;

export function Compare({ query }: PageProps) {
  const base = query.get('base') ?? '';
  const head = query.get('head') ?? '';
  const change = query.get('change') ?? '';
  const open = query.get('test') ?? '';
  const [doc, setDoc] = useState<ComparePage | null>(null);
  const [rows, setRows] = useState<CompareTest[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const setView = (k: string, v: string) => {
    const q = new URLSearchParams(query);
    if (v) q.set(k, v);
    else q.delete(k);
    navigate(`/compare?${q}`, { replace: true });
  };

  const fetchPage = (cursor: string | null) => api.compare(base, head, { limit: PAGE, cursor, change });

  useEffect(() => {
    document.title = `Compare ${base} → ${head} · agentv Studio`;
    if (!base || !head) return;
    let live = true;
    setBusy(true);
    setError(null);
    fetchPage(null).then(
      (d) => {
        if (!live) return;
        setDoc(d);
        setRows(d.tests);
        setBusy(false);
      },
      (e) => {
        if (!live) return;
        setError(errorMessage(e));
        setBusy(false);
      },
    );
    return () => {
      live = false;
    };
  }, [base, head, change]);

  const more = () => {
    if (!doc?.next_cursor) return;
    setBusy(true);
    fetchPage(doc.next_cursor).then(
      (d) => {
        setDoc(d);
        setRows((r) => [...r, ...d.tests]);
        setBusy(false);
      },
      (e) => {
        setError(errorMessage(e));
        setBusy(false);
      },
    );
  };

  if (!base || !head) {
    return (
      <section>
        <h1>Compare</h1>
        <p class="empty">
          Pick two runs in the <a href="/">runs list</a>, or open a run and compare it with the previous run of its suite and target.
        </p>
      </section>
    );
  }

  const s = doc?.summary;
  return (
    <section>
      <p class="crumb">
        <a href="/">Runs</a> / Compare
      </p>
      <h1>Compare</h1>
      <div class="compare-runs">
        <RunCard label="Base" run={doc?.base} id={base} />
        <span class="arrow" aria-hidden="true">
          →
        </span>
        <RunCard label="Head" run={doc?.head} id={head} />
      </div>
      <ErrorBox message={error} />
      {doc?.warnings.map((w) => (
        <p key={w} class="notice">
          {w}
        </p>
      ))}
      {s && (
        <div class="cards" data-testid="compare-summary">
          <div class="card" data-testid="pass-rate-delta">
            <div class="card-k">Pass-rate change</div>
            <div class={`card-v ${s.pass_rate_delta !== null && s.pass_rate_delta < 0 ? 'bad' : ''}`}>
              {s.pass_rate_delta === null ? '—' : `${signed(s.pass_rate_delta)} pp`}
            </div>
            <div class="small">
              {s.pass_rate_delta_ci
                ? `95 % interval ${signed(s.pass_rate_delta_ci[0])} to ${signed(s.pass_rate_delta_ci[1])} pp`
                : 'no tests in both runs'}{' '}
              · over {s.paired} tests in both
            </div>
          </div>
          {CHANGES.map((c) => (
            <button
              key={c}
              type="button"
              class={`card card-btn ${change === c ? 'on' : ''}`}
              data-testid={`count-${c}`}
              onClick={() => setView('change', change === c ? '' : c)}
              title={change === c ? 'Show every test' : `Show only ${c.replace('_', ' ')}`}
            >
              <div class="card-k">{c.replace('_', ' ')}</div>
              <div class="card-v">{s[c]}</div>
            </button>
          ))}
          {s.changed_input > 0 && (
            <div class="card">
              <div class="card-k">input changed</div>
              <div class="card-v">{s.changed_input}</div>
            </div>
          )}
        </div>
      )}

      <div class="toolbar">
        <h2>Tests</h2>
        <label>
          <span>Show</span>
          <select data-testid="compare-change" value={change} onChange={(e) => setView('change', e.currentTarget.value)}>
            <option value="">all</option>
            {CHANGES.map((c) => (
              <option key={c} value={c}>
                {c.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        {doc && <span class="total">{doc.total.toLocaleString()} tests</span>}
      </div>
      <div class="table-wrap">
        <table class="table tests" data-testid="compare-table">
          <thead>
            <tr>
              <th>Test</th>
              <th>Change</th>
              <th class="num">Base</th>
              <th class="num">Head</th>
              <th class="num">Δ score</th>
            </tr>
          </thead>
          {GROUPS.map(([g, label]) => {
            const tests = rows.filter((t) => groupOf(t) === g);
            if (!tests.length) return null;
            return (
              <tbody key={g} data-testid="compare-group" data-group={g}>
                <tr class="group">
                  <th colSpan={5}>
                    {label} ({tests.length})
                  </th>
                </tr>
                {tests.map((t) => (
                  <CompareRow key={t.test_id} t={t} open={open === t.test_id} onToggle={() => setView('test', open === t.test_id ? '' : t.test_id)} />
                ))}
              </tbody>
            );
          })}
        </table>
      </div>
      {doc && !busy && rows.length === 0 && <p class="empty">No tests match.</p>}
      {busy && <p class="center muted">Loading…</p>}
      {doc?.next_cursor && !busy && (
        <p class="center">
          <button type="button" class="btn" data-testid="compare-more" onClick={more}>
            Show more ({doc.total - rows.length} left)
          </button>
        </p>
      )}
    </section>
  );
}

function RunCard({ label, run, id }: { label: string; run: RunSummary | undefined; id: string }) {
  return (
    <div class="card">
      <div class="card-k">{label}</div>
      <a class="mono" href={`/runs/${encodeURIComponent(id)}`} data-testid={`compare-${label.toLowerCase()}`}>
        {id}
      </a>
      {run && (
        <div class="small">
          <RunBadge status={run.status} outcome={run.outcome} /> {run.suite} · {run.target} · {percent(run.pass_rate)} ·{' '}
          {passCounts(run.passed, run.passed + run.failed + run.errored, run.planned_test_count)}
        </div>
      )}
    </div>
  );
}

function CompareRow({ t, open, onToggle }: { t: CompareTest; open: boolean; onToggle: () => void }) {
  return (
    <>
      <tr data-testid="compare-row" data-test-id={t.test_id} data-change={t.change} class={`clickable ${open ? 'open' : ''}`} onClick={onToggle}>
        <td>
          <button type="button" class="linkish mono" aria-expanded={open}>
            <span class="caret" aria-hidden="true">
              {open ? '▾' : '▸'}
            </span>{' '}
            {t.test_id}
          </button>
          {t.changed_input && <span class="muted small"> input changed</span>}
        </td>
        <td>
          <span class={`badge badge-change-${t.change}`}>{t.change.replace('_', ' ')}</span>
        </td>
        <td class="num">{t.base ? score(t.base.score) : '—'}</td>
        <td class="num">{t.head ? score(t.head.score) : '—'}</td>
        <td class="num">{t.score_delta === null ? '—' : `${t.score_delta > 0 ? '+' : ''}${t.score_delta.toFixed(2)}`}</td>
      </tr>
      {open && (
        <tr class="detail">
          <td colSpan={5}>
            <CompareDetail t={t} />
          </td>
        </tr>
      )}
    </>
  );
}

function CompareDetail({ t }: { t: CompareTest }) {
  const input = t.head?.input ?? t.base?.input ?? null;
  return (
    <div class="row-detail" data-testid="compare-detail">
      <h4>Input{t.changed_input ? ' (head; the base run was asked something else)' : ''}</h4>
      <InputView input={input} />
      {t.changed_input && t.base?.input && (
        <details>
          <summary class="small">Base input</summary>
          <InputView input={t.base.input} />
        </details>
      )}
      <OutputsDiff t={t} />
    </div>
  );
}

function Side({ label, row }: { label: string; row: CompareTest['base'] }) {
  return (
    <div class="side-head">
      <b>{label}</b>{' '}
      {row ? (
        <>
          <StatusBadge status={testState(row)} /> score {score(row.score)}
          {row.assertions
            .filter((a) => !a.passed)
            .map((a, i) => (
              <div key={i} class="small reason">
                ✗ {a.type}: {a.reason ?? ''}
              </div>
            ))}
          {row.error && <div class="small reason">error: {row.error}</div>}
        </>
      ) : (
        <span class="muted">not in this run</span>
      )}
    </div>
  );
}

/** Base and head outputs side by side; removed text marked on the left, added on the right. */
function OutputsDiff({ t }: { t: CompareTest }) {
  const a = pretty(t.base?.output ?? '');
  const b = pretty(t.head?.output ?? '');
  const [parts, setParts] = useState<Part[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    setParts(null);
    // Deferred a tick so the two outputs show at once, then gain their marks.
    const timer = setTimeout(() => {
      try {
        if (live) setParts(textDiff(a, b));
      } catch {
        if (live) setFailed(true);
      }
    });
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [a, b]);
  const side = (drop: 'added' | 'removed', mark: 'removed' | 'added', text: string) =>
    parts && !failed
      ? parts.filter((p) => !p[drop]).map((p, i) => (p[mark] ? mark === 'added' ? <ins key={i}>{p.value}</ins> : <del key={i}>{p.value}</del> : p.value))
      : text;
  return (
    <>
      <h4>Outputs{a === b && t.base && t.head ? ' (identical)' : ''}</h4>
      <div class="sides" data-testid="output-diff" data-ready={parts ? '1' : '0'}>
        <div>
          <Side label="Base" row={t.base} />
          <pre class="pre" data-testid="base-output">{side('added', 'removed', a)}</pre>
        </div>
        <div>
          <Side label="Head" row={t.head} />
          <pre class="pre" data-testid="head-output">{side('removed', 'added', b)}</pre>
        </div>
      </div>
    </>
  );
}
