// Shared viewer state: a tiny signal (value + subscribers) and the few globals that
// pages share (config, current location). Until the config loads, the viewer behaves
// as read-only, so launch and stop buttons never flash on a read-only server.
import { useEffect, useState } from 'preact/hooks';
import type { ViewerConfig } from './api.js';

export interface Signal<T> {
  readonly value: T;
  set(next: T): void;
  subscribe(fn: (value: T) => void): () => void;
}

export function signal<T>(initial: T): Signal<T> {
  let value = initial;
  const subs = new Set<(value: T) => void>();
  return {
    get value() {
      return value;
    },
    set(next) {
      if (Object.is(next, value)) return;
      value = next;
      for (const fn of [...subs]) fn(value);
    },
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
}

/** Re-renders the calling component whenever the signal changes. */
export function useSignal<T>(sig: Signal<T>): T {
  const [, force] = useState(0);
  useEffect(() => {
    force((n) => n + 1); // catch a change between render and subscribe
    return sig.subscribe(() => force((n) => n + 1));
  }, [sig]);
  return sig.value;
}

export const config = signal<ViewerConfig | null>(null);
export const configError = signal<string | null>(null);

/** True until the server has said otherwise. */
export const isReadOnly = (c: ViewerConfig | null): boolean => c === null || c.read_only;

export interface Location {
  path: string;
  query: URLSearchParams;
}

const here = (): Location => ({ path: window.location.pathname, query: new URLSearchParams(window.location.search) });
export const location = signal<Location>(here());

/** Client-side navigation; `replace` for filter changes that should not pile up history. */
export function navigate(to: string, { replace = false }: { replace?: boolean } = {}): void {
  const target = new URL(to, window.location.href);
  const current = window.location.pathname + window.location.search;
  if (target.pathname + target.search === current && !replace) return;
  window.history[replace ? 'replaceState' : 'pushState'](null, '', target.pathname + target.search + target.hash);
  location.set(here());
  if (!replace) window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => location.set(here()));
