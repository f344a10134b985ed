import { render } from 'preact';
import './styles.css';
import { checkSession } from './api.js';
import { App } from './app.js';
import { applyTheme } from './theme.js';
import { followSession, loadStatic } from './data.js';
import { stream } from './ws.js';

applyTheme();
followSession();
stream.connect();
render(<App />, document.getElementById('app') as HTMLElement);
void Promise.all([loadStatic(), checkSession()]).catch((err: unknown) => console.warn('start-up request failed', err));
