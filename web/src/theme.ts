// Dark or light, remembered in this browser; the stylesheet's variables do the rest (data-theme on <html>).

import { Store } from './store.js';

export type Theme = 'dark' | 'light';

export const theme = new Store<Theme>(
  (localStorage.getItem('theme') as Theme | null) ??
    (matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark'),
);

export function applyTheme(): void {
  document.documentElement.dataset.theme = theme.value;
  theme.subscribe((t) => {
    document.documentElement.dataset.theme = t;
    localStorage.setItem('theme', t);
  });
}
