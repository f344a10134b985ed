import { useState } from 'preact/hooks';
import { ApiError, api, errorText, signIn } from './api.js';
import { Link, navigate } from './router.js';

function nextPath(): string {
  const next = new URLSearchParams(location.search).get('next');
  // Only a path of this page: never an absolute URL to another site.
  return next !== null && /^\/[A-Za-z0-9/_.-]*$/.test(next) ? next : '/markets';
}

function CredentialsForm(props: {
  title: string;
  submit: string;
  onSubmit: (u: string, p: string, otp?: string) => Promise<void>;
  footer: preact.ComponentChildren;
  newPassword?: boolean;
}) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // Asked for only when the account has two-factor authentication on (the API answers EX_OTP_REQUIRED).
  const [otp, setOtp] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const send = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await props.onSubmit(username, password, otp ?? undefined);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'EX_OTP_REQUIRED') {
        setOtp('');
        setError('Two-factor authentication is on: enter the code from your authenticator app (or a recovery code).');
        return;
      }
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel narrow">
      <h1>{props.title}</h1>
      <form onSubmit={send}>
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            required
            minLength={3}
            maxLength={32}
            pattern="[A-Za-z0-9_.\-]{3,32}"
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={props.newPassword ? 'new-password' : 'current-password'}
            required
            minLength={10}
            maxLength={256}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {otp !== null ? (
          <label>
            Two-factor code
            <input
              name="otp"
              autoComplete="one-time-code"
              inputMode="numeric"
              required
              value={otp}
              onInput={(e) => setOtp(e.currentTarget.value.trim())}
            />
          </label>
        ) : null}
        {props.newPassword ? (
          <p class="muted">3–32 letters, digits, _ . -; a password of at least 10 characters.</p>
        ) : null}
        {error !== null ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          {props.submit}
        </button>
      </form>
      <p>{props.footer}</p>
    </section>
  );
}

export function LoginPage() {
  return (
    <CredentialsForm
      title="Log in"
      submit="Log in"
      onSubmit={async (u, p, otp) => {
        await signIn(u, p, otp);
        navigate(nextPath());
      }}
      footer={
        <>
          No account yet? <Link href="/signup">Sign up</Link>
        </>
      }
    />
  );
}

export function SignupPage() {
  return (
    <CredentialsForm
      title="Create an account"
      submit="Sign up"
      newPassword
      onSubmit={async (u, p) => {
        await api('POST', '/v1/auth/register', { username: u, password: p });
        await signIn(u, p);
        navigate('/wallet');
      }}
      footer={
        <>
          Have an account? <Link href="/login">Log in</Link>
        </>
      }
    />
  );
}
