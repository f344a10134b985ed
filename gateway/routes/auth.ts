// Registration, login, logout and API keys. Keys are managed with a session only: an API key cannot mint keys.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ApiKeyCreated, ApiKeyList, Credentials, KeyIdParams, NewApiKey, Registered, Session, errorResponses } from '../schemas.js';
import type { RouteContext } from './context.js';
import { principalOf } from './context.js';

const tags = ['auth'];
const sessionSecurity: { [name: string]: string[] }[] = [{ session: [] }];

export const authRoutes: FastifyPluginAsync<{ ctx: RouteContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/v1/auth/register', {
    config: { auth: 'public' },
    schema: { tags, summary: 'Create an account', body: Credentials, response: { 201: Registered, ...errorResponses } },
  }, async (request, reply) => reply.code(201).send(await ctx.auth.register(request.body.username, request.body.password)));

  app.post('/v1/auth/login', {
    config: { auth: 'public' },
    schema: { tags, summary: 'Log in: a session token', body: Credentials, response: { 200: Session, ...errorResponses } },
  }, async (request) => ctx.auth.login(request.body.username, request.body.password));

  app.post('/v1/auth/logout', {
    config: { auth: 'session' },
    schema: { tags, summary: 'End this session', security: sessionSecurity, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const token = (request.headers.authorization ?? '').slice('Bearer '.length);
    await ctx.auth.logout(token);
    return reply.code(204).send(null);
  });

  app.post('/v1/api-keys', {
    config: { auth: 'session' },
    schema: { tags, summary: 'Create an API key (its secret is shown once)', security: sessionSecurity, body: NewApiKey, response: { 201: ApiKeyCreated, ...errorResponses } },
  }, async (request, reply) => reply.code(201).send(await ctx.auth.createApiKey(principalOf(request).userId, request.body.label, request.body.scopes)));

  app.get('/v1/api-keys', {
    config: { auth: 'session' },
    schema: { tags, summary: 'Your active API keys (without secrets)', security: sessionSecurity, response: { 200: ApiKeyList, ...errorResponses } },
  }, async (request) => ({ keys: await ctx.auth.listApiKeys(principalOf(request).userId) }));

  app.delete('/v1/api-keys/:keyId', {
    config: { auth: 'session' },
    schema: { tags, summary: 'Revoke an API key', security: sessionSecurity, params: KeyIdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    await ctx.auth.revokeApiKey(principalOf(request).userId, request.params.keyId);
    return reply.code(204).send(null);
  });
};
