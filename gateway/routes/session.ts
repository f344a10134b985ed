// The web page's session (an HttpOnly cookie: gateway/auth/cookie-session.ts) and what a client needs to know about
// this gateway before it signs in. Public API like the rest: any browser client of this origin can use them.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { clearSessionCookie, csrfTokenFor, sessionCookie, setSessionCookie } from '../auth/cookie-session.js';
import { GatewayError, gatewayError } from '../errors.js';
import { ExchangeInfo, LoginBody, WebSession, errorResponses } from '../schemas.js';
import type { RouteContext } from './context.js';
import { clientOf } from './context.js';

const tags = ['auth'];
const sessionSecurity: { [name: string]: string[] }[] = [{ session: [] }, { sessionCookie: [] }];

export interface SessionRouteOptions {
  readonly ctx: RouteContext;
  /** The devnet faucet route exists (POST /v1/devnet/faucet). */
  readonly devnetFaucet: boolean;
  /** Blocks before a deposit is credited, when this gateway knows its chain's settings. */
  readonly depositConfirmations: number | null;
}

export const sessionRoutes: FastifyPluginAsync<SessionRouteOptions> = async (
  fastify,
  { ctx, devnetFaucet, depositConfirmations },
) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const ttlSeconds = Math.floor(ctx.options.sessionTtlMs / 1000);
  const info = async (userId: number, token: string | null) => {
    const [row] = await ctx.sql<
      { username: string }[]
    >`SELECT username FROM gateway_accounts WHERE user_id = ${userId}`;
    if (row === undefined) throw gatewayError('EX_SESSION_INVALID');
    return {
      signedIn: true,
      userId,
      username: row.username,
      csrfToken: token === null ? null : csrfTokenFor(ctx.options.secretKey, token),
    };
  };
  const nobody = { signedIn: false, userId: null, username: null, csrfToken: null };

  app.get(
    '/v1/info',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['info'],
        summary: 'What this gateway offers besides the API (devnet faucet, deposit confirmations)',
        response: { 200: ExchangeInfo, ...errorResponses },
      },
    },
    async () => ({ devnetFaucet, depositConfirmations }),
  );

  app.post(
    '/v1/auth/session',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Log in with a session cookie (for browsers)',
        body: LoginBody,
        response: { 200: WebSession, ...errorResponses },
        description:
          "As POST /v1/auth/login (two-factor code, back-off), but sets an HttpOnly, SameSite=Strict session cookie (Secure and __Host- prefixed over TLS) instead of answering with the token. Requests it authenticates that change anything must carry the answer's csrfToken as X-CSRF-Token.",
      },
    },
    async (request, reply) => {
      const session = await ctx.auth.login(request.body, clientOf(request));
      setSessionCookie(request, reply, session.token, ttlSeconds);
      return info(session.userId, session.token);
    },
  );

  app.get(
    '/v1/auth/session',
    {
      // Public: a page asks before anyone signed in, and "nobody" is an answer, not an error.
      config: { auth: 'public' },
      schema: {
        tags,
        security: sessionSecurity,
        summary: 'Who this request is signed in as, and the CSRF token of a cookie session',
        response: { 200: WebSession, ...errorResponses },
        description:
          'signedIn false without a session, or with a cookie whose session ended (the cookie is then cleared). API keys are not sessions: signedIn false.',
      },
    },
    async (request, reply) => {
      const principal = await ctx.auth.principal(request).catch((err: unknown) => {
        if (err instanceof GatewayError && err.statusCode === 401) return null;
        throw err;
      });
      if (principal === null || principal.via !== 'session') {
        if (sessionCookie(request) !== null) clearSessionCookie(request, reply);
        return nobody;
      }
      return info(principal.userId, request.headers.authorization === undefined ? sessionCookie(request) : null);
    },
  );

  app.delete(
    '/v1/auth/session',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        security: sessionSecurity,
        summary: 'Log out: end this session (cookie or bearer token) and clear the cookie',
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const bearer = request.headers.authorization;
      const token = bearer !== undefined ? bearer.slice('Bearer '.length) : sessionCookie(request);
      if (token !== null) await ctx.auth.logout(token, clientOf(request));
      clearSessionCookie(request, reply);
      return reply.code(204).send(null);
    },
  );
};
