// DEVNET ONLY: the faucet route. POST /v1/devnet/faucet mints test tokens to the caller's own deposit address, so
// they arrive as a real on-chain deposit (credited by the chain service after its confirmations). Registered only
// when buildGateway is given a `faucet` (the embedded exchange's devnet: exchange/devnet/provision.ts); a gateway
// in front of a real chain has no such dependency and no such route.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { depositAddressFor } from '../../chain/addresses.js';
import { ASSET_SYMBOL_PATTERN } from '../../engine/core/index.js';
import { gatewayError } from '../errors.js';
import { Decimal, errorResponses } from '../schemas.js';
import { amountToUnits, formatUnits } from '../units.js';
import type { RouteContext } from './context.js';
import { principalOf } from './context.js';

/**
 * What the route needs of a faucet: mint `amount` base units of the token `symbol` to `address`, resolving with
 * the transaction hash once it is mined. A refusal rejects with an Error whose `code` is one of FaucetRefusal.
 */
export interface DevnetFaucet {
  mint(address: string, symbol: string, amount: bigint): Promise<{ readonly txHash: string }>;
}

/** The refusals of exchange/devnet/provision.ts's Faucet, and the gateway code each becomes. */
const REFUSALS = {
  FAUCET_UNKNOWN_TOKEN: 'EX_FAUCET_UNKNOWN_TOKEN',
  FAUCET_BAD_AMOUNT: 'EX_FAUCET_AMOUNT_OUT_OF_RANGE',
} as const;

/**
 * Mints waiting or in flight, over all users: the faucet mints one at a time (the deployer's nonces are
 * sequential), a block each, so a longer queue only makes every caller wait longer.
 */
export const FAUCET_IN_FLIGHT_MAX = 16;

const FaucetBody = Type.Object(
  {
    asset: Type.String({
      pattern: ASSET_SYMBOL_PATTERN,
      description: 'Symbol of a devnet token (e.g. TKA, TKB, USDT).',
    }),
    amount: Decimal("Amount in whole tokens, at most the asset's decimals."),
  },
  { additionalProperties: false },
);
const FaucetMinted = Type.Object(
  {
    txHash: Type.String({ description: 'The mint transaction (mined).' }),
    address: Type.String({ description: 'Your deposit address, where the tokens were minted.' }),
    asset: Type.String(),
    amount: Type.String({ description: 'Amount minted, whole tokens.' }),
  },
  { additionalProperties: false },
);

function refusalCode(err: unknown): (typeof REFUSALS)[keyof typeof REFUSALS] | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.hasOwn(REFUSALS, code)
    ? REFUSALS[code as keyof typeof REFUSALS]
    : undefined;
}

export const faucetRoutes: FastifyPluginAsync<{ ctx: RouteContext; faucet: DevnetFaucet }> = async (
  fastify,
  { ctx, faucet },
) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  let inFlight = 0;

  app.post(
    '/v1/devnet/faucet',
    {
      config: { auth: 'session' },
      schema: {
        tags: ['devnet'],
        security: [{ session: [] }],
        body: FaucetBody,
        response: { 200: FaucetMinted, ...errorResponses },
        summary: 'DEVNET ONLY: mint test tokens to your deposit address',
        description:
          "Mints worthless devnet test tokens to your deposit address: an on-chain deposit, credited to your balance after the chain's confirmations (poll GET /v1/balances). Answers once the mint is mined. Exists only on a devnet.",
      },
    },
    async (request) => {
      const { userId } = principalOf(request);
      const a = await ctx.markets.asset(request.body.asset);
      if (a === null) throw gatewayError('EX_FAUCET_UNKNOWN_TOKEN');
      const amount = amountToUnits(request.body.amount, a.decimals);
      if (inFlight >= FAUCET_IN_FLIGHT_MAX) throw gatewayError('EX_FAUCET_BUSY');
      inFlight++;
      try {
        const { address } = await depositAddressFor(ctx.sql, ctx.depositKeys, userId);
        const { txHash } = await faucet.mint(address, a.symbol, amount).catch((err: unknown) => {
          const code = refusalCode(err);
          // A refusal is the caller's input; anything else (the devnet's RPC failing) is ours: logged, answered 5xx.
          throw code === undefined ? err : gatewayError(code, (err as Error).message);
        });
        return { txHash, address, asset: a.symbol, amount: formatUnits(amount, a.decimals) };
      } finally {
        inFlight--;
      }
    },
  );
};
