// The engine's public wire format: one JSON schema per command type and per event type, version 1.
// They mirror engine/core/commands.ts and events.ts field for field (test/wire/schema-sync.test.ts holds them in
// step, at type level and at run time); the codec, the gateway and docs/asyncapi.yaml all use these objects.
//
// Two differences from the in-memory types, both deliberate:
// - every bigint (amounts, prices, balances) travels as a decimal string of base units: JSON numbers lose
//   precision above 2^53 and uint256 amounts are far beyond that;
// - a command on the wire has no `timeMs`: the daemon stamps it with the Kafka record timestamp, so a producer
//   cannot choose its own time and a replay of the topic sees the same times again.
//
// Division of labour: the schema checks shape (JSON types, enums, bounded lengths); the engine checks meaning
// and answers with its specific code. So a negative or oversized amount, an unknown asset id or a badly formed
// symbol passes the schema and is rejected by the engine with e.g. WALLET_AMOUNT_NOT_POSITIVE,
// ORDER_PRICE_OVERFLOW or ASSET_SYMBOL_INVALID, while a number where a string belongs is COMMAND_MALFORMED.

import Type from 'typebox';
import type { Static, TProperties, TSchema } from 'typebox';
import { REJECT_CODES } from '../core/codes.js';
import { MARKET_STATUSES } from '../core/commands.js';
import {
  CLOSE_REASONS,
  COMMAND_ID_MAX_LENGTH,
  ORDER_TYPES,
  SIDES,
  STP_MODES,
  TIME_IN_FORCES,
  idPattern,
} from '../core/formats.js';
import type { RejectCode } from '../core/codes.js';

export const WIRE_VERSION = 1 as const;

/**
 * Signed decimal integer, canonical (no leading zeros, no "-0", no "+"), at most 80 digits. uint256 values have
 * at most 78 digits; the sign and the two spare digits let the engine, not the codec, reject a negative or an
 * overflowing amount with its specific code.
 */
export const SIGNED_DECIMAL_PATTERN = '^(0|-?[1-9][0-9]{0,79})$';
/** Unsigned canonical decimal integer of at most 78 digits: what the engine emits (every figure is within uint256). */
export const UNSIGNED_DECIMAL_PATTERN = '^(0|[1-9][0-9]{0,77})$';
/** The engine's id rule: 1-128 printable ASCII characters, no spaces. */
export const COMMAND_ID_PATTERN = idPattern(COMMAND_ID_MAX_LENGTH);
/**
 * Upper bound on free-text and external-id fields of a command. The engine's own rules are tighter (e.g. 1-128
 * printable characters for a deposit id, 1-64 for a client order id) and give specific codes; this bound only
 * keeps the wire from carrying unbounded strings into the engine and back out on its events.
 */
export const WIRE_TEXT_MAX_LENGTH = 256;
/** Upper bound on symbols on the wire; the engine's symbol rules (16 and 33 characters) give the specific codes. */
export const WIRE_SYMBOL_MAX_LENGTH = 64;

// ---------------------------------------------------------------------------------------------------------------
// Field builders

/** A bigint field of a command: signed decimal string, so the engine rejects a bad sign with its own code. */
function amountIn(description: string) {
  return Type.String({
    pattern: SIGNED_DECIMAL_PATTERN,
    maxLength: 81,
    description: `${description} Decimal string of integer base units.`,
  });
}

/** A bigint field of an event: the engine only emits figures within uint256. */
function amountOut(description: string) {
  return Type.String({
    pattern: UNSIGNED_DECIMAL_PATTERN,
    maxLength: 78,
    description: `${description} Decimal string of integer base units (0 to 2^256-1).`,
  });
}

/** Integers that JSON carries exactly: a value beyond 2^53 would silently change when parsed, so it is malformed. */
function safeInt(description: string) {
  return Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, description });
}

/** A counter or id the engine emits: a non-negative safe integer. */
function count(description: string) {
  return Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });
}

function text(description: string, maxLength: number = WIRE_TEXT_MAX_LENGTH) {
  return Type.String({ maxLength, description });
}

function nullable<T extends TSchema>(schema: T, description: string) {
  return Type.Union([schema, Type.Null()], { description });
}

const REJECT_CODE_NAMES = Object.keys(REJECT_CODES) as RejectCode[];

const side = (description: string) => Type.Enum(SIDES, { description });
const orderType = (description: string) => Type.Enum(ORDER_TYPES, { description });
const timeInForce = (description: string) => Type.Enum(TIME_IN_FORCES, { description });
const stpMode = (description: string) => Type.Enum(STP_MODES, { description });
const marketStatus = (description: string) => Type.Enum(MARKET_STATUSES, { description });
const closeReason = () =>
  Type.Enum(CLOSE_REASONS, {
    description:
      'Why the order closed: user (cancelOrder), cancelAll, ioc (immediate order with nothing more to match), noLiquidity ' +
      "(market order: the book ran out), funds (a market order's budget ran out), stp (self-trade prevention), " +
      'amend (re-queued at a new price under a new sequence).',
  });

// ---------------------------------------------------------------------------------------------------------------
// Commands

/** Every message schema has a title (its name in the AsyncAPI document) and a description. */
export interface Documented {
  readonly title: string;
  readonly description: string;
}

function command<T extends string, P extends TProperties>(type: T, title: string, description: string, properties: P) {
  const schema = Type.Object(
    {
      v: Type.Literal(WIRE_VERSION, {
        description: 'Schema version of the command. Any other value is answered with COMMAND_UNSUPPORTED_VERSION.',
      }),
      type: Type.Literal(type, {
        description: `Command type; a type the engine does not know is answered with COMMAND_UNKNOWN_TYPE.`,
      }),
      id: Type.String({
        pattern: COMMAND_ID_PATTERN,
        maxLength: COMMAND_ID_MAX_LENGTH,
        description:
          'Producer-chosen unique command id, 1-128 printable ASCII characters. Every event the command causes carries it as ' +
          '`cmdId`, which is how a producer finds its answer. A repeated id is not applied again. ' +
          'There is no `timeMs` field: the daemon stamps each command with its Kafka record timestamp.',
      }),
      ...properties,
    },
    { additionalProperties: false, title, description },
  );
  return schema as typeof schema & Documented;
}

const userId = (code: string) => safeInt(`User id, a positive safe integer (otherwise ${code}).`);

export const AddAssetWire = command(
  'addAsset',
  'AddAssetCommandV1',
  'Registers an asset (a token) under a numeric id.',
  {
    assetId: safeInt('Asset id, an integer in [0, assetsMax) (otherwise ASSET_ID_INVALID or CAPACITY_ASSETS).'),
    symbol: text(
      'Asset symbol, 1-16 characters A-Z, 0-9, "." or "_" (otherwise ASSET_SYMBOL_INVALID).',
      WIRE_SYMBOL_MAX_LENGTH,
    ),
    decimals: safeInt(
      'Number of decimals of the token: one whole token is 10^decimals base units. 0 to 36 (otherwise ASSET_DECIMALS_INVALID).',
    ),
  },
);

export const AddMarketWire = command(
  'addMarket',
  'AddMarketCommandV1',
  'Opens a market trading a base asset against a quote asset.',
  {
    marketId: safeInt('Market id, an integer in [0, marketsMax) (otherwise MARKET_ID_INVALID or CAPACITY_MARKETS).'),
    symbol: text(
      'Market symbol, 3-33 characters A-Z, 0-9, ".", "_" or "-" (otherwise MARKET_SYMBOL_INVALID).',
      WIRE_SYMBOL_MAX_LENGTH,
    ),
    baseAssetId: safeInt('Id of the asset being traded.'),
    quoteAssetId: safeInt('Id of the asset prices are quoted in.'),
    tickSize: amountIn(
      'Price step, in quote base units per whole base token. tickSize x lotSize / 10^baseDecimals must be a positive integer (otherwise MARKET_UNITS_INEXACT).',
    ),
    lotSize: amountIn('Quantity step, in base units.'),
    minNotional: amountIn('Smallest price x quantity of a limit order, in quote base units.'),
    makerFeeBps: safeInt('Maker fee in basis points, 0 to 1000.'),
    takerFeeBps: safeInt('Taker fee in basis points, 0 to 1000.'),
  },
);

export const DepositWire = command(
  'deposit',
  'DepositCommandV1',
  'Credits a user with an external deposit (sent by the chain service).',
  {
    userId: userId('WALLET_USER_INVALID'),
    assetId: safeInt('Asset credited.'),
    amount: amountIn('Amount credited, positive.'),
    depositId: text(
      'External id (e.g. chain tx hash and log index), 1-128 printable ASCII characters: the same id credits once (DEPOSIT_DUPLICATE).',
    ),
  },
);

export const RequestWithdrawalWire = command(
  'requestWithdrawal',
  'RequestWithdrawalCommandV1',
  'Moves an amount from available to pending, awaiting the chain service.',
  {
    userId: userId('WALLET_USER_INVALID'),
    assetId: safeInt('Asset withdrawn.'),
    amount: amountIn('Amount withdrawn, positive.'),
    withdrawalId: text('Withdrawal id, 1-128 printable ASCII characters, unique among pending withdrawals.'),
    destination: text(
      'Destination address, 1-128 printable ASCII characters; opaque to the engine (the chain service validates it) and carried to withdrawalPending.',
    ),
  },
);

export const CompleteWithdrawalWire = command(
  'completeWithdrawal',
  'CompleteWithdrawalCommandV1',
  'A pending withdrawal was paid out: its pending amount leaves the engine.',
  {
    withdrawalId: text('The pending withdrawal.'),
    txHash: Type.Optional(text('Transaction that paid it, carried to withdrawalCompleted.')),
  },
);

export const FailWithdrawalWire = command(
  'failWithdrawal',
  'FailWithdrawalCommandV1',
  'A pending withdrawal failed: its amount returns from pending to available.',
  {
    withdrawalId: text('The pending withdrawal.'),
    reason: Type.Optional(text('Why it failed, carried to withdrawalFailed.')),
  },
);

export const PlaceOrderWire = command(
  'placeOrder',
  'PlaceOrderCommandV1',
  'Places an order. Prices are quote base units per whole base token; quantities are base units.',
  {
    userId: userId('ORDER_USER_INVALID'),
    marketId: safeInt('Market to trade on.'),
    side: side('buy or sell.'),
    orderType: orderType(
      'limit, market, stopLimit (a limit order placed when the last trade price reaches stopPrice) or stopMarket.',
    ),
    price: Type.Optional(amountIn('Limit price (limit and stopLimit only), a positive multiple of the tick size.')),
    stopPrice: Type.Optional(
      amountIn(
        'Trigger price on the last trade (stopLimit and stopMarket only): buy stops trigger when last >= stopPrice, sell stops when last <= stopPrice.',
      ),
    ),
    quantity: Type.Optional(amountIn('Base quantity in base units, a positive multiple of the lot size.')),
    quoteQuantity: Type.Optional(
      amountIn(
        'Market and stop-market buys only, instead of quantity: quote to spend, fees included. Required for a stop-market buy.',
      ),
    ),
    timeInForce: Type.Optional(
      timeInForce(
        'Limit orders: GTC (default), IOC or FOK (stopLimit: GTC or IOC). Market orders are immediate by nature and accept only IOC.',
      ),
    ),
    postOnly: Type.Optional(
      Type.Boolean({ description: 'GTC limit orders only: reject instead of taking liquidity.' }),
    ),
    stp: Type.Optional(stpMode('Self-trade prevention, decided by the incoming order; default none.')),
    clientOrderId: Type.Optional(
      text(
        "The user's own order id, 1-64 printable ASCII characters. A repeat within the dedup window places nothing and returns the first command's result (duplicateOf).",
      ),
    ),
  },
);

export const CancelOrderWire = command(
  'cancelOrder',
  'CancelOrderCommandV1',
  'Cancels one open order of the user, named by orderId or by clientOrderId (one of them is required).',
  {
    userId: userId('ORDER_USER_INVALID'),
    orderId: Type.Optional(safeInt("The engine's order id.")),
    clientOrderId: Type.Optional(text("The user's client order id.")),
  },
);

export const CancelAllWire = command(
  'cancelAll',
  'CancelAllCommandV1',
  'Cancels every open order of the user, oldest first, optionally in one market only.',
  {
    userId: userId('ORDER_USER_INVALID'),
    marketId: Type.Optional(safeInt('Only this market.')),
  },
);

export const AmendOrderWire = command(
  'amendOrder',
  'AmendOrderCommandV1',
  'Changes the price and/or total quantity of a resting limit order.',
  {
    userId: userId('ORDER_USER_INVALID'),
    orderId: safeInt("The engine's order id."),
    quantity: Type.Optional(
      amountIn(
        'New total quantity (base units), above what is already filled. Lower with the same price keeps queue priority; more re-queues.',
      ),
    ),
    price: Type.Optional(amountIn('New limit price; a changed price re-queues the order (it loses priority).')),
  },
);

export const SetMarketStatusWire = command(
  'setMarketStatus',
  'SetMarketStatusCommandV1',
  'Operator control: what a market accepts from now on. trading: everything; cancelOnly: cancels only (placeOrder and amendOrder answer ' +
    'MARKET_CANCEL_ONLY); halted: nothing (orders, amends and cancels answer MARKET_HALTED; resting and stop orders stay untouched until ' +
    'trading resumes). A new market trades. Setting the status the market already has is accepted.',
  {
    marketId: safeInt('The market (otherwise MARKET_NOT_FOUND).'),
    status: marketStatus('trading, cancelOnly or halted.'),
  },
);

export const SetUserFrozenWire = command(
  'setUserFrozen',
  'SetUserFrozenCommandV1',
  "Operator control: a frozen user's placeOrder, amendOrder and requestWithdrawal answer USER_FROZEN; their cancels, deposits and the " +
    'completion or failure of withdrawals already pending still apply. Setting the state the user already has is accepted.',
  {
    userId: userId('USER_ID_INVALID'),
    frozen: Type.Boolean({ description: 'true freezes, false unfreezes.' }),
  },
);

/** Every command schema by its `type`. */
export const COMMAND_SCHEMAS = {
  addAsset: AddAssetWire,
  addMarket: AddMarketWire,
  deposit: DepositWire,
  requestWithdrawal: RequestWithdrawalWire,
  completeWithdrawal: CompleteWithdrawalWire,
  failWithdrawal: FailWithdrawalWire,
  placeOrder: PlaceOrderWire,
  cancelOrder: CancelOrderWire,
  cancelAll: CancelAllWire,
  amendOrder: AmendOrderWire,
  setMarketStatus: SetMarketStatusWire,
  setUserFrozen: SetUserFrozenWire,
} as const;

/** Any command, discriminated by `type` (the codec validates against the one schema its `type` names). */
export const CommandWire = Type.Union(
  [
    AddAssetWire,
    AddMarketWire,
    DepositWire,
    RequestWithdrawalWire,
    CompleteWithdrawalWire,
    FailWithdrawalWire,
    PlaceOrderWire,
    CancelOrderWire,
    CancelAllWire,
    AmendOrderWire,
    SetMarketStatusWire,
    SetUserFrozenWire,
  ],
  { title: 'CommandV1', description: 'Any command, discriminated by `type`.' },
);
export type CommandWire = Static<typeof CommandWire>;

// ---------------------------------------------------------------------------------------------------------------
// Events

function event<T extends string, P extends TProperties>(type: T, title: string, description: string, properties: P) {
  const schema = Type.Object(
    {
      v: Type.Literal(WIRE_VERSION, { description: 'Schema version of the event.' }),
      type: Type.Literal(type, { description: 'Event type.' }),
      seq: Type.Integer({
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description:
          'Global event sequence number: the first event is 1 and each next event is exactly one more, so a consumer detects a gap or a repeat.',
      }),
      cmdId: Type.String({
        pattern: idPattern(COMMAND_ID_MAX_LENGTH, 0),
        maxLength: COMMAND_ID_MAX_LENGTH,
        description:
          'Id of the command that caused the event. Empty when the command was rejected before a usable id could be read from it.',
      }),
      timeMs: count(
        "Engine time of the command, Unix milliseconds: the Kafka timestamp of the command record, never earlier than the previous command's.",
      ),
      ...properties,
    },
    { additionalProperties: false, title, description },
  );
  return schema as typeof schema & Documented;
}

const orderIdOut = () => count("The engine's order id.");
const userIdOut = () => count('User id.');
const marketIdOut = () => count('Market id.');
const assetIdOut = (description = 'Asset id.') => count(description);
const holdAssetId = () => count('Asset held for the order: quote for buys, base for sells.');
const clientOrderIdOut = () =>
  nullable(Type.String({ maxLength: WIRE_TEXT_MAX_LENGTH }), "The user's client order id, or null.");

export const CommandResultEvent = event(
  'commandResult',
  'CommandResultEventV1',
  'The last event of every command: whether it was accepted and, if not, why. Exactly one per command, including commands that could not be decoded.',
  {
    status: Type.Enum(['accepted', 'rejected'] as const, { description: 'accepted, or rejected (nothing changed).' }),
    code: nullable(
      Type.Enum(REJECT_CODE_NAMES),
      'Rejection code, null when accepted; docs/asyncapi.yaml lists them all under the commandResult message. Codes are stable: never renamed or reused.',
    ),
    orderId: nullable(count('Order id.'), 'The order the command placed or acted on, or null.'),
    duplicateOf: nullable(
      Type.String({ pattern: COMMAND_ID_PATTERN, maxLength: COMMAND_ID_MAX_LENGTH }),
      "Set when a repeated client order id returned the first order's result instead of placing a second: the first command's id.",
    ),
  },
);

export const AssetAddedEvent = event('assetAdded', 'AssetAddedEventV1', 'An asset was registered.', {
  assetId: assetIdOut(),
  symbol: Type.String({ maxLength: WIRE_SYMBOL_MAX_LENGTH, description: 'Asset symbol.' }),
  decimals: count('Decimals: one whole token is 10^decimals base units.'),
});

export const MarketAddedEvent = event('marketAdded', 'MarketAddedEventV1', 'A market was opened.', {
  marketId: marketIdOut(),
  symbol: Type.String({ maxLength: WIRE_SYMBOL_MAX_LENGTH, description: 'Market symbol.' }),
  baseAssetId: assetIdOut('Base asset id.'),
  quoteAssetId: assetIdOut('Quote asset id.'),
  tickSize: amountOut('Price step, quote base units per whole base token.'),
  lotSize: amountOut('Quantity step, base units.'),
  minNotional: amountOut('Smallest price x quantity of a limit order, quote base units.'),
  makerFeeBps: count('Maker fee, basis points.'),
  takerFeeBps: count('Taker fee, basis points.'),
});

export const OrderAcceptedEvent = event(
  'orderAccepted',
  'OrderAcceptedEventV1',
  'An order passed validation and its funds are held. Prices travel in ticks and quantities in lots of its market.',
  {
    orderId: orderIdOut(),
    userId: userIdOut(),
    marketId: marketIdOut(),
    side: side('buy or sell.'),
    orderType: orderType('Order type.'),
    timeInForce: timeInForce('Effective time in force (IOC for market orders).'),
    postOnly: Type.Boolean({ description: 'Post-only.' }),
    stp: stpMode('Effective self-trade prevention mode.'),
    priceTicks: count('Limit price in ticks; 0 for market orders.'),
    stopPriceTicks: count('Stop price in ticks; 0 for non-stop orders.'),
    qtyLots: count('Quantity in lots (2^53-1 for a market buy by quoteQuantity, bounded by its budget instead).'),
    quoteQuantity: amountOut('Quote budget of a market buy by quoteQuantity, else 0.'),
    holdAssetId: holdAssetId(),
    held: amountOut('Amount moved from available to held for the order.'),
    clientOrderId: clientOrderIdOut(),
  },
);

export const OrderRejectedEvent = event(
  'orderRejected',
  'OrderRejectedEventV1',
  'A placeOrder was refused after its user id was read; the commandResult that follows carries the same code.',
  {
    userId: userIdOut(),
    marketId: safeInt('Market id as given on the command (it may name no market).'),
    clientOrderId: clientOrderIdOut(),
    code: Type.Enum(REJECT_CODE_NAMES, { description: 'Rejection code.' }),
  },
);

export const OrderRestedEvent = event(
  'orderRested',
  'OrderRestedEventV1',
  'An order entered the book with quantity remaining.',
  {
    orderId: orderIdOut(),
    marketId: marketIdOut(),
    side: side('buy or sell.'),
    priceTicks: count('Price level in ticks.'),
    remainingLots: count('Quantity resting, in lots.'),
  },
);

export const OrderTriggeredEvent = event(
  'orderTriggered',
  'OrderTriggeredEventV1',
  "A stop order's trigger was met by the last trade price; it now executes as a limit or market order.",
  {
    orderId: orderIdOut(),
    marketId: marketIdOut(),
    lastPriceTicks: count('The last trade price that triggered it, in ticks.'),
  },
);

const fillProperties = () => ({
  orderId: orderIdOut(),
  userId: userIdOut(),
  tradeId: count('The trade that filled it.'),
  fillLots: count('Quantity of this fill, lots.'),
  filledLots: count('Total filled so far, lots.'),
  remainingLots: count('Quantity still open, lots.'),
  released: amountOut(
    'Hold left over when the order completes (price improvement, lower fee rate), returned to available; 0 otherwise.',
  ),
});

export const OrderPartiallyFilledEvent = event(
  'orderPartiallyFilled',
  'OrderPartiallyFilledEventV1',
  'A fill of one order that leaves quantity open.',
  fillProperties(),
);
export const OrderFilledEvent = event(
  'orderFilled',
  'OrderFilledEventV1',
  'The fill that completes an order.',
  fillProperties(),
);

const closeProperties = () => ({
  orderId: orderIdOut(),
  userId: userIdOut(),
  marketId: marketIdOut(),
  reason: closeReason(),
  remainingLots: count('Quantity that was still open, lots.'),
  holdAssetId: holdAssetId(),
  released: amountOut('What went back from held to available.'),
});

export const OrderCanceledEvent = event(
  'orderCanceled',
  'OrderCanceledEventV1',
  'An open order was canceled (by its user, by cancelAll, or re-queued by an amend).',
  closeProperties(),
);
export const OrderExpiredEvent = event(
  'orderExpired',
  'OrderExpiredEventV1',
  'An order ended without filling completely (IOC remainder, no liquidity, budget spent, self-trade prevention).',
  closeProperties(),
);

export const OrderAmendedEvent = event(
  'orderAmended',
  'OrderAmendedEventV1',
  "An order's price and/or quantity changed.",
  {
    orderId: orderIdOut(),
    userId: userIdOut(),
    marketId: marketIdOut(),
    priceTicks: count('Price after the amend, ticks.'),
    qtyLots: count('Total quantity after the amend, lots.'),
    remainingLots: count('Open quantity after the amend, lots.'),
    keptPriority: Type.Boolean({
      description: 'True when the order kept its place in the queue (same price, lower quantity).',
    }),
    holdAssetId: holdAssetId(),
    held: amountOut('Hold after the amend (the difference moved between available and held).'),
  },
);

export const TradeEvent = event(
  'trade',
  'TradeEventV1',
  'A match between a resting (maker) order and an incoming (taker) order.',
  {
    tradeId: count('Trade id, increasing.'),
    marketId: marketIdOut(),
    priceTicks: count("Trade price (the maker's), ticks."),
    qtyLots: count('Quantity, lots.'),
    takerSide: side('Side of the taker.'),
    makerOrderId: count('Maker order id.'),
    takerOrderId: count('Taker order id.'),
    makerUserId: count('Maker user id.'),
    takerUserId: count('Taker user id.'),
    baseAmount: amountOut('Base that moved from seller to buyer.'),
    quoteAmount: amountOut('Quote that moved from buyer to seller, before fees.'),
    makerFee: amountOut('Maker fee in quote, floor(quoteAmount x makerFeeBps / 10000), to the fee account.'),
    takerFee: amountOut('Taker fee in quote, floor(quoteAmount x takerFeeBps / 10000), to the fee account.'),
  },
);

export const BalanceChangedEvent = event(
  'balanceChanged',
  'BalanceChangedEventV1',
  'The final balance of one (user, asset) the command changed; one per pair, just before the commandResult.',
  {
    userId: userIdOut(),
    assetId: assetIdOut(),
    available: amountOut('Available balance.'),
    held: amountOut('Held for open orders.'),
    pending: amountOut('Pending withdrawal.'),
  },
);

export const DepositCreditedEvent = event(
  'depositCredited',
  'DepositCreditedEventV1',
  'A deposit was credited to available.',
  {
    depositId: Type.String({ maxLength: WIRE_TEXT_MAX_LENGTH, description: 'External deposit id.' }),
    userId: userIdOut(),
    assetId: assetIdOut(),
    amount: amountOut('Amount credited.'),
  },
);

const withdrawalBase = () => ({
  withdrawalId: Type.String({ maxLength: WIRE_TEXT_MAX_LENGTH, description: 'Withdrawal id.' }),
  userId: userIdOut(),
  assetId: assetIdOut(),
});

export const WithdrawalPendingEvent = event(
  'withdrawalPending',
  'WithdrawalPendingEventV1',
  'A withdrawal moved from available to pending; the chain service should pay it out.',
  {
    ...withdrawalBase(),
    amount: amountOut('Amount to pay out.'),
    destination: Type.String({ maxLength: WIRE_TEXT_MAX_LENGTH, description: 'Destination address as requested.' }),
  },
);

export const WithdrawalCompletedEvent = event(
  'withdrawalCompleted',
  'WithdrawalCompletedEventV1',
  'A pending withdrawal was paid out and left the engine.',
  {
    ...withdrawalBase(),
    amount: amountOut('Amount paid out.'),
    txHash: nullable(
      Type.String({ maxLength: WIRE_TEXT_MAX_LENGTH }),
      'Transaction hash from completeWithdrawal, or null.',
    ),
  },
);

export const WithdrawalFailedEvent = event(
  'withdrawalFailed',
  'WithdrawalFailedEventV1',
  'A pending withdrawal failed and was refunded.',
  {
    ...withdrawalBase(),
    amount: amountOut('Refunded from pending to available.'),
    reason: nullable(Type.String({ maxLength: WIRE_TEXT_MAX_LENGTH }), 'Reason from failWithdrawal, or null.'),
  },
);

export const MarketStatusChangedEvent = event(
  'marketStatusChanged',
  'MarketStatusChangedEventV1',
  "A market's status was set by an operator (emitted also when it already had that status, so every operator action is on the stream).",
  {
    marketId: marketIdOut(),
    status: marketStatus('trading, cancelOnly or halted.'),
  },
);

export const UserFrozenChangedEvent = event(
  'userFrozenChanged',
  'UserFrozenChangedEventV1',
  'A user was frozen or unfrozen by an operator (emitted also when the user already was in that state).',
  {
    userId: userIdOut(),
    frozen: Type.Boolean({ description: 'true: no new orders, amends or withdrawal requests; false: unrestricted.' }),
  },
);

/** Every event schema by its `type`. */
export const EVENT_SCHEMAS = {
  commandResult: CommandResultEvent,
  assetAdded: AssetAddedEvent,
  marketAdded: MarketAddedEvent,
  orderAccepted: OrderAcceptedEvent,
  orderRejected: OrderRejectedEvent,
  orderRested: OrderRestedEvent,
  orderTriggered: OrderTriggeredEvent,
  orderPartiallyFilled: OrderPartiallyFilledEvent,
  orderFilled: OrderFilledEvent,
  orderCanceled: OrderCanceledEvent,
  orderExpired: OrderExpiredEvent,
  orderAmended: OrderAmendedEvent,
  trade: TradeEvent,
  balanceChanged: BalanceChangedEvent,
  depositCredited: DepositCreditedEvent,
  withdrawalPending: WithdrawalPendingEvent,
  withdrawalCompleted: WithdrawalCompletedEvent,
  withdrawalFailed: WithdrawalFailedEvent,
  marketStatusChanged: MarketStatusChangedEvent,
  userFrozenChanged: UserFrozenChangedEvent,
} as const;

/** Any event, discriminated by `type`. */
export const EventWire = Type.Union(
  [
    CommandResultEvent,
    AssetAddedEvent,
    MarketAddedEvent,
    OrderAcceptedEvent,
    OrderRejectedEvent,
    OrderRestedEvent,
    OrderTriggeredEvent,
    OrderPartiallyFilledEvent,
    OrderFilledEvent,
    OrderCanceledEvent,
    OrderExpiredEvent,
    OrderAmendedEvent,
    TradeEvent,
    BalanceChangedEvent,
    DepositCreditedEvent,
    WithdrawalPendingEvent,
    WithdrawalCompletedEvent,
    WithdrawalFailedEvent,
    MarketStatusChangedEvent,
    UserFrozenChangedEvent,
  ],
  { title: 'EventV1', description: 'Any event, discriminated by `type`.' },
);
export type EventWire = Static<typeof EventWire>;

/** A record of the events topic: events of one command (codec.ts encodeEventRecords). */
const eventRecordSchema = Type.Object(
  {
    v: Type.Literal(WIRE_VERSION, { description: 'Schema version of the record.' }),
    events: Type.Array(EventWire, {
      minItems: 1,
      description:
        "Consecutive events in `seq` order: each one names its command (`cmdId`), and a command's last event is its commandResult.",
    }),
  },
  {
    additionalProperties: false,
    title: 'EventRecordV1',
    description:
      'A run of consecutive events, in `seq` order: the events of the commands of one engine batch, cut into records of at most ' +
      "about 120 KiB (never inside an event). Read the events one by one: a command's events may span two records.",
  },
);
export const EventRecordWire = eventRecordSchema as typeof eventRecordSchema & Documented;

export type CommandWireType = keyof typeof COMMAND_SCHEMAS;
export type EventWireType = keyof typeof EVENT_SCHEMAS;
/** The wire form of one command or event type. */
export type CommandWireOf<K extends CommandWireType> = Static<(typeof COMMAND_SCHEMAS)[K]>;
export type EventWireOf<K extends EventWireType> = Static<(typeof EVENT_SCHEMAS)[K]>;

/** Names of the fields of a schema that carry a bigint as a decimal string, in schema order. */
export function bigintFields(schema: { properties: Record<string, unknown> }): string[] {
  return Object.entries(schema.properties)
    .filter(([, p]) => {
      const pattern = (p as { pattern?: unknown }).pattern;
      return pattern === SIGNED_DECIMAL_PATTERN || pattern === UNSIGNED_DECIMAL_PATTERN;
    })
    .map(([name]) => name);
}
