// Launch form: a suite and a target from the repository's configuration (never typed in
// as definitions), optional workers, tags and test ids; on 202 go to the job page.
// Nothing is preselected (a click must never start an expensive run by accident),
// the number of tests is shown, and a large launch asks first.
import { useEffect, useState } from 'preact/hooks';
import type { EvalRunRequest, SuiteEntry, SuitesResponse } from '../../src/schemas/studio.js';
import { api, errorMessage } from '../api.js';
import { launchAndFollow } from '../launch.js';
import { config, navigate, useSignal } from '../state.js';
import type { PageProps } from '../routes.js';
import { ErrorBox } from '../components/ErrorBox.js';

/** Launches of at least this many tests ask for confirmation. */
const CONFIRM_ABOVE = 100;

const list = (s: string) => s.split(/[\s,]+/).filter(Boolean);

/** How many of the suite's tests a tag selection picks (a test with any of the tags), when the server sent its tag sets. */
function taggedCount(suite: SuiteEntry, tags: string[]): number | null {
  if (!tags.length) return suite.test_count;
  if (!suite.tag_sets) return null;
  return suite.tag_sets.reduce((n, set) => (set.tags.some((t) => tags.includes(t)) ? n + set.test_count : n), 0);
}

export function NewRun({ query }: PageProps) {
  const cfg = useSignal(config);
  const [opts, setOpts] = useState<SuitesResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [suite, setSuite] = useState(query.get('suite') ?? '');
  const [target, setTarget] = useState(query.get('target') ?? '');
  const [workers, setWorkers] = useState('');
  const [testIds, setTestIds] = useState('');
  const [tags, setTags] = useState(query.get('tag') ?? '');
  const [reuse, setReuse] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = 'New run · agentv Studio';
    api.suites().then(
      (o) => {
        setOpts(o);
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

  const chosen = opts?.suites.find((x) => x.path === suite) ?? null;
  const tagList = list(tags);
  const allTags = chosen?.tag_sets ? [...new Set(chosen.tag_sets.flatMap((x) => x.tags))].sort((a, b) => a.localeCompare(b)) : null;
  const tagCount = (t: string) => (chosen ? (taggedCount(chosen, [t]) ?? 0) : 0);
  // The suite, target and tags live in the URL (replaced, not pushed): a launch form can be shared as a link.
  const remember = (changes: Record<string, string>) => {
    const q = new URLSearchParams(window.location.search);
    for (const [k, v] of Object.entries(changes)) {
      if (v) q.set(k, v);
      else q.delete(k);
    }
    const qs = q.toString();
    navigate(`/new${qs ? `?${qs}` : ''}`, { replace: true });
  };
  const pickSuite = (v: string) => {
    setSuite(v);
    setTags('');
    remember({ suite: v, tag: '' });
  };
  const pickTags = (v: string[]) => {
    setTags(v.join(','));
    remember({ tag: v.join(',') });
  };

  const onSubmit = (e: Event) => {
    e.preventDefault();
    const body: EvalRunRequest = { suite };
    if (target) body.target = target;
    const w = Number(workers);
    if (workers.trim() && Number.isInteger(w) && w > 0) body.workers = w;
    const ids = list(testIds);
    if (ids.length) body.test_ids = ids;
    if (tagList.length) body.tags = tagList;
    if (reuse) body.reuse = reuse === 'reuse';
    const exact = chosen ? taggedCount(chosen, tagList) : null;
    const count = ids.length || (exact ?? chosen?.test_count ?? 0);
    if (count >= CONFIRM_ABOVE && !window.confirm(`Launch ${count}${exact === null && !ids.length ? ' or fewer (tag filter)' : ''} tests against ${target || opts?.default_target || 'the default target'}?`)) return;
    setBusy(true);
    setError(null);
    launchAndFollow(body).catch((err) => {
      setBusy(false);
      setError(errorMessage(err));
    });
  };

  const none = opts !== null && opts.suites.length === 0;
  const ids = list(testIds);
  const exact = chosen ? taggedCount(chosen, tagList) : null;
  const willRun = ids.length || exact;
  return (
    <section class="narrow">
      <h1>New run</h1>
      <ErrorBox message={error} />
      {none && <p class="notice">No suites were found in this repository.</p>}
      <form class="form" onSubmit={onSubmit}>
        <label>
          <span>Suite</span>
          <select data-testid="suite-select" value={suite} onChange={(e) => pickSuite(e.currentTarget.value)} required disabled={!opts}>
            <option value="">{opts ? 'Choose a suite…' : 'Loading…'}</option>
            {opts?.suites.map((s) => (
              <option key={s.path} value={s.path}>
                {s.name} — {s.path} ({s.test_count} tests)
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Target</span>
          <select data-testid="target-select" value={target} onChange={(e) => {
              setTarget(e.currentTarget.value);
              remember({ target: e.currentTarget.value });
            }} disabled={!opts}>
            <option value="">{opts?.default_target ? `configured default (${opts.default_target})` : 'choose a target…'}</option>
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
        {allTags && allTags.length > 0 ? (
          <fieldset class="tags" data-testid="tags-picker">
            <legend>
              Only tests with any of these tags <small class="muted">(optional, as --tag)</small>
            </legend>
            {allTags.map((t) => (
              <label key={t} class="tag" data-testid={`tag-${t}`}>
                <input
                  type="checkbox"
                  checked={tagList.includes(t)}
                  onChange={(e) => pickTags(e.currentTarget.checked ? [...tagList, t] : tagList.filter((x) => x !== t))}
                />{' '}
                {t} ({tagCount(t)})
              </label>
            ))}
          </fieldset>
        ) : (
          <label>
            <span>Only tests with these tags <small class="muted">(optional, as --tag)</small></span>
            <input type="text" data-testid="tags-input" value={tags} onInput={(e) => {
                setTags(e.currentTarget.value);
                remember({ tag: list(e.currentTarget.value).join(',') });
              }} placeholder="smoke, slow" />
          </label>
        )}
        <label>
          <span>Only these test ids <small class="muted">(optional, comma or space separated)</small></span>
          <input type="text" value={testIds} onInput={(e) => setTestIds(e.currentTarget.value)} />
        </label>
        <label>
          <span>Earlier outputs <small class="muted">(--reuse: grade the newest stored output of an unchanged call instead of calling the target)</small></span>
          <select data-testid="reuse-select" value={reuse} onChange={(e) => setReuse(e.currentTarget.value)}>
            <option value="">as .agentv/config.yaml says (default: call the target)</option>
            <option value="reuse">reuse them where the call is unchanged</option>
            <option value="no-reuse">always call the target</option>
          </select>
        </label>
        {chosen && (
          <p class="muted" data-testid="test-count">
            {ids.length ? `${ids.length} selected tests` : exact === null ? `${chosen.test_count} tests before the tag filter` : `${exact} tests`} will run
            {(willRun ?? chosen.test_count) >= CONFIRM_ABOVE ? ' (you will be asked to confirm)' : ''}.
          </p>
        )}
        <div class="actions">
          <button type="submit" class="btn btn-primary" data-testid="launch-button" disabled={busy || !suite || (!target && !opts?.default_target)}>
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
