// A page loaded on first visit, as its own chunk (the launch form; the Compare page and its diff
// library), so the first bundle stays within its budget.
import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { PageProps } from './routes.js';

export function lazyPage(load: () => Promise<FunctionComponent<PageProps>>): FunctionComponent<PageProps> {
  let Loaded: FunctionComponent<PageProps> | null = null;
  return function LazyPage(props: PageProps) {
    const [error, setError] = useState<string | null>(null);
    const [, setReady] = useState(false);
    useEffect(() => {
      if (!Loaded)
        load().then(
          (p) => {
            Loaded = p;
            setReady(true);
          },
          () => setError('Could not load this page. Is `agentv studio` still running?'),
        );
    }, []);
    if (Loaded) return <Loaded {...props} />;
    return <p class={error ? 'error' : 'muted'}>{error ?? 'Loading…'}</p>;
  };
}
