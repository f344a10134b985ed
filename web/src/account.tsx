// API keys: create one with scopes (its secret is shown once, here), list them, revoke one.

import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from './api.js';
import type { ApiKey } from './types.js';

const SCOPES = ['read', 'trade', 'withdraw'] as const;

export function AccountPage() {
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [label, setLabel] = useState('');
  const [scopes, setScopes] = useState<string[]>(['read']);
  const [created, setCreated] = useState<{ keyId: string; secret: string } | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [again, setAgain] = useState(0);
  useEffect(() => void api<{ keys: ApiKey[] }>('GET', '/v1/api-keys').then((r) => setKeys(r.keys)).catch(() => undefined), [again]);
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await api<{ keyId: string; secret: string }>('POST', '/v1/api-keys', { label, scopes });
      setCreated({ keyId: r.keyId, secret: r.secret });
      setMessage(null);
      setLabel('');
      setAgain((n) => n + 1);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  const revoke = async (k: ApiKey) => {
    try {
      await api('DELETE', `/v1/api-keys/${k.keyId}`);
      setMessage({ ok: true, text: `Key ${k.label} revoked.` });
      if (created?.keyId === k.keyId) setCreated(null);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
    setAgain((n) => n + 1);
  };
  return (
    <section class="panel">
      <h1>API keys</h1>
      <p class="muted">For trading programs (ccxt, bots): requests are signed with the key's secret (see <a href="/docs">the API documentation</a>).</p>
      <form class="inline" onSubmit={create}>
        <label>Label <input name="keyLabel" required maxLength={64} value={label} onInput={(e) => setLabel(e.currentTarget.value)} /></label>
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.map((s) => (
            <label key={s} class="check">
              <input type="checkbox" name={`scope-${s}`} checked={scopes.includes(s)} onChange={(e) => setScopes(e.currentTarget.checked ? [...scopes, s] : scopes.filter((x) => x !== s))} /> {s}
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={scopes.length === 0}>Create key</button>
      </form>
      {created !== null ? (
        <div class="secret" role="status" data-testid="new-key">
          <p><strong>Copy the secret now: it is shown only this once.</strong></p>
          <p>Key <code>{created.keyId}</code></p>
          <p>Secret <code>{created.secret}</code></p>
          <button type="button" onClick={() => setCreated(null)}>I have stored it</button>
        </div>
      ) : null}
      {message !== null ? <p class={message.ok ? 'ok' : 'error'} role={message.ok ? 'status' : 'alert'}>{message.text}</p> : null}
      <div class="scroll">
        <table data-testid="api-keys">
          <thead><tr><th>Label</th><th>Key</th><th>Scopes</th><th>Created</th><th><span class="sr">Actions</span></th></tr></thead>
          <tbody>
            {keys.length === 0 ? <tr><td colSpan={5} class="muted">No API keys.</td></tr> : null}
            {keys.map((k) => (
              <tr key={k.keyId}>
                <td>{k.label}</td>
                <td><code>{k.keyId}</code></td>
                <td>{k.scopes.join(', ')}</td>
                <td>{new Date(k.createdAt).toLocaleString(undefined, { hour12: false })}</td>
                <td><button type="button" onClick={() => void revoke(k)} aria-label={`Revoke key ${k.label}`}>Revoke</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
