// Studio viewer entry: loads the config once, renders the page the route table picks,
// and turns same-origin <a href> clicks into pushState navigation (real links, so
// middle-click and "open in new tab" keep working).
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { api, errorMessage } from './api.js';
import { config, configError, isReadOnly, location, navigate, useSignal } from './state.js';
import { matchRoute } from './routes.js';
import { ErrorBox } from './components/ErrorBox.js';

function interceptLinks(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest?.('a');
  if (!a || !a.href || (a.target && a.target !== '_self') || a.hasAttribute('download')) return;
  const url = new URL(a.href);
  if (url.origin !== window.location.origin || url.pathname.startsWith('/api/')) return;
  e.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page here. <a href="/">Back to runs</a>
      </p>
    </section>
  );
}

function App() {
  const loc = useSignal(location);
  const cfg = useSignal(config);
  const cfgError = useSignal(configError);

  useEffect(() => {
    document.addEventListener('click', interceptLinks);
    api
      .config()
      .then((c) => config.set(c))
      .catch((e) => configError.set(`Could not load Studio configuration: ${errorMessage(e)}`));
    return () => document.removeEventListener('click', interceptLinks);
  }, []);

  const m = matchRoute(loc.path);
  const Page = m?.route.page;
  return (
    <>
      <header class="topbar">
        <div class="wrap topbar-inner">
          <a class="brand" href="/">
            agentv <span>Studio</span>
          </a>
          <nav aria-label="Main">
            <a href="/" aria-current={loc.path === '/' ? 'page' : undefined}>
              Runs
            </a>
            <a href="/jobs" aria-current={loc.path.startsWith('/jobs') ? 'page' : undefined}>
              Jobs
            </a>
            {!isReadOnly(cfg) && (
              <a class="btn btn-primary btn-sm" href="/new" data-testid="new-run-link" aria-current={loc.path === '/new' ? 'page' : undefined}>
                New run
              </a>
            )}
          </nav>
          {cfg && (
            <span class="repo muted" title={`${cfg.repo} · ${cfg.ref}`}>
              {cfg.read_only && <span class="badge badge-readonly">read-only</span>} {cfg.remote ? `remote: ${cfg.remote}` : ''} v{cfg.version}
            </span>
          )}
        </div>
      </header>
      <main class="wrap">
        <ErrorBox message={cfgError} />
        {Page ? <Page key={`${m.route.pattern}|${JSON.stringify(m.params)}`} params={m.params} query={loc.query} /> : <NotFound />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
