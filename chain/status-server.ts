// The chain service's status over HTTP, for the orchestrator and Prometheus (bind it to an internal address):
//   GET /health   200 while the process runs
//   GET /ready    200 when PostgreSQL answers and every loop (deposits, sweeps, withdrawals) completed a tick within
//                 staleAfterMs; 503 otherwise. The body gives each loop's age either way: a stuck loop shows which.
//   GET /metrics  Prometheus text (chain/metrics.ts: chain_loop_progress_age_seconds{loop}, hot wallet gauges)
// node:http, not Fastify: three fixed routes, no input.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sql } from 'postgres';
import type { ChainService } from './service.js';

const CHECK_TIMEOUT_MS = 2_000;

export interface StatusServer {
  readonly url: string;
  close(): Promise<void>;
}

async function postgresAnswers(sql: Sql): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS)));
  try {
    return await Promise.race([
      sql`SELECT 1`.then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The /ready answer: status code and body. */
export async function readiness(
  service: ChainService,
  sql: Sql,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const postgres = await postgresAnswers(sql);
  const { loops, stale } = service.progress();
  const ready = postgres && !stale;
  return {
    status: ready ? 200 : 503,
    body: { status: ready ? 'ready' : 'unready', checks: { postgres, loopsFresh: !stale }, loopProgressAgeMs: loops },
  };
}

export async function startStatusServer(opts: {
  service: ChainService;
  sql: Sql;
  host: string;
  port: number;
}): Promise<StatusServer> {
  const send = (res: http.ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const answer = async (): Promise<void> => {
      if (req.method !== 'GET')
        return send(res, 405, 'application/json', JSON.stringify({ code: 'METHOD_NOT_ALLOWED' }));
      if (path === '/health') return send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }));
      if (path === '/ready') {
        const r = await readiness(opts.service, opts.sql);
        return send(res, r.status, 'application/json', JSON.stringify(r.body));
      }
      if (path === '/metrics')
        return send(res, 200, opts.service.metrics.registry.contentType, await opts.service.metrics.registry.metrics());
      return send(res, 404, 'application/json', JSON.stringify({ code: 'NOT_FOUND' }));
    };
    answer().catch(() => send(res, 500, 'application/json', JSON.stringify({ code: 'INTERNAL' })));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
