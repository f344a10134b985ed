// Two-factor authentication (TOTP: turn on with a QR code and a first code, recovery codes shown once; turn off)
// and API keys (create with scopes, the secret shown once; list; revoke).

import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from './api.js';
import { Qr } from './qr.js';
import type { ApiKey } from './types.js';

const SCOPES = ['read', 'trade', 'withdraw'] as const;

export function AccountPage() {
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [label, setLabel] = useState('');
  const [scopes, setScopes] = useState<string[]>(['read']);
  const [keyOtp, setKeyOtp] = useState('');
  const [created, setCreated] = useState<{ keyId: string; secret: string } | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [again, setAgain] = useState(0);
  useEffect(
    () =>
      void api<{ keys: ApiKey[] }>('GET', '/v1/api-keys')
        .then((r) => setKeys(r.keys))
        .catch(() => undefined),
    [again],
  );
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await api<{ keyId: string; secret: string }>('POST', '/v1/api-keys', {
        label,
        scopes,
        ...(keyOtp ? { otp: keyOtp } : {}),
      });
      setKeyOtp('');
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
    <div class="wallet">
      <TwoFactorPanel />
      <section class="panel">
        <h1>API keys</h1>
        <p class="muted">
          For trading programs (ccxt, bots): requests are signed with the key's secret (see{' '}
          <a href="/docs">the API documentation</a>).
        </p>
        <form class="inline" onSubmit={create}>
          <label>
            Label{' '}
            <input
              name="keyLabel"
              required
              maxLength={64}
              value={label}
              onInput={(e) => setLabel(e.currentTarget.value)}
            />
          </label>
          <fieldset>
            <legend>Scopes</legend>
            {SCOPES.map((s) => (
              <label key={s} class="check">
                <input
                  type="checkbox"
                  name={`scope-${s}`}
                  checked={scopes.includes(s)}
                  onChange={(e) => setScopes(e.currentTarget.checked ? [...scopes, s] : scopes.filter((x) => x !== s))}
                />{' '}
                {s}
              </label>
            ))}
          </fieldset>
          {scopes.includes('withdraw') ? (
            <label>
              Two-factor code (if on){' '}
              <input
                name="keyOtp"
                autoComplete="one-time-code"
                inputMode="numeric"
                value={keyOtp}
                onInput={(e) => setKeyOtp(e.currentTarget.value.trim())}
              />
            </label>
          ) : null}
          <button type="submit" class="primary" disabled={scopes.length === 0}>
            Create key
          </button>
        </form>
        {created !== null ? (
          <div class="secret" role="status" data-testid="new-key">
            <p>
              <strong>Copy the secret now: it is shown only this once.</strong>
            </p>
            <p>
              Key <code>{created.keyId}</code>
            </p>
            <p>
              Secret <code>{created.secret}</code>
            </p>
            <button type="button" onClick={() => setCreated(null)}>
              I have stored it
            </button>
          </div>
        ) : null}
        {message !== null ? (
          <p class={message.ok ? 'ok' : 'error'} role={message.ok ? 'status' : 'alert'}>
            {message.text}
          </p>
        ) : null}
        <div class="scroll">
          <table data-testid="api-keys">
            <thead>
              <tr>
                <th>Label</th>
                <th>Key</th>
                <th>Scopes</th>
                <th>Created</th>
                <th>
                  <span class="sr">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.length === 0 ? (
                <tr>
                  <td colSpan={5} class="muted">
                    No API keys.
                  </td>
                </tr>
              ) : null}
              {keys.map((k) => (
                <tr key={k.keyId}>
                  <td>{k.label}</td>
                  <td>
                    <code>{k.keyId}</code>
                  </td>
                  <td>{k.scopes.join(', ')}</td>
                  <td>{new Date(k.createdAt).toLocaleString(undefined, { hour12: false })}</td>
                  <td>
                    <button type="button" onClick={() => void revoke(k)} aria-label={`Revoke key ${k.label}`}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}

function TwoFactorPanel() {
  const [status, setStatus] = useState<{ enabled: boolean; recoveryCodesLeft: number } | null>(null);
  const [setup, setSetup] = useState<{ secret: string; otpauthUri: string } | null>(null);
  const [otp, setOtp] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [again, setAgain] = useState(0);
  useEffect(
    () =>
      void api<{ enabled: boolean; recoveryCodesLeft: number }>('GET', '/v1/auth/2fa')
        .then(setStatus)
        .catch(() => undefined),
    [again],
  );
  const act = async (what: () => Promise<string>) => {
    try {
      setMessage({ ok: true, text: await what() });
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
    setOtp('');
    setAgain((n) => n + 1);
  };
  const start = () =>
    act(async () => {
      setSetup(await api<{ secret: string; otpauthUri: string }>('POST', '/v1/auth/2fa/setup'));
      return 'Scan the code with your authenticator app, then enter the code it shows.';
    });
  const enable = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      setCodes((await api<{ recoveryCodes: string[] }>('POST', '/v1/auth/2fa/enable', { otp })).recoveryCodes);
      setSetup(null);
      return 'Two-factor authentication is on.';
    });
  };
  const disable = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      await api('POST', '/v1/auth/2fa/disable', { otp });
      return 'Two-factor authentication is off.';
    });
  };
  return (
    <section class="panel" aria-label="Two-factor authentication">
      <h1>Two-factor authentication</h1>
      {status === null ? (
        <p class="muted">Loading…</p>
      ) : status.enabled ? (
        <>
          <p data-testid="two-factor-status">On. {status.recoveryCodesLeft} recovery codes left.</p>
          <form class="inline" onSubmit={disable}>
            <label>
              Code{' '}
              <input
                name="otpDisable"
                autoComplete="one-time-code"
                inputMode="numeric"
                required
                value={otp}
                onInput={(e) => setOtp(e.currentTarget.value.trim())}
              />
            </label>
            <button type="submit">Turn off</button>
          </form>
        </>
      ) : setup === null ? (
        <>
          <p data-testid="two-factor-status">
            Off. With it on, logging in and withdrawal keys need a code from your authenticator app.
          </p>
          <button type="button" class="primary" onClick={() => void start()}>
            Turn on
          </button>
        </>
      ) : (
        <form onSubmit={enable}>
          <div class="deposit">
            <Qr text={setup.otpauthUri} label="QR code for your authenticator app" />
            <div>
              <span class="muted">Or type this secret:</span>
              <code data-testid="two-factor-secret">{setup.secret}</code>
            </div>
          </div>
          <label>
            Code from the app{' '}
            <input
              name="otpEnable"
              autoComplete="one-time-code"
              inputMode="numeric"
              required
              value={otp}
              onInput={(e) => setOtp(e.currentTarget.value.trim())}
            />
          </label>
          <button type="submit" class="primary">
            Confirm and turn on
          </button>
        </form>
      )}
      {codes !== null ? (
        <div class="secret" role="status" data-testid="recovery-codes">
          <p>
            <strong>Recovery codes: each works once if you lose your authenticator. They are shown only now.</strong>
          </p>
          <p>
            <code>{codes.join(' ')}</code>
          </p>
          <button type="button" onClick={() => setCodes(null)}>
            I have stored them
          </button>
        </div>
      ) : null}
      {message !== null ? (
        <p class={message.ok ? 'ok' : 'error'} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </p>
      ) : null}
    </section>
  );
}
