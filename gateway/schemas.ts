// The HTTP contract: TypeBox schemas for every route's input and output (the OpenAPI document is generated from
// them). Request fields that exist on a command reuse the command's wire schema (engine/wire/schemas.ts), so the
// HTTP API and the Kafka format cannot drift; prices and quantities differ on purpose: here they are decimal
// strings in market units ("1850.25"), converted exactly to base units by units.ts.

import Type from 'typebox';
import type { TSchema } from 'typebox';
import {
  AmendOrderWire,
  CancelAllWire,
  CommandResultEvent,
  OrderAcceptedEvent,
  OrderCanceledEvent,
  PlaceOrderWire,
  RequestWithdrawalWire,
} from '../engine/wire/schemas.js';
import { GATEWAY_ERRORS } from './errors.js';
import type { ErrorCode } from './errors.js';
import {
  ASSET_SYMBOL,
  CLIENT_ORDER_ID_MAX_LENGTH,
  COMMAND_ID_MAX_LENGTH,
  REJECT_CODES,
  idPattern,
} from '../engine/core/index.js';
import { DECIMAL_MAX_LENGTH, DECIMAL_PATTERN } from './units.js';
import { OTP_PATTERN } from './auth/totp.js';

const P = PlaceOrderWire.properties;
/** The effective values of an accepted order and the codes of a rejection: the wire events' enums, so they are listed once. */
const TimeInForceOut = OrderAcceptedEvent.properties.timeInForce;
const StpOut = OrderAcceptedEvent.properties.stp;
const CloseReasonOut = OrderCanceledEvent.properties.reason;
const RejectCodeOut = CommandResultEvent.properties.code;
const ERROR_CODES = [...Object.keys(GATEWAY_ERRORS), ...Object.keys(REJECT_CODES)] as ErrorCode[];
/** The wire schema's description of a field (TypeBox keeps it on the schema object). */
const describe = (schema: unknown): string => (schema as { description?: string }).description ?? '';

export const Decimal = (description: string) =>
  Type.String({ pattern: DECIMAL_PATTERN, maxLength: DECIMAL_MAX_LENGTH, description, examples: ['1850.25'] });
/** A request field built by `Decimal`: its schema failures answer EX_DECIMAL_INVALID (app.ts). */
export const isDecimalSchema = (s: unknown): boolean =>
  typeof s === 'object' && s !== null && (s as { pattern?: unknown }).pattern === DECIMAL_PATTERN;
const DecimalOut = (description: string) => Type.String({ description });
const Id = (description: string) => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description });
const Time = (description: string) => Type.String({ format: 'date-time', description });
const nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);

export const ErrorResponse = Type.Object(
  {
    code: Type.Enum(ERROR_CODES, {
      description: "Stable error code: docs/gateway.md (EX_*) or docs/reject-codes.md (the engine's).",
    }),
    message: Type.String({ description: 'Human-readable; do not parse it.' }),
    commandId: Type.Optional(Type.String({ description: 'The command the engine rejected.' })),
    retryAfterSeconds: Type.Optional(
      Type.Integer({
        description: 'EX_AUTH_THROTTLED: seconds until the next attempt is taken (also in Retry-After).',
      }),
    ),
    usableAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'EX_WITHDRAWAL_ADDRESS_LOCKED: when the address becomes usable.',
      }),
    ),
    remaining: Type.Optional(
      Type.String({
        description: 'EX_WITHDRAWAL_LIMIT_EXCEEDED: what is left of the rolling 24 h limit, in whole tokens.',
      }),
    ),
  },
  { title: 'ErrorResponse', additionalProperties: false },
);

/** Every route answers errors in one shape. */
export const errorResponses = { '4xx': ErrorResponse, '5xx': ErrorResponse } as const;

// ---- auth --------------------------------------------------------------------------------------------------

export const Credentials = Type.Object(
  {
    username: Type.String({
      pattern: '^[A-Za-z0-9_.-]{3,32}$',
      description: '3-32 characters A-Z a-z 0-9 _ . -, case-insensitive.',
    }),
    password: Type.String({ minLength: 10, maxLength: 256, description: '10-256 characters.' }),
  },
  { additionalProperties: false },
);
export const Otp = Type.String({
  pattern: OTP_PATTERN,
  description: 'A current 6-digit code of your authenticator app, or one of your recovery codes (each works once).',
});
export const OtpField = { otp: Type.Optional(Otp) };
export const LoginBody = Type.Object(
  { ...Credentials.properties, ...OtpField },
  {
    additionalProperties: false,
    description:
      'With two-factor authentication on, a login without `otp` (and the right password) answers 401 EX_OTP_REQUIRED: ask for the code and send the login again with it.',
  },
);
export const Registered = Type.Object(
  { userId: Id('Your user id.'), username: Type.String() },
  { additionalProperties: false },
);
export const Session = Type.Object(
  {
    token: Type.String({ description: 'Send as `Authorization: Bearer <token>`.' }),
    userId: Id('Your user id.'),
    sessionId: Type.String({ description: "The session's public id (GET /v1/sessions)." }),
    expiresAt: Time('Expiry.'),
  },
  { additionalProperties: false },
);
export const SessionInfo = Type.Object(
  {
    sessionId: Type.String(),
    createdAt: Time('Login time.'),
    expiresAt: Time('Expiry.'),
    ip: nullable(Type.String({ description: 'Address of the login.' })),
    userAgent: nullable(Type.String()),
    current: Type.Boolean({ description: 'The session of this request.' }),
  },
  { additionalProperties: false },
);
export const SessionList = Type.Object({ sessions: Type.Array(SessionInfo) }, { additionalProperties: false });
export const SessionIdParams = Type.Object(
  { sessionId: Type.String({ pattern: '^ss_[0-9a-f]{24}$' }) },
  { additionalProperties: false },
);
export const SessionsRevoked = Type.Object(
  { revoked: Type.Integer({ minimum: 0, description: 'Sessions revoked.' }) },
  { additionalProperties: false },
);
export const TwoFactorStatus = Type.Object(
  {
    enabled: Type.Boolean(),
    enabledAt: nullable(Time('When it was turned on.')),
    recoveryCodesLeft: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export const TwoFactorSetup = Type.Object(
  {
    secret: Type.String({ description: 'Base32 secret, for typing into an authenticator app.' }),
    otpauthUri: Type.String({ description: 'otpauth://totp/... (SHA-1, 6 digits, 30 s): what the QR code holds.' }),
    qrSvg: Type.String({ description: 'The QR code as an SVG document.' }),
  },
  { additionalProperties: false },
);
export const OtpBody = Type.Object({ otp: Otp }, { additionalProperties: false });
export const RecoveryCodes = Type.Object(
  {
    recoveryCodes: Type.Array(Type.String(), {
      description: 'One-time codes for when the authenticator is lost: shown once, keep them offline.',
    }),
  },
  { additionalProperties: false },
);
export const WebSession = Type.Object(
  {
    signedIn: Type.Boolean({
      description: 'False when the request carries no session (or an ended one): the other fields are then null.',
    }),
    userId: nullable(Id('Your user id.')),
    username: nullable(Type.String()),
    csrfToken: nullable(
      Type.String({
        description:
          'For a cookie session: send as X-CSRF-Token on every request that changes something. Null for a bearer session.',
      }),
    ),
  },
  { additionalProperties: false },
);
export const ExchangeInfo = Type.Object(
  {
    devnetFaucet: Type.Boolean({
      description:
        'POST /v1/devnet/faucet exists: this exchange runs on a development chain, its tokens are worthless.',
    }),
    depositConfirmations: nullable(
      Type.Integer({
        minimum: 1,
        description:
          "Blocks (the deposit's own included) before a deposit is credited; null when this gateway is not told.",
      }),
    ),
  },
  { additionalProperties: false },
);
export const ScopeSchema = Type.Enum(['read', 'trade', 'withdraw'] as const);
export const NewApiKey = Type.Object(
  {
    label: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[\\x20-\\x7e]+$',
      description: 'Your name for the key.',
    }),
    scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: 3, description: 'read, trade, withdraw.' }),
    ipAllowList: Type.Optional(
      Type.Array(Type.String({ maxLength: 49 }), {
        minItems: 1,
        maxItems: 16,
        description: 'Accept requests only from these IPv4/IPv6 addresses or CIDR blocks.',
      }),
    ),
    otp: Type.Optional(
      Type.String({
        pattern: OTP_PATTERN,
        description: 'Required for the withdraw scope when two-factor authentication is on.',
      }),
    ),
  },
  { additionalProperties: false },
);
const ApiKeyFields = {
  keyId: Type.String({ description: 'Send as X-API-Key.' }),
  label: Type.String(),
  scopes: Type.Array(ScopeSchema),
  ipAllowList: nullable(Type.Array(Type.String(), { description: 'Where requests may come from; null: anywhere.' })),
  createdAt: Time('Creation time.'),
};
export const ApiKeyCreated = Type.Object(
  { ...ApiKeyFields, secret: Type.String({ description: 'The HMAC secret: shown once, never again.' }) },
  { additionalProperties: false },
);
export const ApiKey = Type.Object(ApiKeyFields, { additionalProperties: false });
export const ApiKeyList = Type.Object({ keys: Type.Array(ApiKey) }, { additionalProperties: false });
export const KeyIdParams = Type.Object(
  { keyId: Type.String({ pattern: '^k_[0-9a-f]{24}$' }) },
  { additionalProperties: false },
);

// ---- orders --------------------------------------------------------------------------------------------------

export const PlaceOrderBody = Type.Object(
  {
    marketId: P.marketId,
    side: P.side,
    orderType: P.orderType,
    price: Type.Optional(
      Decimal("Limit price (limit, stopLimit) in quote per whole base token, at most the tick's decimals."),
    ),
    stopPrice: Type.Optional(Decimal('Trigger price (stopLimit, stopMarket) in quote per whole base token.')),
    quantity: Type.Optional(Decimal("Quantity in whole base tokens, at most the lot's decimals.")),
    quoteQuantity: Type.Optional(
      Decimal('Market and stop-market buys: quote to spend (fees included), in whole quote tokens.'),
    ),
    timeInForce: P.timeInForce,
    postOnly: P.postOnly,
    stp: P.stp,
    clientOrderId: Type.Optional(
      Type.String({ pattern: idPattern(CLIENT_ORDER_ID_MAX_LENGTH), description: describe(P.clientOrderId) }),
    ),
  },
  { additionalProperties: false, description: PlaceOrderWire.description },
);

export const Fill = Type.Object(
  {
    tradeId: Id('Trade id.'),
    price: DecimalOut('Trade price.'),
    quantity: DecimalOut('Base quantity.'),
    fee: DecimalOut('Fee paid by this order, in the quote asset.'),
    liquidity: Type.Enum(['maker', 'taker'] as const),
  },
  { additionalProperties: false },
);

/** The same words wherever an order is answered (gateway/results.ts, quantitiesOf). */
const REMAINING =
  'Still open, base tokens: "0" once the order is closed (quantity - filledQuantity never filled); null for a buy by quote quantity waiting for its trigger.';
const OrderStatus = Type.Enum(['pendingTrigger', 'new', 'partiallyFilled', 'filled', 'canceled', 'expired'] as const);

export const CommandAccepted = Type.Object(
  {
    status: Type.Enum(['accepted', 'unknown'] as const, {
      description:
        'accepted: the engine applied it. unknown: no result within the time limit; it may still be applied: look it up at `lookup`.',
    }),
    commandId: Type.String(),
    lookup: nullable(Type.String({ description: 'Where to look the outcome up when status is unknown.' })),
  },
  { additionalProperties: false },
);

export const PlaceOrderResult = Type.Object(
  {
    ...CommandAccepted.properties,
    orderId: nullable(Id("The order's id.")),
    orderStatus: nullable(OrderStatus),
    filledQuantity: nullable(DecimalOut('Filled so far, base tokens.')),
    remainingQuantity: nullable(DecimalOut(`${REMAINING} Null also when status is unknown.`)),
    fills: Type.Array(Fill),
    duplicateOf: nullable(
      Type.String({
        description:
          "Set when the clientOrderId repeated an earlier order: that command's id; nothing new was placed, and orderStatus, filledQuantity and remainingQuantity are that order's now (fills is empty).",
      }),
    ),
  },
  { additionalProperties: false },
);

export const CancelResult = Type.Object(
  {
    ...CommandAccepted.properties,
    canceled: Type.Array(
      Type.Object(
        { orderId: Id('Canceled order.'), remainingQuantity: DecimalOut('Quantity that was open.') },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const AmendBody = Type.Object(
  {
    price: Type.Optional(Decimal(describe(AmendOrderWire.properties.price))),
    quantity: Type.Optional(Decimal('New total quantity in base tokens, above what is already filled.')),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const AmendResult = Type.Object(
  {
    ...CommandAccepted.properties,
    orderId: Id('The order.'),
    price: nullable(DecimalOut('Price after the amend.')),
    quantity: nullable(DecimalOut('Total quantity after the amend.')),
    remainingQuantity: nullable(DecimalOut('Open quantity after the amend.')),
    keptPriority: nullable(Type.Boolean()),
    fills: Type.Array(Fill),
  },
  { additionalProperties: false },
);

export const OrderIdParams = Type.Object(
  { orderId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) },
  { additionalProperties: false },
);
export const ClientOrderIdParams = Type.Object(
  { clientOrderId: Type.String({ pattern: idPattern(CLIENT_ORDER_ID_MAX_LENGTH) }) },
  { additionalProperties: false },
);
export const CommandIdParams = Type.Object(
  { commandId: Type.String({ pattern: idPattern(COMMAND_ID_MAX_LENGTH) }) },
  { additionalProperties: false },
);
export const CancelAllQuery = Type.Object(
  { marketId: Type.Optional(CancelAllWire.properties.marketId) },
  { additionalProperties: false },
);

export const Order = Type.Object(
  {
    orderId: Id('Order id.'),
    clientOrderId: nullable(Type.String()),
    marketId: Type.Integer(),
    market: Type.String({ description: 'Market symbol.' }),
    side: P.side,
    orderType: P.orderType,
    timeInForce: TimeInForceOut,
    postOnly: Type.Boolean(),
    stp: StpOut,
    status: OrderStatus,
    closeReason: nullable(CloseReasonOut),
    price: nullable(DecimalOut('Limit price; null for market orders.')),
    stopPrice: nullable(DecimalOut('Stop price; null for non-stop orders.')),
    quantity: nullable(
      DecimalOut('Total quantity (after amends); null for a buy by quote quantity (its budget is quoteQuantity).'),
    ),
    originalQuantity: nullable(DecimalOut('Quantity as placed; null for a buy by quote quantity.')),
    filledQuantity: DecimalOut('Filled.'),
    remainingQuantity: nullable(DecimalOut(REMAINING)),
    quoteQuantity: nullable(DecimalOut('Quote budget of a market buy by quote quantity.')),
    filledQuote: DecimalOut('Sum of fills in quote, before fees.'),
    feesPaid: DecimalOut('Fees paid, quote asset.'),
    avgFillPrice: nullable(DecimalOut('Average fill price (rounded down).')),
    createdAt: Time('Placed.'),
    updatedAt: Time('Last change.'),
    closedAt: nullable(Time('Closed.')),
  },
  { title: 'Order', additionalProperties: false },
);

export const Page = Type.Object(
  {
    marketId: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    before: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description: "Cursor: only items with a smaller id (the previous page's nextBefore).",
      }),
    ),
  },
  { additionalProperties: false },
);
const nextBefore = nullable(Type.Integer({ description: 'Pass as `before` for the next page; null at the end.' }));
export const OrderList = Type.Object({ orders: Type.Array(Order), nextBefore }, { additionalProperties: false });

export const UserTrade = Type.Object(
  {
    tradeId: Id('Trade id.'),
    orderId: Id('Your order.'),
    marketId: Type.Integer(),
    market: Type.String(),
    side: P.side,
    liquidity: Type.Enum(['maker', 'taker'] as const),
    price: DecimalOut('Price.'),
    quantity: DecimalOut('Base quantity.'),
    quoteAmount: DecimalOut('Quote amount before fees.'),
    fee: DecimalOut('Your fee, quote asset.'),
    executedAt: Time('Execution time.'),
  },
  { additionalProperties: false },
);
export const TradeList = Type.Object({ trades: Type.Array(UserTrade), nextBefore }, { additionalProperties: false });

export const CommandStatus = Type.Object(
  {
    commandId: Type.String(),
    status: Type.Enum(['unknown', 'accepted', 'rejected'] as const),
    code: RejectCodeOut,
    orderId: nullable(Type.Integer()),
  },
  { additionalProperties: false },
);

// ---- wallet --------------------------------------------------------------------------------------------------

export const DepositAddress = Type.Object(
  { address: Type.String({ description: 'EIP-55 address; the same on every supported EVM chain.' }) },
  { additionalProperties: false },
);
export const Balance = Type.Object(
  {
    asset: Type.String(),
    assetId: Type.Integer(),
    available: DecimalOut('Available.'),
    held: DecimalOut('Held by open orders.'),
    pending: DecimalOut('Pending withdrawal.'),
  },
  { additionalProperties: false },
);
export const BalanceList = Type.Object({ balances: Type.Array(Balance) }, { additionalProperties: false });
export const Deposit = Type.Object(
  {
    depositId: Type.String(),
    asset: Type.String(),
    amount: DecimalOut('Amount.'),
    status: Type.Enum(['credited'] as const, {
      description:
        'credited: in your available balance (deposits still waiting for confirmations are at GET /v1/deposits/incoming).',
    }),
    creditedAt: Time('Credited.'),
    seq: Type.Integer(),
  },
  { additionalProperties: false },
);
export const IncomingDeposit = Type.Object(
  {
    txHash: Type.String({ description: "The transfer's transaction." }),
    logIndex: Type.Integer({ minimum: 0 }),
    asset: Type.String(),
    amount: DecimalOut('Amount, whole tokens.'),
    blockNumber: Type.Integer({ minimum: 0 }),
    confirmations: Type.Integer({ minimum: 0, description: 'Blocks so far, its own included.' }),
    requiredConfirmations: nullable(
      Type.Integer({
        minimum: 1,
        description: 'Blocks needed before it is credited; null when this gateway is not told.',
      }),
    ),
    seenAt: Time('When the chain service saw it.'),
  },
  { additionalProperties: false },
);
export const IncomingDepositList = Type.Object(
  { deposits: Type.Array(IncomingDeposit) },
  { additionalProperties: false },
);
export const DepositList = Type.Object({ deposits: Type.Array(Deposit), nextBefore }, { additionalProperties: false });
export const WithdrawalBody = Type.Object(
  {
    asset: Type.String({ pattern: `^(${ASSET_SYMBOL}|[0-9]{1,9})$`, description: 'Asset symbol (or id).' }),
    amount: Decimal("Amount in whole tokens, at most the asset's decimals."),
    address: Type.String({
      pattern: '^0x[0-9a-fA-F]{40}$',
      description: `${describe(RequestWithdrawalWire.properties.destination)} Here: an EIP-55 checksummed address from your withdrawal address book, past its time lock.`,
    }),
    otp: Type.Optional(
      Type.String({
        pattern: OTP_PATTERN,
        description: 'Required with a session when two-factor authentication is on.',
      }),
    ),
  },
  { additionalProperties: false },
);
const WithdrawalStatus = Type.Enum(['pending', 'completed', 'failed'] as const);
export const Withdrawal = Type.Object(
  {
    withdrawalId: Type.String(),
    asset: Type.String(),
    amount: DecimalOut('Amount.'),
    address: Type.String(),
    status: WithdrawalStatus,
    txHash: nullable(Type.String()),
    failReason: nullable(Type.String()),
    requestedAt: Time('Requested.'),
    finishedAt: nullable(Time('Completed or failed.')),
    approval: nullable(
      Type.Enum(['pending', 'approved', 'rejected'] as const, {
        description: "Above the asset's approval threshold: an operator's decision (null: none needed).",
      }),
    ),
  },
  { title: 'Withdrawal', additionalProperties: false },
);
export const WithdrawalRequested = Type.Object(
  {
    ...CommandAccepted.properties,
    withdrawalId: Type.String(),
    status: Type.Union([WithdrawalStatus, Type.Literal('unknown')]),
    approvalRequired: Type.Boolean({
      description: "Above the asset's approval threshold: it is sent once an operator approves it.",
    }),
  },
  { additionalProperties: false },
);
export const WithdrawalList = Type.Object(
  { withdrawals: Type.Array(Withdrawal), nextBefore },
  { additionalProperties: false },
);
export const WithdrawalIdParams = Type.Object(
  { withdrawalId: Type.String({ pattern: '^w-[0-9a-f-]{36}$' }) },
  { additionalProperties: false },
);

export const WithdrawalAddress = Type.Object(
  {
    addressId: Type.String(),
    address: Type.String({ description: 'EIP-55 checksummed.' }),
    label: Type.String(),
    createdAt: Time('Added.'),
    usableAt: Time('From when withdrawals may go to it (added + the time lock).'),
  },
  { additionalProperties: false },
);
export const WithdrawalAddressList = Type.Object(
  { addresses: Type.Array(WithdrawalAddress) },
  { additionalProperties: false },
);
export const NewWithdrawalAddress = Type.Object(
  {
    address: Type.String({ pattern: '^0x[0-9a-fA-F]{40}$', description: 'An EIP-55 checksummed address.' }),
    label: Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x20-\\x7e]+$', description: 'Your name for it.' }),
    otp: Type.Optional(
      Type.String({ pattern: OTP_PATTERN, description: 'Required when two-factor authentication is on.' }),
    ),
  },
  { additionalProperties: false },
);
export const WithdrawalAddressIdParams = Type.Object(
  { addressId: Type.String({ pattern: '^wa_[0-9a-f]{24}$' }) },
  { additionalProperties: false },
);

// ---- health --------------------------------------------------------------------------------------------------

export const Health = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false });
export const Readiness = Type.Object(
  {
    status: Type.Enum(['ready', 'unready'] as const),
    checks: Type.Object(
      {
        postgres: Type.Boolean(),
        redis: Type.Boolean(),
        kafka: Type.Boolean(),
        chain: Type.Optional(
          Type.Boolean({
            description:
              'With a chain service in this process (npm start): every loop completed a tick within its staleAfterMs.',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    chainLoopProgressAgeMs: Type.Optional(
      Type.Record(Type.String(), nullable(Type.Integer({ minimum: 0 })), {
        description:
          'Milliseconds since each chain loop (deposits, sweeps, withdrawals) last completed a tick; null before its first.',
      }),
    ),
  },
  { additionalProperties: false },
);

// ---- audit log -----------------------------------------------------------------------------------------------

export const AuditEntryView = Type.Object(
  {
    seq: Id('Position in the audit log.'),
    at: Time('When.'),
    action: Type.String({ description: 'What happened (docs/security.md lists the actions).' }),
    actorType: Type.Enum(['user', 'operator', 'system', 'anonymous'] as const, {
      description: 'Who did it: you (user), an operator, the system, or someone not logged in.',
    }),
    actorId: nullable(
      Type.String({
        description: 'The user id, operator name or component (shown to operators only; null for users).',
      }),
    ),
    userId: nullable(Type.Integer({ description: 'The user it concerns.' })),
    ip: nullable(Type.String()),
    detail: Type.Object(
      {},
      { additionalProperties: true, description: 'Facts of the action (ids, amounts, reasons).' },
    ),
  },
  { additionalProperties: false },
);
export const AuditPage = Type.Object(
  {
    entries: Type.Array(AuditEntryView),
    nextBefore: nullable(Type.Integer({ description: 'Cursor for the next (older) page.' })),
  },
  { additionalProperties: false },
);
export const AuditQuery = Type.Object(
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
  { additionalProperties: false },
);
