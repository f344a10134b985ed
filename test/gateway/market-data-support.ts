// Shared by the market-data tests: the engine's own books as the oracle, a client-side book that applies a
// snapshot and deltas the way a client would, a Fastify app with the gateway's validation and error mapping around
// the market-data plugin, and a WebSocket client that records what it receives.

import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { Redis } from 'ioredis';
import type { Sql } from 'postgres';
import { WebSocket } from 'ws';
import type { Engine } from '../../engine/core/index.js';
import type { Market } from '../../engine/core/order.js';
import { toGatewayError } from '../../gateway/app.js';
import { marketDataPlugin } from '../../gateway/market-data/plugin.js';
import type { MarketDataLimits } from '../../gateway/market-data/plugin.js';
import type { MarketEventSource } from '../../gateway/market-data/source.js';
import type { LevelTuple } from '../../gateway/market-data/depth-book.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The engine's book of a market, aggregated: [priceTicks, totalLots] best first. */
export function engineDepth(engine: Engine, marketId: number): { bids: LevelTuple[]; asks: LevelTuple[] } {
  const m = engine.markets[marketId] as Market;
  const side = (s: Market['book']['bids']): LevelTuple[] => {
    const out: LevelTuple[] = [];
    s.forEachLevel((l) => void out.push([l.priceTicks, l.totalLots]));
    return out;
  };
  return { bids: side(m.book.bids), asks: side(m.book.asks) };
}

/** A client's book: a snapshot, then deltas that must chain (prevSeq = the book's seq). Decimal strings as sent. */
export class ClientBook {
  seq = -1;
  bids = new Map<string, string>();
  asks = new Map<string, string>();
  gaps = 0;

  load(msg: { seq: number; bids: [string, string][]; asks: [string, string][] }): void {
    this.seq = msg.seq;
    this.bids = new Map(msg.bids);
    this.asks = new Map(msg.asks);
  }

  /** False when the delta does not continue this book: the client has missed one (a gap). */
  apply(msg: { prevSeq: number; seq: number; bids: [string, string][]; asks: [string, string][] }): boolean {
    if (msg.seq <= this.seq) return true;
    if (msg.prevSeq !== this.seq) {
      this.gaps++;
      return false;
    }
    for (const [p, q] of msg.bids) q === '0' ? this.bids.delete(p) : this.bids.set(p, q);
    for (const [p, q] of msg.asks) q === '0' ? this.asks.delete(p) : this.asks.set(p, q);
    this.seq = msg.seq;
    return true;
  }

  sorted(): { bids: [string, string][]; asks: [string, string][] } {
    const byPrice = (desc: boolean) => (a: [string, string], b: [string, string]) => {
      const d = Number(a[0]) - Number(b[0]);
      return desc ? -d : d;
    };
    return { bids: [...this.bids].sort(byPrice(true)), asks: [...this.asks].sort(byPrice(false)) };
  }
}

export interface AppOptions {
  readonly sql: Sql;
  /** Absent: a single instance without relays (needs `events` and `publish: false`). */
  readonly redis?: Redis;
  readonly prefix?: string;
  readonly events?: MarketEventSource;
  readonly publish?: boolean;
  readonly limits?: Partial<MarketDataLimits>;
  readonly nowMs?: () => number;
}

/** Tests authenticate with a plain header; the gateway's real authenticator is the core's (app.ts). */
export const TEST_USER_HEADER = 'x-test-user';

/** The plugin inside the gateway's own validation and error mapping (as buildGateway sets them up). */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    frameworkErrors: (error, _request, reply) =>
      void (reply as FastifyReply).code(400).send({ code: 'EX_BAD_REQUEST', message: error.message }),
    ajv: { customOptions: { coerceTypes: false } },
  });
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  app.setErrorHandler((err: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
    const e = toGatewayError(err);
    return reply.code(e.statusCode).send({ code: e.code, message: e.message });
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send({ code: 'EX_NOT_FOUND', message: 'No such route.' }),
  );
  await app.register(marketDataPlugin, {
    sql: opts.sql,
    redis: opts.redis,
    redisPrefix: opts.prefix,
    events: opts.events,
    publish: opts.publish,
    limits: opts.limits,
    nowMs: opts.nowMs,
    authenticate: async (req) => {
      const raw = req.headers[TEST_USER_HEADER];
      return typeof raw === 'string' && /^[1-9][0-9]{0,5}$/.test(raw) ? { userId: Number(raw) } : null;
    },
  });
  return app;
}

export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A WebSocket client that keeps every message it receives. */
export class TestClient {
  readonly messages: Record<string, unknown>[] = [];
  closeCode: number | null = null;
  closeReason = '';
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(JSON.parse(data.toString())));
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
  }

  static async open(url: string, userId?: number): Promise<TestClient> {
    const ws = new WebSocket(url, { headers: userId === undefined ? {} : { [TEST_USER_HEADER]: String(userId) } });
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  of(type: string): Record<string, unknown>[] {
    return this.messages.filter((m) => m.type === type);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.ws.once('close', r));
    this.ws.close();
    await closed;
  }
}
