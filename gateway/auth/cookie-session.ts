// A session kept in a cookie, for the web page: the same session token as `Authorization: Bearer`, but in an
// HttpOnly cookie (page scripts never see it), SameSite=Strict (other sites' pages never send it), Secure and
// `__Host-` prefixed when the request came over TLS. A request authenticated by the cookie that changes state must
// also carry `X-CSRF-Token`: an HMAC of the session (under the gateway's secret key) that the page reads from
// GET /v1/auth/session, which another site cannot read. The WebSocket upgrade, which carries no such header, must
// come from a page of this origin (Origin checked).

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const COOKIE_PLAIN = 'ex_session';
const COOKIE_SECURE = '__Host-ex_session';
const TOKEN = /^s_[A-Za-z0-9_-]{43}$/;
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';

/** The session token in the request's cookie, or null (none, or not a token's shape). */
export function sessionCookie(request: FastifyRequest): string | null {
  const header = request.headers.cookie;
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name !== COOKIE_SECURE && name !== COOKIE_PLAIN) continue;
    const value = part.slice(eq + 1).trim();
    if (TOKEN.test(value)) return value;
  }
  return null;
}

const isTls = (request: FastifyRequest): boolean => request.protocol === 'https';

export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  maxAgeSeconds: number,
): void {
  const secure = isTls(request);
  const name = secure ? COOKIE_SECURE : COOKIE_PLAIN;
  reply.header(
    'set-cookie',
    `${name}=${token}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`,
  );
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  const secure = isTls(request);
  reply.header(
    'set-cookie',
    `${secure ? COOKIE_SECURE : COOKIE_PLAIN}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`,
  );
}

/** The CSRF token of a session: derived, so nothing is stored; another session's token does not fit. */
export function csrfTokenFor(secretKey: Buffer, sessionToken: string): string {
  return createHmac('sha256', secretKey).update(`csrf\n${sessionToken}`).digest('base64url');
}

/** Whether a cookie-authenticated request may proceed: safe methods always; others with the session's CSRF token. */
export function csrfHolds(request: FastifyRequest, secretKey: Buffer, sessionToken: string): boolean {
  if (SAFE_METHODS.has(request.method)) return true;
  const given = request.headers[CSRF_HEADER];
  if (typeof given !== 'string') return false;
  const want = Buffer.from(csrfTokenFor(secretKey, sessionToken));
  const got = Buffer.from(given);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A WebSocket upgrade authenticated by the cookie must come from a page served by this host. */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (typeof origin !== 'string') return false;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
