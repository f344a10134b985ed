// Who may call a route, declared on every route (`config: { auth }`), and checked when the route registers: a
// route that does not say is refused at start-up (fail closed), so forgetting the declaration can never publish
// a route. Public routes say `auth: 'public'` explicitly.
//
//   public             anyone
//   read|trade|withdraw a user's session, or a signed API-key request whose key has this scope
//   session            a user's session only (account, keys, 2FA, address book: not with an API key)
//   operator:<role>    an operator session (not a user's) whose role is at least <role>: viewer < operator < admin

import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Scope } from './auth/service.js';

export const OPERATOR_ROLES = ['viewer', 'operator', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export type OperatorRouteAuth = `operator:${OperatorRole}`;
export type RouteAuth = 'public' | Scope | 'session' | OperatorRouteAuth;

export const ROUTE_AUTHS: readonly RouteAuth[] = [
  'public',
  'read',
  'trade',
  'withdraw',
  'session',
  'operator:viewer',
  'operator:operator',
  'operator:admin',
];

/** Swagger UI's own routes (its page and static files) are registered by its plugin; they are public. */
export const DOCS_ROUTE_PREFIX = '/docs';

export function isRouteAuth(x: unknown): x is RouteAuth {
  return typeof x === 'string' && (ROUTE_AUTHS as readonly string[]).includes(x);
}

/** The role an operator route needs, or null for a user route. */
export function operatorRoleOf(auth: RouteAuth): OperatorRole | null {
  return auth.startsWith('operator:') ? (auth.slice('operator:'.length) as OperatorRole) : null;
}

/** Does `role` include what `need` allows? Roles are ordered: an admin may do what an operator or viewer may. */
export function roleAtLeast(role: OperatorRole, need: OperatorRole): boolean {
  return OPERATOR_ROLES.indexOf(role) >= OPERATOR_ROLES.indexOf(need);
}

export class RouteAuthMissingError extends Error {
  override readonly name = 'RouteAuthMissingError';
}

export interface DeclaredRoute {
  readonly method: string;
  readonly url: string;
  readonly auth: RouteAuth;
}

/**
 * Installs the check on every route registered after it (child plugins included) and records each route with its
 * auth in `routes`. A route without a valid `config.auth` throws, which fails the registration and the start.
 */
export function requireDeclaredAuth(app: FastifyInstance, routes: DeclaredRoute[]): void {
  app.addHook('onRoute', (r: RouteOptions) => {
    if (r.url === DOCS_ROUTE_PREFIX || r.url.startsWith(`${DOCS_ROUTE_PREFIX}/`))
      r.config = { ...r.config, auth: 'public' };
    const auth = (r.config as { auth?: unknown } | undefined)?.auth;
    const methods = [r.method].flat().filter((m) => m !== 'HEAD');
    if (!isRouteAuth(auth)) {
      throw new RouteAuthMissingError(
        `${methods.join(',')} ${r.url} does not declare who may call it: set config.auth to one of ${ROUTE_AUTHS.join(', ')} ('public' for an open route)`,
      );
    }
    for (const method of methods) routes.push({ method, url: r.url, auth });
  });
}
