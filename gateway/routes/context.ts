// What every route module gets: the services and the caches, built once per gateway instance.

import type { Sql } from 'postgres';
import type { DepositKeys } from '../../chain/hd.js';
import type { AuditLog } from '../../audit/log.js';
import type { AuthGuard } from '../auth/guard.js';
import type { Admission } from '../admission.js';
import type { AuthService, ClientInfo, Principal } from '../auth/service.js';
import type { OperatorAuth, OperatorPrincipal } from '../auth/operators.js';
import type { TwoFactor } from '../auth/two-factor.js';
import type { WithdrawalControls } from '../withdrawal-controls.js';
import type { CommandBus } from '../command-bus.js';
import type { GatewayOptions } from '../config.js';
import type { MarketCache } from '../markets.js';
import type { GatewayStores } from '../stores/gateway-stores.js';
import type { GatewayMetrics } from '../metrics.js';
import type { FastifyRequest } from 'fastify';

export interface RouteContext {
  readonly sql: Sql;
  readonly stores: GatewayStores;
  readonly bus: CommandBus;
  readonly auth: AuthService;
  /** Rate limits and the replay check, one store step per request (a route's own error handler needs it too). */
  readonly admission: Admission;
  readonly options: GatewayOptions;
  readonly metrics: GatewayMetrics;
  readonly markets: MarketCache;
  readonly depositKeys: DepositKeys;
  readonly audit: AuditLog;
  readonly guard: AuthGuard;
  readonly twoFactor: TwoFactor;
  readonly withdrawalControls: WithdrawalControls;
  readonly operators: OperatorAuth;
  readonly nowMs: () => number;
}

/** Where the request came from (the proxy's X-Forwarded-For when GATEWAY_TRUST_PROXY is on). */
export function clientOf(request: FastifyRequest): ClientInfo {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua : null };
}

/** The authenticated caller; only called on routes whose auth hook guaranteed one. */
export function principalOf(request: FastifyRequest): Principal {
  const p = request.principal;
  if (p === null) throw new Error('route without authentication asked for the principal');
  return p;
}

/** The operator behind a request; only called on operator routes, whose auth hook guaranteed one. */
export function operatorOf(request: FastifyRequest): OperatorPrincipal {
  const o = request.operator;
  if (o === null) throw new Error('operator route without an operator asked for one');
  return o;
}
