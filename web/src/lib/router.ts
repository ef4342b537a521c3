import { useSyncExternalStore } from 'react';

/** A tiny History API router: the SPA's pages are plain paths, served by the connector's SPA fallback. */
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());
window.addEventListener('popstate', notify);

export function navigate(to: string, replace = false): void {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.scrollTo(0, 0);
  notify();
}

export function useLocation(): { path: string; query: URLSearchParams } {
  const href = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => location.pathname + location.search,
  );
  const u = new URL(href, location.origin);
  return { path: u.pathname, query: u.searchParams };
}

export function logSearchHref(query: string, range?: string): string {
  const p = new URLSearchParams({ q: query });
  if (range) p.set('range', range);
  return `/logs?${p.toString()}`;
}

export const computerHref = (name: string) => `/computers?name=${encodeURIComponent(name)}`;
