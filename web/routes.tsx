// The one route table. The server answers index.html for each of these paths, so a
// link opened in a new tab lands on the same page; in-app clicks use pushState.
import type { FunctionComponent } from 'preact';
import { Runs } from './pages/Runs.js';
import { RunDetail } from './pages/RunDetail.js';
import { Job } from './pages/Job.js';
import { Jobs } from './pages/Jobs.js';
import { lazyPage } from './lazy.js';

export interface PageProps {
  params: Record<string, string>;
  query: URLSearchParams;
}

interface Route {
  pattern: string;
  page: FunctionComponent<PageProps>;
}

export const routes: Route[] = [
  { pattern: '/', page: Runs },
  { pattern: '/runs/:run_id', page: RunDetail },
  { pattern: '/jobs', page: Jobs },
  { pattern: '/jobs/:id', page: Job },
  // The launch form and Compare load on first visit: the first bundle stays within its 30 KB budget.
  { pattern: '/new', page: lazyPage(() => import('./pages/NewRun.js').then((m) => m.NewRun)) },
  { pattern: '/compare', page: lazyPage(() => import('./pages/Compare.js').then((m) => m.Compare)) },
];

export function matchRoute(path: string): { route: Route; params: Record<string, string> } | null {
  const parts = path.replace(/\/+$/, '').split('/').filter(Boolean);
  for (const route of routes) {
    const want = route.pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = want.every((seg, i) => {
      const got = parts[i]!;
      if (seg.startsWith(':')) {
        try {
          params[seg.slice(1)] = decodeURIComponent(got);
        } catch {
          return false;
        }
        return true;
      }
      return seg === got;
    });
    if (ok) return { route, params };
  }
  return null;
}
