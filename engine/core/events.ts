// Events: the engine's only output, in order, each with a global sequence number and the id of its command.
// Order quantities travel in lots and prices in ticks (exact safe integers; the market's lotSize and tickSize
// turn them into base units); money (holds, trade amounts, fees, balances) is bigint base units.

import type { MarketStatus, OrderType, Side, StpMode, TimeInForce } from './commands.js';
import type { RejectCode } from './codes.js';
import type { CLOSE_REASONS } from './formats.js';

export const EVENT_VERSION = 1 as const;

interface EventBase {
  readonly v: typeof EVENT_VERSION;
  readonly seq: number;
  readonly cmdId: string;
  readonly timeMs: number;
}

export interface CommandResult extends EventBase {
  readonly type: 'commandResult';
  readonly status: 'accepted' | 'rejected';
  readonly code: RejectCode | null;
  /** The order the command placed, or acted on. */
  readonly orderId: number | null;
  /** Set when a repeated client order id returned the first order's result instead of placing a second. */
  readonly duplicateOf: string | null;
}

export interface AssetAdded extends EventBase {
  readonly type: 'assetAdded';
  readonly assetId: number;
  readonly symbol: string;
  readonly decimals: number;
}

export interface MarketAdded extends EventBase {
  readonly type: 'marketAdded';
  readonly marketId: number;
  readonly symbol: string;
  readonly baseAssetId: number;
  readonly quoteAssetId: number;
  readonly tickSize: bigint;
  readonly lotSize: bigint;
  readonly minNotional: bigint;
  readonly makerFeeBps: number;
  readonly takerFeeBps: number;
}

export interface OrderAccepted extends EventBase {
  readonly type: 'orderAccepted';
  readonly orderId: number;
  readonly userId: number;
  readonly marketId: number;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly timeInForce: TimeInForce;
  readonly postOnly: boolean;
  readonly stp: StpMode;
  readonly priceTicks: number;
  readonly stopPriceTicks: number;
  readonly qtyLots: number;
  readonly quoteQuantity: bigint;
  readonly holdAssetId: number;
  readonly held: bigint;
  readonly clientOrderId: string | null;
}

export interface OrderRejected extends EventBase {
  readonly type: 'orderRejected';
  readonly userId: number;
  readonly marketId: number;
  readonly clientOrderId: string | null;
  readonly code: RejectCode;
}

export interface OrderRested extends EventBase {
  readonly type: 'orderRested';
  readonly orderId: number;
  readonly marketId: number;
  readonly side: Side;
  readonly priceTicks: number;
  readonly remainingLots: number;
}

export interface OrderTriggered extends EventBase {
  readonly type: 'orderTriggered';
  readonly orderId: number;
  readonly marketId: number;
  readonly lastPriceTicks: number;
}

/** A fill of one order: `orderPartiallyFilled` while quantity remains, `orderFilled` when none does. */
export interface OrderFill extends EventBase {
  readonly type: 'orderPartiallyFilled' | 'orderFilled';
  readonly orderId: number;
  readonly userId: number;
  readonly tradeId: number;
  readonly fillLots: number;
  readonly filledLots: number;
  readonly remainingLots: number;
  /** Hold left over when the order completes (price improvement, lower fee rate): back to available. */
  readonly released: bigint;
}

/**
 * user: cancelOrder; cancelAll; ioc: an immediate order with nothing more to match; noLiquidity: a market order
 * ran out of book; funds: a market order's budget ran out; stp: self-trade prevention; amend: re-queued at a new
 * price under a new sequence.
 */
export type CloseReason = (typeof CLOSE_REASONS)[number];

export interface OrderClosed extends EventBase {
  readonly type: 'orderCanceled' | 'orderExpired';
  readonly orderId: number;
  readonly userId: number;
  readonly marketId: number;
  readonly reason: CloseReason;
  readonly remainingLots: number;
  readonly holdAssetId: number;
  /** What went back from held to available. */
  readonly released: bigint;
}

export interface OrderAmended extends EventBase {
  readonly type: 'orderAmended';
  readonly orderId: number;
  readonly userId: number;
  readonly marketId: number;
  readonly priceTicks: number;
  readonly qtyLots: number;
  readonly remainingLots: number;
  readonly keptPriority: boolean;
  readonly holdAssetId: number;
  /** Hold after the amend (the difference moved between available and held). */
  readonly held: bigint;
}

export interface Trade extends EventBase {
  readonly type: 'trade';
  readonly tradeId: number;
  readonly marketId: number;
  readonly priceTicks: number;
  readonly qtyLots: number;
  readonly takerSide: Side;
  readonly makerOrderId: number;
  readonly takerOrderId: number;
  readonly makerUserId: number;
  readonly takerUserId: number;
  /** Base units that moved from seller to buyer. */
  readonly baseAmount: bigint;
  /** Quote units that moved from buyer to seller, before fees. */
  readonly quoteAmount: bigint;
  /** Fees in quote units, to the fee account. */
  readonly makerFee: bigint;
  readonly takerFee: bigint;
}

export interface BalanceChanged extends EventBase {
  readonly type: 'balanceChanged';
  readonly userId: number;
  readonly assetId: number;
  readonly available: bigint;
  readonly held: bigint;
  readonly pending: bigint;
}

export interface DepositCredited extends EventBase {
  readonly type: 'depositCredited';
  readonly depositId: string;
  readonly userId: number;
  readonly assetId: number;
  readonly amount: bigint;
}

export interface WithdrawalPending extends EventBase {
  readonly type: 'withdrawalPending';
  readonly withdrawalId: string;
  readonly userId: number;
  readonly assetId: number;
  readonly amount: bigint;
  readonly destination: string;
}

export interface WithdrawalCompleted extends EventBase {
  readonly type: 'withdrawalCompleted';
  readonly withdrawalId: string;
  readonly userId: number;
  readonly assetId: number;
  readonly amount: bigint;
  readonly txHash: string | null;
}

export interface WithdrawalFailed extends EventBase {
  readonly type: 'withdrawalFailed';
  readonly withdrawalId: string;
  readonly userId: number;
  readonly assetId: number;
  /** Refunded from pending to available. */
  readonly amount: bigint;
  readonly reason: string | null;
}

/** Emitted for every accepted setMarketStatus, also when the market already had that status. */
export interface MarketStatusChanged extends EventBase {
  readonly type: 'marketStatusChanged';
  readonly marketId: number;
  readonly status: MarketStatus;
}

/** Emitted for every accepted setUserFrozen, also when the user already was in that state. */
export interface UserFrozenChanged extends EventBase {
  readonly type: 'userFrozenChanged';
  readonly userId: number;
  readonly frozen: boolean;
}

export type EngineEvent =
  | CommandResult
  | AssetAdded
  | MarketAdded
  | OrderAccepted
  | OrderRejected
  | OrderRested
  | OrderTriggered
  | OrderFill
  | OrderClosed
  | OrderAmended
  | Trade
  | BalanceChanged
  | DepositCredited
  | WithdrawalPending
  | WithdrawalCompleted
  | WithdrawalFailed
  | MarketStatusChanged
  | UserFrozenChanged;

export type EventType = EngineEvent['type'];
