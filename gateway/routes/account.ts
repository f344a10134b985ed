// Two-factor authentication (set-up, enable with a first code, disable, recovery codes) and the user's own audit
// log. Session only: an API key cannot change how its owner logs in.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { readAudit } from '../../audit/log.js';
import type { AuditRow } from '../../audit/log.js';
import {
  AuditPage,
  AuditQuery,
  OtpBody,
  RecoveryCodes,
  TwoFactorSetup,
  TwoFactorStatus,
  errorResponses,
} from '../schemas.js';
import type { RouteContext } from './context.js';
import { clientOf, principalOf } from './context.js';

const tags = ['account'];
const sessionSecurity: { [name: string]: string[] }[] = [{ session: [] }];

/** An audit row as shown: operators see who did it; a user sees that an operator did, not which one. */
export function auditView(r: AuditRow, forOperator: boolean) {
  return {
    seq: r.seq,
    at: r.at.toISOString(),
    action: r.action,
    actorType: r.actorType,
    actorId: forOperator ? r.actorId : null,
    userId: r.userId,
    ip: r.ip,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  };
}

export const accountRoutes: FastifyPluginAsync<{ ctx: RouteContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'session' as const };
  const audit = (
    userId: number,
    action:
      'two_factor.setup_started' | 'two_factor.enabled' | 'two_factor.disabled' | 'two_factor.recovery_codes_renewed',
    ip: string,
  ) => ctx.audit.append(ctx.sql, { actorType: 'user', actorId: String(userId), userId, action, ip });

  app.get(
    '/v1/auth/2fa',
    {
      config,
      schema: {
        tags,
        summary: 'Is two-factor authentication on',
        security: sessionSecurity,
        response: { 200: TwoFactorStatus, ...errorResponses },
      },
    },
    async (request) => ctx.twoFactor.state(principalOf(request).userId),
  );

  app.post(
    '/v1/auth/2fa/setup',
    {
      config,
      schema: {
        tags,
        summary: 'Start two-factor set-up: a new secret as otpauth:// URI and QR code',
        security: sessionSecurity,
        response: { 200: TwoFactorSetup, ...errorResponses },
        description:
          'Scan the QR code (or type the secret) into an authenticator app, then confirm with POST /v1/auth/2fa/enable and its current code. Nothing changes until then.',
      },
    },
    async (request) => {
      const { userId } = principalOf(request);
      const [account] = await ctx.sql<
        { username: string }[]
      >`SELECT username FROM gateway_accounts WHERE user_id = ${userId}`;
      const setup = await ctx.twoFactor.setup(userId, account.username);
      await audit(userId, 'two_factor.setup_started', clientOf(request).ip);
      return setup;
    },
  );

  app.post(
    '/v1/auth/2fa/enable',
    {
      config,
      schema: {
        tags,
        summary: 'Turn two-factor authentication on with a first code: your recovery codes (shown once)',
        security: sessionSecurity,
        body: OtpBody,
        response: { 200: RecoveryCodes, ...errorResponses },
      },
    },
    async (request) => {
      const { userId } = principalOf(request);
      const recoveryCodes = await ctx.twoFactor.enable(userId, request.body.otp);
      await audit(userId, 'two_factor.enabled', clientOf(request).ip);
      return { recoveryCodes };
    },
  );

  app.post(
    '/v1/auth/2fa/disable',
    {
      config,
      schema: {
        tags,
        summary: 'Turn two-factor authentication off (needs a code)',
        security: sessionSecurity,
        body: OtpBody,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { userId } = principalOf(request);
      await ctx.twoFactor.disable(userId, request.body.otp);
      await audit(userId, 'two_factor.disabled', clientOf(request).ip);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/auth/2fa/recovery-codes',
    {
      config,
      schema: {
        tags,
        summary: 'New recovery codes (needs a code); the old ones stop working',
        security: sessionSecurity,
        body: OtpBody,
        response: { 200: RecoveryCodes, ...errorResponses },
      },
    },
    async (request) => {
      const { userId } = principalOf(request);
      const recoveryCodes = await ctx.twoFactor.renewRecoveryCodes(userId, request.body.otp);
      await audit(userId, 'two_factor.recovery_codes_renewed', clientOf(request).ip);
      return { recoveryCodes };
    },
  );

  app.get(
    '/v1/audit',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary:
          'Your security log: logins, 2FA, keys, addresses, withdrawals, operator actions on your account (newest first)',
        security: [{ session: [] }, { apiKey: [] }],
        querystring: AuditQuery,
        response: { 200: AuditPage, ...errorResponses },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const rows = await readAudit(ctx.sql, {
        userId: principalOf(request).userId,
        beforeSeq: request.query.before ?? null,
        limit,
      });
      return {
        entries: rows.map((r) => auditView(r, false)),
        nextBefore: rows.length === limit ? rows[rows.length - 1].seq : null,
      };
    },
  );
};
