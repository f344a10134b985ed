// The public REST API, as any client uses it. The session is an HttpOnly cookie the page never sees; requests
// that change something carry the session's CSRF token (GET /v1/auth/session gives it). Errors are the API's own
// `{ code, message }`, shown to the person as they are.

import { Store } from './store.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SessionUser {
  userId: number;
  username: string;
  csrfToken: string | null;
}

/** The signed-in user, or null; undefined until the first check. */
export const session = new Store<SessionUser | null | undefined>(undefined);

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const csrf = session.value?.csrfToken;
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (!res.ok) {
    const code = typeof data?.code === 'string' ? data.code : `HTTP_${res.status}`;
    // A session that ended elsewhere (expired, logged out in another tab): back to signed out.
    if (code === 'EX_SESSION_INVALID') session.set(null);
    throw new ApiError(res.status, code, typeof data?.message === 'string' ? data.message : res.statusText);
  }
  return data as T;
}

interface SessionAnswer {
  signedIn: boolean;
  userId: number | null;
  username: string | null;
  csrfToken: string | null;
}

export function sessionFrom(a: SessionAnswer): SessionUser | null {
  return a.signedIn && a.userId !== null && a.username !== null
    ? { userId: a.userId, username: a.username, csrfToken: a.csrfToken }
    : null;
}

/** Who is signed in (by the cookie), or null. */
export async function checkSession(): Promise<void> {
  session.set(sessionFrom(await api<SessionAnswer>('GET', '/v1/auth/session')));
}

export async function signIn(username: string, password: string, otp?: string): Promise<void> {
  session.set(
    sessionFrom(await api<SessionAnswer>('POST', '/v1/auth/session', { username, password, ...(otp ? { otp } : {}) })),
  );
}

export async function signOut(): Promise<void> {
  await api('DELETE', '/v1/auth/session');
  session.set(null);
}

export function errorText(err: unknown): string {
  return err instanceof ApiError ? `${err.code}: ${err.message}` : (err as Error).message;
}
