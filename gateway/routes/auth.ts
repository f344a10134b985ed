// Registration, login, logout, sessions and API keys. Keys and sessions are managed with a session only: an API
// key cannot mint keys or revoke sessions.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { IpAllowListError, normalIpAllowList } from '../auth/ip-allow.js';
import { gatewayError } from '../errors.js';
import {
  ApiKeyCreated,
  ApiKeyList,
  Credentials,
  KeyIdParams,
  LoginBody,
  NewApiKey,
  Registered,
  Session,
  SessionIdParams,
  SessionList,
  SessionsRevoked,
  errorResponses,
} from '../schemas.js';
import type { RouteContext } from './context.js';
import { clientOf, principalOf } from './context.js';

const tags = ['auth'];
const sessionSecurity: { [name: string]: string[] }[] = [{ session: [] }];

function ipAllowOf(list: readonly string[] | undefined): string[] | null {
  if (list === undefined) return null;
  try {
    return normalIpAllowList(list);
  } catch (err) {
    if (err instanceof IpAllowListError)
      throw gatewayError(
        'EX_IP_ALLOW_LIST_INVALID',
        `${gatewayError('EX_IP_ALLOW_LIST_INVALID').message} ${err.message}.`,
      );
    throw err;
  }
}

export const authRoutes: FastifyPluginAsync<{ ctx: RouteContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/v1/auth/register',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Create an account',
        body: Credentials,
        response: { 201: Registered, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await ctx.auth.register(request.body.username, request.body.password, clientOf(request))),
  );

  app.post(
    '/v1/auth/login',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Log in: a session token',
        body: LoginBody,
        response: { 200: Session, ...errorResponses },
        description:
          'Unknown name and wrong password answer alike (EX_BAD_CREDENTIALS). Repeated failures per name or address lock further attempts with growing back-off (EX_AUTH_THROTTLED, Retry-After).',
      },
    },
    async (request) => ctx.auth.login(request.body, clientOf(request)),
  );

  app.post(
    '/v1/auth/logout',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        summary: 'End this session',
        security: sessionSecurity,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const token = (request.headers.authorization ?? '').slice('Bearer '.length);
      await ctx.auth.logout(token, clientOf(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/sessions',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        summary: 'Your open sessions (where and when they logged in)',
        security: sessionSecurity,
        response: { 200: SessionList, ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      return { sessions: await ctx.auth.listSessions(p.userId, p.sessionId) };
    },
  );

  app.delete(
    '/v1/sessions/:sessionId',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        summary: 'Revoke one of your sessions',
        security: sessionSecurity,
        params: SessionIdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await ctx.auth.revokeSessions(
        principalOf(request).userId,
        { sessionId: request.params.sessionId },
        clientOf(request),
      );
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/v1/sessions',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        summary: 'Revoke all your other sessions (log out everywhere else)',
        security: sessionSecurity,
        response: { 200: SessionsRevoked, ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      return { revoked: await ctx.auth.revokeSessions(p.userId, { allBut: p.sessionId }, clientOf(request)) };
    },
  );

  app.post(
    '/v1/api-keys',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        summary: 'Create an API key (its secret is shown once)',
        security: sessionSecurity,
        body: NewApiKey,
        response: { 201: ApiKeyCreated, ...errorResponses },
        description:
          'The withdraw scope needs `otp` when two-factor authentication is on. `ipAllowList` limits the key to those addresses (EX_IP_NOT_ALLOWED elsewhere).',
      },
    },
    async (request, reply) => {
      const b = request.body;
      const created = await ctx.auth.createApiKey(
        principalOf(request).userId,
        { label: b.label, scopes: b.scopes, ipAllow: ipAllowOf(b.ipAllowList), otp: b.otp },
        clientOf(request),
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/v1/api-keys',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        summary: 'Your active API keys (without secrets)',
        security: sessionSecurity,
        response: { 200: ApiKeyList, ...errorResponses },
      },
    },
    async (request) => ({ keys: await ctx.auth.listApiKeys(principalOf(request).userId) }),
  );

  app.delete(
    '/v1/api-keys/:keyId',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        summary: 'Revoke an API key',
        security: sessionSecurity,
        params: KeyIdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await ctx.auth.revokeApiKey(principalOf(request).userId, request.params.keyId, clientOf(request));
      return reply.code(204).send(null);
    },
  );
};
