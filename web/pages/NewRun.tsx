// Launch form: a suite and a target from the repository's configuration (never typed in
// as definitions), optional workers and test ids; on 202 go to the job page.
import { useEffect, useState } from 'preact/hooks';
import type { EvalRunRequest, SuitesResponse } from '../../src/schemas/studio.js';
import { api, errorMessage } from '../api.js';
import { launchAndFollow } from '../launch.js';
import { config, useSignal } from '../state.js';
import type { PageProps } from '../routes.js';
import { ErrorBox } from '../components/ErrorBox.js';

export function NewRun({ query }: PageProps) {
  const cfg = useSignal(config);
  const [opts, setOpts] = useState<SuitesResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [suite, setSuite] = useState(query.get('suite') ?? '');
  const [target, setTarget] = useState(query.get('target') ?? '');
  const [workers, setWorkers] = useState('');
  const [testIds, setTestIds] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = 'New run · agentv Studio';
    api.suites().then(
      (o) => {
        setOpts(o);
        setSuite((s) => s || o.suites[0]?.path || '');
        setTarget((t) => t || o.default_target || o.targets[0]?.name || '');
      },
      (e) => setError(errorMessage(e)),
    );
  }, []);

  if (!cfg) return <p class="muted">Loading…</p>;
  if (cfg.read_only) {
    return (
      <section>
        <h1>New run</h1>
        <p class="notice">This Studio is read-only: runs cannot be launched from here.</p>
      </section>
    );
  }

  const onSubmit = (e: Event) => {
    e.preventDefault();
    const body: EvalRunRequest = { suite };
    if (target) body.target = target;
    const w = Number(workers);
    if (workers.trim() && Number.isInteger(w) && w > 0) body.workers = w;
    const ids = testIds.split(/[\s,]+/).filter(Boolean);
    if (ids.length) body.test_ids = ids;
    setBusy(true);
    setError(null);
    launchAndFollow(body).catch((err) => {
      setBusy(false);
      setError(errorMessage(err));
    });
  };

  const none = opts !== null && opts.suites.length === 0;
  return (
    <section class="narrow">
      <h1>New run</h1>
      <ErrorBox message={error} />
      {none && <p class="notice">No suites were found in this repository.</p>}
      <form class="form" onSubmit={onSubmit}>
        <label>
          <span>Suite</span>
          <select data-testid="suite-select" value={suite} onChange={(e) => setSuite(e.currentTarget.value)} required disabled={!opts}>
            {!opts && <option value="">Loading…</option>}
            {opts?.suites.map((s) => (
              <option key={s.path} value={s.path}>
                {s.name} — {s.path} ({s.test_count} tests)
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Target</span>
          <select data-testid="target-select" value={target} onChange={(e) => setTarget(e.currentTarget.value)} disabled={!opts}>
            {opts && opts.targets.length === 0 && <option value="">(suite default)</option>}
            {opts?.targets.map((t) => (
              <option key={t.name} value={t.name}>
                {t.name} ({t.provider}){t.name === opts.default_target ? ' — default' : ''}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Workers <small class="muted">(optional)</small></span>
          <input type="number" min={1} max={64} step={1} value={workers} onInput={(e) => setWorkers(e.currentTarget.value)} placeholder="default" />
        </label>
        <label>
          <span>Only these test ids <small class="muted">(optional, comma or space separated)</small></span>
          <input type="text" value={testIds} onInput={(e) => setTestIds(e.currentTarget.value)} />
        </label>
        <div class="actions">
          <button type="submit" class="btn btn-primary" data-testid="launch-button" disabled={busy || !suite}>
            {busy ? 'Launching…' : 'Launch'}
          </button>
          <a class="btn" href="/">
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}
