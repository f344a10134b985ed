// The gateway's fixed security headers (gateway/web/security.ts) are what @fastify/helmet sets for the same options,
// on a route's answer and on a 404, and a route's own header still wins over them.

import Fastify from 'fastify';
import helmet from '@fastify/helmet';
import t from 'tap';
import { CONTENT_SECURITY_POLICY, SECURITY_HEADERS, installSecurityHeaders } from '../../gateway/web/security.js';

/** The security headers of an answer: everything but what Fastify adds itself. */
function securityHeadersOf(headers: Record<string, unknown>): Record<string, unknown> {
  const { 'content-type': _t, 'content-length': _l, date: _d, connection: _c, ...rest } = headers;
  return rest;
}

async function answers(install: (app: ReturnType<typeof Fastify>) => Promise<void>) {
  const app = Fastify();
  await install(app);
  app.get('/x', async () => ({ ok: true }));
  app.get('/own', async (_request, reply) => reply.header('x-frame-options', 'DENY').send({ ok: true }));
  const route = await app.inject({ method: 'GET', url: '/x' });
  const missing = await app.inject({ method: 'GET', url: '/nope' });
  const own = await app.inject({ method: 'GET', url: '/own' });
  await app.close();
  return { route: route.headers, missing: missing.headers, own: own.headers };
}

t.test("the fixed headers are helmet's for the same options", async (t) => {
  const ours = await answers(async (app) => installSecurityHeaders(app));
  const helmets = await answers(async (app) => {
    await app.register(helmet, {
      global: true,
      contentSecurityPolicy: { useDefaults: false, directives: { ...CONTENT_SECURITY_POLICY } },
      crossOriginEmbedderPolicy: true,
      referrerPolicy: { policy: 'no-referrer' },
    });
  });
  t.same(securityHeadersOf(ours.route), securityHeadersOf(helmets.route), 'on a route');
  t.same(securityHeadersOf(ours.missing), securityHeadersOf(helmets.missing), 'on a 404');
  t.same(securityHeadersOf(ours.route), SECURITY_HEADERS, 'exactly the table');
  t.equal(ours.own['x-frame-options'], 'DENY', "a route's own header wins");
  t.equal(helmets.own['x-frame-options'], 'DENY', 'as it did with helmet');
});
