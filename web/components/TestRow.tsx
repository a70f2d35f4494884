// One test's current result; clicking expands its assertions, error and output.
// Output is cut at 20 KB until asked for, so one huge transcript cannot stall the page.
import { useState } from 'preact/hooks';
import type { Row } from '../../src/schemas/row.js';
import { duration, score } from '../format.js';
import { StatusBadge } from './StatusBadge.js';

const OUTPUT_LIMIT = 20 * 1024;

export const testState = (r: Row): 'passed' | 'failed' | 'error' =>
  r.execution_status === 'execution_error' ? 'error' : r.passed ? 'passed' : 'failed';

export function TestRow({ row: r, history }: { row: Row; history?: Row[] | undefined }) {
  const [open, setOpen] = useState(false);
  const toggle = () => setOpen(!open);
  return (
    <>
      <tr data-testid="test-row" data-test-id={r.test_id} class={`clickable ${open ? 'open' : ''}`} onClick={toggle}>
        <td>
          <button
            type="button"
            class="linkish mono"
            aria-expanded={open}
            onClick={(e) => {
              e.stopPropagation();
              toggle();
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
        <td class="num">{score(r.score)}</td>
        <td class="num">{duration(r.duration_ms)}</td>
        <td class="num">{r.attempt}</td>
      </tr>
      {open && (
        <tr class="detail">
          <td colSpan={5}>
            <RowDetail row={r} />
            {history && history.length > 0 && (
              <div class="history">
                <h4>Earlier attempts</h4>
                {history.map((h) => (
                  <div key={h.attempt} class="attempt">
                    <p>
                      Attempt {h.attempt}: <StatusBadge status={testState(h)} /> score {score(h.score)}, {duration(h.duration_ms)}
                    </p>
                    <RowDetail row={h} />
                  </div>
                ))}
              </div>
            )}
          </td>
        </tr>
      )}
    </>
  );
}

function RowDetail({ row: r }: { row: Row }) {
  return (
    <div class="row-detail">
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
                  <td class="reason">{a.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h4>Output</h4>
      {r.output === null ? <p class="muted">No output.</p> : <Output text={r.output} />}
      <p class="muted small">
        {r.token_usage && `tokens ${r.token_usage.prompt} in / ${r.token_usage.completion} out · `}
        {r.cost_usd !== null && `$${r.cost_usd.toFixed(4)} · `}
        input {r.input_hash.slice(0, 12)}
      </p>
    </div>
  );
}

function Output({ text }: { text: string }) {
  const [all, setAll] = useState(false);
  const cut = !all && text.length > OUTPUT_LIMIT;
  return (
    <>
      <pre class="pre">{cut ? text.slice(0, OUTPUT_LIMIT) : text}</pre>
      {cut && (
        <button type="button" class="btn btn-sm" onClick={() => setAll(true)}>
          Show all ({Math.round(text.length / 1024)} KB)
        </button>
      )}
    </>
  );
}
