// Paths in the address bar, so a market's page can be shared (/trade/TKA-USDT). The gateway answers index.html
// for each of them (gateway/web/page.ts, PAGE_PATHS).

import { createElement } from 'preact';
import type { ComponentChildren } from 'preact';
import { Store } from './store.js';

export const route = new Store<string>(location.pathname);

export function navigate(path: string): void {
  if (path === location.pathname + location.search) return;
  history.pushState(null, '', path);
  route.set(location.pathname);
  window.scrollTo(0, 0);
}

addEventListener('popstate', () => route.set(location.pathname));

export function Link(props: {
  href: string;
  children: ComponentChildren;
  class?: string;
  'aria-current'?: 'page' | undefined;
}) {
  return createElement('a', {
    ...props,
    onClick: (e: MouseEvent) => {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      navigate(props.href);
    },
  });
}
