// The operator API's contract (/v1/admin/…, tag admin): TypeBox schemas for every input and output. Fields that are
// an engine command's (addAsset, addMarket, setMarketStatus) reuse the command's wire schema, so the admin API, the
// Kafka format and the documentation cannot drift; amounts of those are base units, as on the wire.

import Type from 'typebox';
import type { TSchema } from 'typebox';
import { AddAssetWire, AddMarketWire, SetMarketStatusWire } from '../engine/wire/schemas.js';
import { OPERATOR_NAME_PATTERN } from './auth/operators.js';
import { OPERATOR_ROLES } from './route-auth.js';
import { Balance, Decimal, Order } from './schemas.js';

const nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);
const Time = (description: string) => Type.String({ format: 'date-time', description });
const UnitsOut = (description: string) =>
  Type.String({ pattern: '^[0-9]+$', description: `${description} Integer base units.` });
const DecimalOut = (description: string) => Type.String({ description });
const strict = { additionalProperties: false } as const;

// ---- operator sessions -------------------------------------------------------------------------------------

export const OperatorLoginBody = Type.Object(
  {
    name: Type.String({
      pattern: OPERATOR_NAME_PATTERN,
      description: "The operator's name (given to `npm run admin -- create-operator`).",
    }),
    password: Type.String({ minLength: 1, maxLength: 200 }),
    otp: Type.Optional(
      Type.String({
        pattern: '^[0-9]{6}$',
        description: "The current code of the operator's authenticator: always required (EX_OTP_REQUIRED without it).",
      }),
    ),
  },
  strict,
);
const Role = Type.Enum(OPERATOR_ROLES, {
  description:
    'viewer reads; operator also decides withdrawals, market statuses and freezes; admin also adds assets and markets, sets limits and the kill switch.',
});
export const OperatorSession = Type.Object(
  {
    token: Type.String({ description: 'Send as `Authorization: Bearer <token>` to /v1/admin/ routes.' }),
    name: Type.String(),
    role: Role,
    expiresAt: Time('The session ends (8 h).'),
  },
  strict,
);
export const OperatorMe = Type.Object({ name: Type.String(), role: Role }, strict);

// ---- results of commands sent to the engine ----------------------------------------------------------------

export const AdminCommandResult = Type.Object(
  {
    status: Type.Enum(['accepted', 'unknown'] as const, {
      description:
        'unknown: no answer from the engine in time; the command may still apply (look it up by commandId in the market or asset list).',
    }),
    commandId: Type.String(),
  },
  strict,
);

// ---- assets and markets ------------------------------------------------------------------------------------

const { v: _v1, type: _t1, id: _i1, ...assetFields } = AddAssetWire.properties;
const { v: _v2, type: _t2, id: _i2, ...marketFields } = AddMarketWire.properties;
export const NewAsset = Type.Object(assetFields, {
  ...strict,
  description: 'Sent to the engine as addAsset (its codes: docs/reject-codes.md).',
});
export const NewMarket = Type.Object(marketFields, {
  ...strict,
  description: 'Sent to the engine as addMarket; sizes in base units, as on the wire.',
});
export const MarketStatusBody = Type.Object({ status: SetMarketStatusWire.properties.status }, strict);
export const AssetIdParams = Type.Object({ assetId: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 }) }, strict);
export const MarketIdParams = Type.Object({ marketId: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 }) }, strict);
export const AssetLimitsBody = Type.Object(
  {
    dailyWithdrawalLimit: nullable(
      Decimal('The most one user may withdraw in any 24 h, whole tokens; null: no limit.'),
    ),
    approvalThreshold: nullable(
      Decimal("Withdrawals above this wait for an operator's approval, whole tokens; null: none do."),
    ),
  },
  strict,
);
export const AdminAsset = Type.Object(
  {
    assetId: Type.Integer(),
    symbol: Type.String(),
    decimals: Type.Integer(),
    dailyWithdrawalLimit: nullable(DecimalOut('Whole tokens; null: no limit.')),
    approvalThreshold: nullable(DecimalOut('Whole tokens; null: no approval needed.')),
  },
  strict,
);
export const AdminAssetList = Type.Object({ assets: Type.Array(AdminAsset) }, strict);
export const AdminMarket = Type.Object(
  {
    marketId: Type.Integer(),
    symbol: Type.String(),
    baseAssetId: Type.Integer(),
    quoteAssetId: Type.Integer(),
    tickSize: UnitsOut('Price step, quote base units per whole base token.'),
    lotSize: UnitsOut('Quantity step.'),
    minNotional: UnitsOut('Smallest notional.'),
    makerFeeBps: Type.Integer(),
    takerFeeBps: Type.Integer(),
    status: SetMarketStatusWire.properties.status,
  },
  strict,
);
export const AdminMarketList = Type.Object({ markets: Type.Array(AdminMarket) }, strict);

// ---- users -------------------------------------------------------------------------------------------------

export const UserIdParams = Type.Object(
  { userId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) },
  strict,
);
export const FreezeBody = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x20-\\x7e]+$' })) },
  strict,
);
export const UserFrozen = Type.Object(
  { ...AdminCommandResult.properties, userId: Type.Integer(), frozen: Type.Boolean() },
  strict,
);
export const AdminBalanceList = Type.Object(
  { userId: Type.Integer(), frozen: Type.Boolean(), balances: Type.Array(Balance) },
  strict,
);
export const AdminOrderList = Type.Object({ orders: Type.Array(Order), nextBefore: nullable(Type.Integer()) }, strict);
export const AdminPageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    before: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description: "Cursor: the previous page's nextBefore.",
      }),
    ),
  },
  strict,
);
export const AdminAuditQuery = Type.Object(
  {
    ...AdminPageQuery.properties,
    userId: Type.Optional(
      Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Only the entries about this user.' }),
    ),
  },
  strict,
);

// ---- withdrawals ---------------------------------------------------------------------------------------------

export const AdminWithdrawalQuery = Type.Object(
  {
    approval: Type.Optional(
      Type.Enum(['pending', 'any'] as const, {
        description: 'pending (default): only those waiting for an operator; any: every pending withdrawal.',
      }),
    ),
  },
  strict,
);
export const AdminWithdrawal = Type.Object(
  {
    withdrawalId: Type.String(),
    userId: Type.Integer(),
    asset: Type.String(),
    amount: DecimalOut('Whole tokens.'),
    address: Type.String(),
    requestedAt: Time('Requested.'),
    control: nullable(
      Type.Enum(['clear', 'awaiting_approval', 'approved', 'rejected', 'signed'] as const, {
        description: 'Its custody control (null: the chain service has not taken it in yet).',
      }),
    ),
    decidedBy: nullable(Type.String()),
    chainStatus: nullable(
      Type.String({
        description: 'Why the chain service is holding it (e.g. AWAITING_APPROVAL, WITHDRAWALS_HALTED, USER_FROZEN).',
      }),
    ),
  },
  strict,
);
export const AdminWithdrawalList = Type.Object({ withdrawals: Type.Array(AdminWithdrawal) }, strict);
export const DecisionBody = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x20-\\x7e]+$' })) },
  strict,
);
export const Decided = Type.Object(
  {
    withdrawalId: Type.String(),
    decision: Type.Enum(['approved', 'rejected'] as const),
    previous: Type.Enum(['clear', 'awaiting_approval', 'approved'] as const),
  },
  strict,
);

// ---- wallets and venue switches ------------------------------------------------------------------------------

export const WalletFigures = Type.Object(
  {
    chainId: Type.Integer(),
    token: Type.String(),
    assetId: Type.Integer(),
    symbol: Type.String(),
    hotAddress: Type.String(),
    hotBalance: UnitsOut('Hot wallet balance.'),
    inFlight: UnitsOut('Signed, not yet mined.'),
    queued: UnitsOut('Waiting to be signed.'),
    coldAddress: nullable(Type.String()),
    coldBalance: nullable(UnitsOut('Watch-only cold address balance.')),
    hotCap: nullable(UnitsOut('Above this the excess moves to cold storage.')),
    refillBelow: nullable(UnitsOut('Below this: HOT_WALLET_LOW.')),
    low: Type.Boolean(),
    updatedAt: Time("Written by the chain service's withdrawal loop."),
  },
  strict,
);
export const WalletFiguresList = Type.Object({ wallets: Type.Array(WalletFigures) }, strict);
export const VenueControls = Type.Object(
  {
    killSwitchEngaged: Type.Boolean(),
    withdrawalsHalted: Type.Boolean(),
    marketStatusesBefore: nullable(
      Type.Record(Type.String(), SetMarketStatusWire.properties.status, {
        description: "While engaged: each market's status before, restored on release.",
      }),
    ),
    updatedAt: Time('Last change.'),
    updatedBy: nullable(Type.String()),
  },
  strict,
);
export const KillSwitchBody = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[\\x20-\\x7e]+$',
      description: 'Why: kept in the audit log.',
    }),
  },
  strict,
);
export const KillSwitchResult = Type.Object(
  {
    ...VenueControls.properties,
    commandIds: Type.Array(Type.String(), { description: 'The setMarketStatus commands sent.' }),
  },
  strict,
);
