// The withdrawal address book: withdrawals go only to its addresses, each usable once its time lock has passed
// (GATEWAY_WITHDRAWAL_ADDRESS_DELAY_SECONDS after it was added); removal is immediate. Changed with a session only
// (an API key, even with the withdraw scope, cannot add an address), and with a one-time code once 2FA is on.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { gatewayError } from '../errors.js';
import {
  NewWithdrawalAddress,
  WithdrawalAddress,
  WithdrawalAddressIdParams,
  WithdrawalAddressList,
  errorResponses,
} from '../schemas.js';
import type { RouteContext } from './context.js';
import { clientOf, principalOf } from './context.js';
import { isChecksummedAddress } from './wallet.js';

const tags = ['wallet'];

export const withdrawalAddressRoutes: FastifyPluginAsync<{ ctx: RouteContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/v1/withdrawal-addresses',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'Your withdrawal address book',
        security: [{ session: [] }, { apiKey: [] }],
        response: { 200: WithdrawalAddressList, ...errorResponses },
      },
    },
    async (request) => ({ addresses: await ctx.withdrawalControls.listAddresses(principalOf(request).userId) }),
  );

  app.post(
    '/v1/withdrawal-addresses',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        summary: 'Add a withdrawal address (usable after the time lock)',
        security: [{ session: [] }],
        body: NewWithdrawalAddress,
        response: { 201: WithdrawalAddress, ...errorResponses },
        description: 'Needs `otp` when two-factor authentication is on. The address is usable from `usableAt`.',
      },
    },
    async (request, reply) => {
      const { userId } = principalOf(request);
      const { address, label, otp } = request.body;
      if (!isChecksummedAddress(address)) throw gatewayError('EX_ADDRESS_INVALID');
      await ctx.twoFactor.verifyIfEnabled(userId, otp);
      const added = await ctx.withdrawalControls.addAddress(userId, address, label);
      await ctx.audit.append(ctx.sql, {
        actorType: 'user',
        actorId: String(userId),
        userId,
        action: 'withdrawal_address.added',
        detail: { addressId: added.addressId, address, usableAt: added.usableAt },
        ip: clientOf(request).ip,
      });
      return reply.code(201).send(added);
    },
  );

  app.delete(
    '/v1/withdrawal-addresses/:addressId',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        summary: 'Remove a withdrawal address (at once)',
        security: [{ session: [] }],
        params: WithdrawalAddressIdParams,
        response: { 200: WithdrawalAddress, ...errorResponses },
      },
    },
    async (request) => {
      const { userId } = principalOf(request);
      const removed = await ctx.withdrawalControls.removeAddress(userId, request.params.addressId);
      await ctx.audit.append(ctx.sql, {
        actorType: 'user',
        actorId: String(userId),
        userId,
        action: 'withdrawal_address.removed',
        detail: { addressId: removed.addressId, address: removed.address },
        ip: clientOf(request).ip,
      });
      return removed;
    },
  );
};
