// Liveness (/health: the process answers), readiness (/ready: PostgreSQL, Redis and Kafka all answer; `redis` is
// the gateway's stores, always true when they are in-process; with a chain service in the same process, the
// embedded exchange, also that every chain loop made progress lately) and
// Prometheus metrics (/metrics). Not rate limited, not authenticated (expose them on an internal port or path).

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Health, Readiness } from '../schemas.js';
import type { RouteContext } from './context.js';

const CHECK_TIMEOUT_MS = 2000;
const tags = ['health'];

async function check(work: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS)));
  try {
    return await Promise.race([
      work().then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** ChainService.progress(): each loop's milliseconds since its last completed tick, and whether one is too old. */
export type ChainProgress = () => { readonly loops: Readonly<Record<string, number | null>>; readonly stale: boolean };

export const healthRoutes: FastifyPluginAsync<{
  ctx: RouteContext;
  kafkaReady?: () => Promise<boolean>;
  chainProgress?: ChainProgress;
}> = async (fastify, { ctx, kafkaReady, chainProgress }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const noLimit = { auth: 'public' as const, rateLimit: false as const };

  app.get(
    '/health',
    { config: noLimit, schema: { tags, summary: 'Liveness', response: { 200: Health } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      config: noLimit,
      schema: {
        tags,
        summary: 'Readiness: PostgreSQL, Redis and Kafka answer',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const [postgres, redis, kafka] = await Promise.all([
        check(() => ctx.sql`SELECT 1`),
        check(() => ctx.stores.ping()),
        check(async () => {
          if (!ctx.bus.healthy()) throw new Error('command bus not running');
          if (kafkaReady !== undefined && !(await kafkaReady())) throw new Error('kafka not reachable');
        }),
      ]);
      const chain = chainProgress?.();
      const ready = postgres && redis && kafka && chain?.stale !== true;
      const chainFields = chain === undefined ? {} : { chainLoopProgressAgeMs: chain.loops };
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'unready',
        checks: { postgres, redis, kafka, ...(chain === undefined ? {} : { chain: !chain.stale }) },
        ...chainFields,
      });
    },
  );

  app.get(
    '/metrics',
    { config: noLimit, schema: { tags, summary: 'Prometheus metrics (text format)', produces: ['text/plain'] } },
    async (_request, reply) => {
      const text = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(text);
    },
  );
};
