// One test of a run page. The page lists previews (output cut by the server);
// opening a test loads it whole, with its earlier rows, from
// GET /api/runs/:run_id/results/:test_id. Kept self-contained so a Compare page
// or an input panel can reuse RowDetail.
import { useEffect, useState } from 'preact/hooks';
import type { Row } from '../../src/schemas/row.js';
import type { ResultPreview, TestDetail } from '../../src/schemas/run-results.js';
import { api, errorMessage } from '../api.js';
import { duration, score } from '../format.js';
import { StatusBadge } from './StatusBadge.js';
import { InputView, expectedActual, pretty } from './Diagnosis.js';
import type { StoredInput } from '../../src/schemas/input.js';

const OUTPUT_LIMIT = 20 * 1024;

export const testState = (r: Pick<Row, 'execution_status' | 'passed'>): 'passed' | 'failed' | 'error' =>
  r.execution_status === 'execution_error' ? 'error' : r.passed ? 'passed' : 'failed';

export function TestRow({ runId, row: r, open, onToggle }: { runId: string; row: ResultPreview; open: boolean; onToggle: () => void }) {
  return (
    <>
      <tr data-testid="test-row" data-test-id={r.test_id} class={`clickable ${open ? 'open' : ''}`} onClick={onToggle}>
        <td>
          <button
            type="button"
            class="linkish mono"
            aria-expanded={open}
            onClick={(e) => {
              e.stopPropagation();
              onToggle();
            }}
          >
            <span class="caret" aria-hidden="true">
              {open ? '▾' : '▸'}
            </span>{' '}
            {r.test_id}
          </button>
          {r.carried_from && <span class="muted small"> carried from {r.carried_from}</span>}
        </td>
        <td>
          <StatusBadge status={testState(r)} />
        </td>
        <td class="num" data-label="score">{score(r.score)}</td>
        <td class="num" data-label="duration">{duration(r.duration_ms)}</td>
        <td class="num" data-label="attempt">{r.attempt}</td>
      </tr>
      {open && (
        <tr class="detail">
          <td colSpan={5}>
            <TestPanel runId={runId} testId={r.test_id} preview={r} />
          </td>
        </tr>
      )}
    </>
  );
}

function TestPanel({ runId, testId, preview }: { runId: string; testId: string; preview: ResultPreview }) {
  const [detail, setDetail] = useState<TestDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api.test(runId, testId).then(
      (d) => live && setDetail(d),
      (e) => live && setError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, [runId, testId, preview.attempt, preview.grade_seq]);
  if (error) return <p class="error">{error}</p>;
  if (!detail) return <RowDetail row={preview} loading />;
  return (
    <>
      {detail.result && <RowDetail row={detail.result} />}
      {detail.history.length > 0 && (
        <div class="history">
          <h4>Earlier attempts</h4>
          {detail.history.map((h, i) => (
            <div key={i} class="attempt">
              <p>
                Attempt {h.attempt}
                {h.grade_seq ? ` (grade ${h.grade_seq})` : ''}: <StatusBadge status={testState(h)} /> score {score(h.score)}, {duration(h.duration_ms)}
              </p>
              <RowDetail row={h} />
            </div>
          ))}
        </div>
      )}
    </>
  );
}

export function RowDetail({ row: r, loading = false }: { row: Row & { input?: StoredInput | null }; loading?: boolean }) {
  return (
    <div class="row-detail" data-testid="test-detail">
      {r.input !== undefined && (
        <>
          <h4>Input</h4>
          <InputView input={r.input} />
        </>
      )}
      {r.error && (
        <>
          <h4>Error</h4>
          <pre class="pre pre-error">{r.error}</pre>
        </>
      )}
      {r.assertions.length > 0 && (
        <>
          <h4>Assertions</h4>
          <table class="table inner">
            <thead>
              <tr>
                <th>Type</th>
                <th>Result</th>
                <th class="num">Score</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {r.assertions.map((a, i) => (
                <tr key={i}>
                  <td class="mono">{a.metric ? `${a.type} (${a.metric})` : a.type}</td>
                  <td>
                    <StatusBadge status={a.passed ? 'passed' : 'failed'} />
                  </td>
                  <td class="num">{score(a.score)}</td>
                  <td class="reason">
                    {a.reason ?? ''}
                    <ExpectedActual reason={a.reason} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h4>Output{loading ? ' (preview; loading the whole output…)' : ''}</h4>
      {r.output === null ? <p class="muted">No output.</p> : <Output text={r.output} />}
      <p class="muted small">
        {r.token_usage && `tokens ${r.token_usage.prompt} in / ${r.token_usage.completion} out · `}
        {r.cost_usd !== null && `$${r.cost_usd.toFixed(4)} · `}
        input {r.input_hash.slice(0, 12)}
      </p>
    </div>
  );
}

function ExpectedActual({ reason }: { reason: string | null }) {
  const ea = expectedActual(reason);
  if (!ea) return null;
  return (
    <dl class="ea" data-testid="expected-actual">
      <dt>expected</dt>
      <dd class="mono">{pretty(ea.expected)}</dd>
      <dt>actual</dt>
      <dd class="mono">{pretty(ea.actual)}</dd>
    </dl>
  );
}

/** JSON is shown pretty-printed; a huge output is cut until asked for. */
function Output({ text }: { text: string }) {
  const [all, setAll] = useState(false);
  const shown = pretty(text);
  const cut = !all && shown.length > OUTPUT_LIMIT;
  return (
    <>
      <pre class="pre">{cut ? shown.slice(0, OUTPUT_LIMIT) : shown}</pre>
      {cut && (
        <button type="button" class="btn btn-sm" onClick={() => setAll(true)}>
          Show all ({Math.round(shown.length / 1024)} KB)
        </button>
      )}
    </>
  );
}
