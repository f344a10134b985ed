// buildGateway(deps): the Fastify instance with every route, its schemas, authentication, rate limits, OpenAPI
// (/openapi.json, Swagger UI at /docs), health, readiness and metrics. Services are injected (PostgreSQL, the
// stores: Redis or in-process, the command bus), so tests drive it with app.inject() against real services and
// main.ts wires production.

import Fastify, { LogController } from 'fastify';
import type {
  FastifyBaseLogger,
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { Sql } from 'postgres';
import type { LoggerOptions } from 'pino';
import { XpubDepositKeys } from '../chain/hd.js';
import { AuditLog } from '../audit/log.js';
import { csrfHolds, sameOrigin, sessionCookie } from './auth/cookie-session.js';
import { AuthGuard } from './auth/guard.js';
import { AuthService } from './auth/service.js';
import { OperatorAuth } from './auth/operators.js';
import type { OperatorPrincipal } from './auth/operators.js';
import { TwoFactor } from './auth/two-factor.js';
import { WithdrawalControls } from './withdrawal-controls.js';
import { withdrawalAddressRoutes } from './routes/withdrawal-addresses.js';
import type { Authenticated, Principal, RouteAuthenticate, Scope } from './auth/service.js';
import { Admission } from './admission.js';
import type { CommandBus } from './command-bus.js';
import type { GatewayOptions } from './config.js';
import { GatewayError, gatewayError } from './errors.js';
import { gatewayLoggerOptions, lazyRequestLogger } from './logging.js';
import { isDecimalSchema } from './schemas.js';
import { MarketCache } from './markets.js';
import { GatewayMetrics } from './metrics.js';
import type { GatewayStores } from './stores/gateway-stores.js';
import { accountRoutes } from './routes/account.js';
import { authRoutes } from './routes/auth.js';
import { healthRoutes } from './routes/health.js';
import { orderRoutes } from './routes/orders.js';
import { walletRoutes } from './routes/wallet.js';
import { faucetRoutes } from './routes/faucet.js';
import { sessionRoutes } from './routes/session.js';
import { adminRoutes } from './routes/admin.js';
import { adminVenueRoutes } from './routes/admin-venue.js';
import { installSecurityHeaders } from './web/security.js';
import { webPagePlugin } from './web/page.js';
import { binancePlugin } from './binance/plugin.js';
import type { DevnetFaucet } from './routes/faucet.js';
import type { ChainProgress } from './routes/health.js';
import type { RouteContext } from './routes/context.js';
import { operatorRoleOf, requireDeclaredAuth, roleAtLeast } from './route-auth.js';
import type { DeclaredRoute, RouteAuth } from './route-auth.js';

export type { RouteAuth } from './route-auth.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /** A route's own way of reading credentials (Binance's signing); by default AuthService.authenticate. */
    authenticate?: RouteAuthenticate;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** The operator of a /v1/admin/ route (never set together with a user's principal). */
    operator: OperatorPrincipal | null;
    rawBody?: string;
  }
}

/** The market-data helper's plugin and its options (gateway/market-data/plugin.ts), registered under the gateway. */
export interface MarketDataRegistration {
  readonly plugin: FastifyPluginAsync<never>;
  readonly options: Record<string, unknown>;
}

export interface GatewayDeps {
  readonly sql: Sql;
  /** Replay protection, command records, rate limits: `redisStores(redis)` or, for ONE instance, `memoryStores()`. */
  readonly stores: GatewayStores;
  readonly bus: CommandBus;
  readonly options: GatewayOptions;
  /** A pino logger (production) or options; defaults to the gateway's pino options at level `silent`. */
  readonly logger?: FastifyBaseLogger | LoggerOptions;
  readonly metrics?: GatewayMetrics;
  /** Builds the market-data registration once the gateway's authenticator exists (its private stream needs it). */
  readonly marketData?: (shared: { authenticate: Authenticate }) => MarketDataRegistration;
  /** Kafka's part of /ready beyond the bus's own state (main.ts: an admin metadata call). */
  readonly kafkaReady?: () => Promise<boolean>;
  /** A chain service in this process (the embedded exchange): its loops' progress is part of /ready. */
  readonly chainProgress?: ChainProgress;
  /** DEVNET ONLY: mints test tokens; given, POST /v1/devnet/faucet exists (the embedded exchange passes its Faucet). */
  readonly faucet?: DevnetFaucet;
  /** The built web page (tools/web/build.ts: dist/web), served at / when given. */
  readonly webRoot?: string;
  /** Blocks before a deposit is credited on this exchange's chain: GET /v1/info and GET /v1/deposits/incoming say it. */
  readonly depositConfirmations?: number;
  readonly nowMs?: () => number;
  /** The Binance-compatible API (gateway/binance/, with market data); default on. */
  readonly binance?: boolean;
}

export interface Gateway {
  readonly app: FastifyInstance;
  /** Every route as registered (method, url pattern, auth): the OpenAPI, authz and fuzz tests walk them. */
  readonly routes: readonly DeclaredRoute[];
  readonly auth: AuthService;
  readonly metrics: GatewayMetrics;
}

function isPinoInstance(x: unknown): x is FastifyBaseLogger {
  return typeof x === 'object' && x !== null && typeof (x as { child?: unknown }).child === 'function';
}

export async function buildGateway(deps: GatewayDeps): Promise<Gateway> {
  const { options } = deps;
  const loggerOpt = deps.logger ?? gatewayLoggerOptions('silent');
  const app = Fastify({
    ...(isPinoInstance(loggerOpt) ? { loggerInstance: loggerOpt } : { logger: loggerOpt }),
    bodyLimit: options.bodyLimitBytes,
    trustProxy: options.trustProxy,
    return503OnClosing: true,
    // No "incoming request" / "request completed" lines: two synchronous log writes per request cost ~20 us of the
    // ~150 us a trading request takes (bench:gateway, LOG_LEVEL info). Request rates and latencies are in /metrics;
    // 5xx answers are still logged by the error handler.
    // (Through a LogController: the top-level option is deprecated in Fastify 5 and warned about at every start.)
    logController: new LogController({ disableRequestLogging: true }),
    // Each request's logger becomes a pino child only if the request logs (gateway/logging.ts).
    childLoggerFactory: lazyRequestLogger,
    // Malformed URLs and the like, before any route: still our error shape, never a 5xx.
    frameworkErrors: (error, _request, reply) =>
      void (reply as FastifyReply).code(400).send({ code: 'EX_BAD_REQUEST', message: error.message }),
    ajv: { customOptions: { coerceTypes: false } },
  });
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  const metrics = deps.metrics ?? new GatewayMetrics();
  const nowMs = deps.nowMs ?? Date.now;
  const audit = new AuditLog(nowMs);
  const guard = new AuthGuard(deps.stores.guards, options.redisPrefix, options.authGuard, nowMs);
  const twoFactor = new TwoFactor(deps.sql, options.secretKey, guard, nowMs);
  const auth = new AuthService({
    ...options,
    sql: deps.sql,
    signatures: deps.stores.signatures,
    nowMs: deps.nowMs,
    guard,
    twoFactor,
    audit,
  });
  const admission = new Admission(deps.stores.admission, options);
  const ctx: RouteContext = {
    sql: deps.sql,
    stores: deps.stores,
    bus: deps.bus,
    auth,
    admission,
    options,
    metrics,
    audit,
    guard,
    twoFactor,
    nowMs,
    withdrawalControls: new WithdrawalControls(
      deps.sql,
      { addressDelayMs: options.withdrawalAddressDelayMs, addressesPerUserMax: options.withdrawalAddressesPerUserMax },
      nowMs,
    ),
    markets: new MarketCache(deps.sql),
    depositKeys: new XpubDepositKeys(options.depositXpub),
    operators: new OperatorAuth({
      sql: deps.sql,
      secretKey: options.secretKey,
      scryptCost: options.scryptCost,
      audit,
      guard,
      nowMs,
    }),
  };

  // Fail closed: a route that does not declare its auth refuses to register (gateway/route-auth.ts).
  const routes: DeclaredRoute[] = [];
  requireDeclaredAuth(app, routes);
  installJsonParser(app);
  installErrors(app, routes, admission);
  installMetrics(app, metrics);
  installSecurityHeaders(app);
  await installDocs(app);
  installAuth(app, { auth, operators: ctx.operators, admission, secretKey: options.secretKey });

  await app.register(healthRoutes, { ctx, kafkaReady: deps.kafkaReady, chainProgress: deps.chainProgress });
  await app.register(authRoutes, { ctx });
  await app.register(accountRoutes, { ctx });
  await app.register(sessionRoutes, {
    ctx,
    devnetFaucet: deps.faucet !== undefined,
    depositConfirmations: deps.depositConfirmations ?? null,
  });
  await app.register(orderRoutes, { ctx });
  await app.register(walletRoutes, { ctx, depositConfirmations: deps.depositConfirmations ?? null });
  await app.register(withdrawalAddressRoutes, { ctx });
  await app.register(adminRoutes, { ctx });
  await app.register(adminVenueRoutes, { ctx });
  if (deps.faucet !== undefined) await app.register(faucetRoutes, { ctx, faucet: deps.faucet });
  // ---- market data (gateway/market-data/, the other helper's): registered here when provided ----------------
  if (deps.marketData !== undefined) {
    const md = deps.marketData({ authenticate: authenticator(auth) });
    await app.register(md.plugin, md.options as never);
    // The Binance-compatible API streams from the market-data hub, so it comes with market data.
    if (deps.binance !== false) await app.register(binancePlugin, { ctx, toGatewayError });
  }
  if (deps.webRoot !== undefined) await app.register(webPagePlugin, { root: deps.webRoot });
  return { app, routes, auth, metrics };
}

/** The raw body is kept for HMAC verification; parsing is Fastify's own (prototype-poisoning safe). */
function installJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  // JSON only: a text/plain body is refused (415) rather than read as a string; it is also the one body type a
  // page of another site may post without asking first.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string;
    // Callback style: the result goes to done (errors included), so the returned promise, if any, is not needed.
    void parse(request, body as string, done);
  });
}

/** Fastify's own error codes for bad input, as ours. Anything not listed with a 4xx status stays a 4xx. */
const FASTIFY_CODES: Record<string, Parameters<typeof gatewayError>[0]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'EX_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'EX_BODY_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'EX_BAD_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'EX_BAD_JSON',
  FST_ERR_VALIDATION: 'EX_BAD_REQUEST',
};

export function toGatewayError(err: FastifyError | GatewayError | Error, request?: FastifyRequest): GatewayError {
  if (err instanceof GatewayError) return err;
  const fe = err as FastifyError;
  const decimal = request === undefined ? null : decimalFieldError(fe, request);
  if (decimal !== null) return decimal;
  const code = fe.code !== undefined ? FASTIFY_CODES[fe.code] : undefined;
  if (code !== undefined)
    return gatewayError(code, code === 'EX_BAD_REQUEST' || code === 'EX_BAD_JSON' ? fe.message : undefined);
  if (fe.validation !== undefined) return gatewayError('EX_BAD_REQUEST', fe.message);
  if (err instanceof SyntaxError) return gatewayError('EX_BAD_JSON');
  const status = fe.statusCode;
  if (status === 413) return gatewayError('EX_BODY_TOO_LARGE');
  if (status === 415) return gatewayError('EX_UNSUPPORTED_MEDIA_TYPE');
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new GatewayError('EX_BAD_REQUEST', fe.message, status);
  return gatewayError('EX_INTERNAL');
}

/**
 * A schema failure of a price, quantity or amount field (a `Decimal` schema: gateway/schemas.ts) is the documented
 * EX_DECIMAL_INVALID, naming the field, rather than the generic EX_BAD_REQUEST: " 100", "1e2", "-1" or a number.
 * The failing field's schema is found from the error's schemaPath in the route's own schema.
 */
function decimalFieldError(fe: FastifyError, request: FastifyRequest): GatewayError | null {
  const first = fe.validation?.[0] as { schemaPath?: string; instancePath?: string } | undefined;
  const part = fe.validationContext;
  if (first?.schemaPath === undefined || part === undefined) return null;
  const root = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[
    part === 'querystring' ? 'querystring' : part
  ];
  const field = schemaAt(root, first.schemaPath);
  if (!isDecimalSchema(field)) return null;
  const name = (first.instancePath ?? '').replace(/^\//, '') || 'value';
  return gatewayError(
    'EX_DECIMAL_INVALID',
    `${name} must be a plain decimal string like "1850.25" (no sign, exponent, spaces or leading zeros)`,
  );
}

function schemaAt(root: unknown, schemaPath: string): unknown {
  let node = root;
  for (const step of schemaPath.replace(/^#\/?/, '').split('/')) {
    if (step === '') continue;
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[decodeURIComponent(step.replace(/~1/g, '/').replace(/~0/g, '~'))];
  }
  return node;
}

function installErrors(
  app: FastifyInstance,
  routes: readonly { method: string; url: string }[],
  admission: Admission,
): void {
  app.setErrorHandler(async (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const e = await admission.errorBeforeAdmission(request, reply, toGatewayError(err, request));
    if (e.statusCode >= 500) request.log.error({ err }, 'request failed');
    if (typeof e.extra.retryAfterSeconds === 'number')
      void reply.header('retry-after', String(e.extra.retryAfterSeconds));
    return reply.code(e.statusCode).send({ code: e.code, message: e.message, ...e.extra });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = [...new Set(routes.filter((r) => routePattern(r.url).test(path)).map((r) => r.method))];
    if (allowed.length > 0) {
      const e = gatewayError(
        'EX_METHOD_NOT_ALLOWED',
        `${request.method} is not allowed here; this route takes ${allowed.join(', ')}.`,
      );
      return reply
        .code(e.statusCode)
        .header('allow', allowed.join(', '))
        .send({ code: e.code, message: e.message } as never);
    }
    return reply.code(404).send({ code: 'EX_NOT_FOUND', message: 'No such route.' } as never);
  });
}

/** A registered url (`/v1/orders/:orderId`, `/docs/*`) as a regular expression over request paths. */
function routePattern(url: string): RegExp {
  const body = url
    .split('/')
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body}$`);
}

function installMetrics(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}

async function installDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Exchange gateway',
        version: '1.0.0',
        description:
          'REST API of the exchange. Errors: `{ code, message }` (docs/gateway.md). Prices and quantities are decimal strings in market units.',
      },
      components: {
        securitySchemes: {
          session: { type: 'http', scheme: 'bearer', description: 'Session token from POST /v1/auth/login.' },
          sessionCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: 'ex_session',
            description:
              "The web page's session (POST /v1/auth/session; `__Host-ex_session` over TLS). Requests that change something also send X-CSRF-Token.",
          },
          apiKey: {
            type: 'apiKey',
            in: 'header',
            name: 'X-API-Key',
            description:
              'With X-Timestamp (Unix ms) and X-Signature: hex HMAC-SHA256 of `timestamp\\nMETHOD\\npath\\nquery\\nsha256hex(body)`.',
          },
          operatorSession: {
            type: 'http',
            scheme: 'bearer',
            description:
              'Operator session token (`o_…`) from POST /v1/admin/auth/login: the /v1/admin/ routes (tag admin) take only this.',
          },
          binanceKey: {
            type: 'apiKey',
            in: 'header',
            name: 'X-MBX-APIKEY',
            description:
              'Binance-compatible routes (tag binance): the same API keys, signed as Binance signs (timestamp, recvWindow, signature = hex HMAC-SHA256 of the query string followed by the body). See docs/binance-compat.md.',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'public' } }, async () => app.swagger());
}

interface AuthParts {
  readonly auth: AuthService;
  readonly operators: OperatorAuth;
  readonly admission: Admission;
  readonly secretKey: Buffer;
}

function installAuth(app: FastifyInstance, parts: AuthParts): void {
  const { admission } = parts;
  app.decorateRequest('principal', null);
  app.decorateRequest('operator', null);
  // preValidation: after the body is read (the signature covers it), before the schema sees it, so an
  // unauthenticated caller learns nothing about the body's rules. The rate limits and the replay check are one
  // step here, once the credentials are known (admission.ts).
  app.addHook('preValidation', async (request, reply) => {
    // No route matched: the not-found handler answers (it reveals nothing and changes nothing).
    if (request.is404) return;
    const need = request.routeOptions.config?.auth;
    // Every route declared its auth when it registered; undefined here is a programmer error, refused all the same.
    if (need === undefined) throw gatewayError('EX_INTERNAL');
    if (need === 'public') return admission.admit(request, reply, { principal: null, replay: null });
    const role = operatorRoleOf(need);
    if (role !== null) {
      await admission.admit(request, reply, { principal: null, replay: null });
      request.operator = await operatorOf(request, parts.operators);
      if (!roleAtLeast(request.operator.role, role))
        throw gatewayError('EX_OPERATOR_ROLE_INSUFFICIENT', `This route needs the ${role} role or above.`);
      return;
    }
    const authd = await userCredentials(request, reply, parts);
    const refusal =
      authd === null
        ? gatewayError('EX_UNAUTHENTICATED')
        : (authd.refusal ?? userRefusal(request, authd.principal, need, parts.secretKey));
    // A refused request counts against its IP and has its signature remembered, but not against its principal.
    await admission.admit(request, reply, {
      principal: refusal === null ? (authd?.principal ?? null) : null,
      replay: authd?.replay ?? null,
    });
    if (refusal !== null) throw refusal;
    request.principal = (authd as Authenticated).principal;
  });
}

/** The request's user credentials (null: none); when they do not hold, the IP is counted before the refusal. */
async function userCredentials(
  request: FastifyRequest,
  reply: FastifyReply,
  parts: AuthParts,
): Promise<Authenticated | null> {
  const beforeLookup = () => parts.admission.countIp(request, reply);
  try {
    const custom = request.routeOptions.config?.authenticate;
    return custom === undefined
      ? await parts.auth.authenticate(request, beforeLookup)
      : await custom(request, beforeLookup);
  } catch (err) {
    await beforeLookup();
    throw err;
  }
}

/** Why an authenticated user may not call this route, or null. */
function userRefusal(
  request: FastifyRequest,
  principal: Principal,
  need: RouteAuth,
  secretKey: Buffer,
): GatewayError | null {
  if (need === 'session' && principal.via !== 'session') return gatewayError('EX_SESSION_REQUIRED');
  if (need !== 'session' && !principal.scopes.includes(need as Scope))
    return gatewayError('EX_SCOPE_MISSING', `This route needs the ${need} scope.`);
  const cookie =
    principal.via === 'session' && request.headers.authorization === undefined ? sessionCookie(request) : null;
  if (cookie !== null && !csrfHolds(request, secretKey, cookie)) return gatewayError('EX_CSRF_TOKEN_INVALID');
  return null;
}

/**
 * The operator session of a request to an operator route. A user's credentials (token, key or cookie) are refused
 * without being checked: they never act here.
 */
async function operatorOf(request: FastifyRequest, operators: OperatorAuth): Promise<OperatorPrincipal> {
  const operator = await operators.principal(request);
  if (operator !== null) return operator;
  const userCredentials =
    request.headers.authorization !== undefined ||
    request.headers['x-api-key'] !== undefined ||
    sessionCookie(request) !== null;
  throw gatewayError(userCredentials ? 'EX_OPERATOR_REQUIRED' : 'EX_UNAUTHENTICATED');
}

export type Authenticate = (request: FastifyRequest) => Promise<{ userId: number } | null>;

/**
 * For the market-data plugin's private stream: the user a request (e.g. a WebSocket upgrade) authenticates as,
 * with a session token or a signed API-key request having the read scope; null for nobody or bad credentials.
 */
export function authenticator(auth: AuthService): Authenticate {
  return async (request) => {
    try {
      const p = await auth.principal(request);
      if (p === null || !p.scopes.includes('read')) return null;
      // A browser sends the session cookie with any page's WebSocket: only this origin's pages may use it.
      const byCookie = p.via === 'session' && request.headers.authorization === undefined;
      return byCookie && !sameOrigin(request) ? null : { userId: p.userId };
    } catch {
      return null;
    }
  };
}
