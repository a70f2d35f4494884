// What a test was asked and what it was expected to answer: the stored input
// (prompt or messages, vars, expected output), shared by the run page's
// expanded test and the Compare page, plus the helpers both use to show an
// output (JSON pretty-printed) and an assertion's expected against actual value.
import type { StoredInput } from '../../src/schemas/input.js';

/** JSON text pretty-printed; anything else unchanged. */
export function pretty(text: string): string {
  if (/^\s*[[{]/.test(text)) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not JSON after all
    }
  }
  return text;
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v, null, 2));

/**
 * The expected and actual values a failing assertion's reason carries
 * ("expected "x", got "y"", "expected JSON {...}, got {...}"), else null.
 */
export function expectedActual(reason: string | null): { expected: string; actual: string } | null {
  const m = reason ? /^expected (?:JSON )?([\s\S]+?), got ([\s\S]*)$/.exec(reason) : null;
  if (!m) return null;
  const unquote = (s: string) => {
    if (s.startsWith('"')) {
      try {
        return JSON.parse(s) as string;
      } catch {
        // cut with an ellipsis: shown as it is
      }
    }
    return s;
  };
  return { expected: unquote(m[1]!), actual: unquote(m[2]!) };
}

export function InputView({ input }: { input: StoredInput | null | undefined }) {
  if (!input) return <p class="muted small">No stored input (written before inputs were stored).</p>;
  const vars = Object.entries(input.vars);
  return (
    <div class="input-view" data-testid="test-input">
      {input.messages ? (
        <ol class="messages">
          {input.messages.map((m, i) => (
            <li key={i}>
              <span class="role">{m.role}</span>
              <pre class="pre">{m.content}</pre>
            </li>
          ))}
        </ol>
      ) : (
        <pre class="pre" data-testid="input-prompt">{input.prompt ?? ''}</pre>
      )}
      {vars.length > 0 && (
        <dl class="vars">
          {vars.map(([k, v]) => (
            <div key={k}>
              <dt class="mono">{k}</dt>
              <dd class="mono">{show(v)}</dd>
            </div>
          ))}
        </dl>
      )}
      {input.expected_output !== null && input.expected_output !== undefined && (
        <p class="small" data-testid="input-expected">
          <b>Expected output</b> <span class="mono">{show(input.expected_output)}</span>
        </p>
      )}
    </div>
  );
}
