// Commands: the engine's only input. A discriminated union on `type`, each with schema version `v`.
// Time (`timeMs`) and identity (`id`) arrive on the command: the core reads no clock.
// Amounts are bigint base units; prices are quote base units per one whole base token (10^baseDecimals base units).

import type { ORDER_TYPES, SIDES, STP_MODES, TIME_IN_FORCES } from './formats.js';

export const COMMAND_VERSION = 1 as const;

export type Side = (typeof SIDES)[number];
export type OrderType = (typeof ORDER_TYPES)[number];
export type TimeInForce = (typeof TIME_IN_FORCES)[number];
/** Self-trade prevention; the incoming (taker) order's mode decides. */
export type StpMode = (typeof STP_MODES)[number];
/**
 * What a market accepts: `trading` everything; `cancelOnly` cancels only (no new orders, no amends); `halted`
 * nothing (resting orders stay as they are until trading resumes).
 */
export const MARKET_STATUSES = ['trading', 'cancelOnly', 'halted'] as const;
export type MarketStatus = (typeof MARKET_STATUSES)[number];

interface CommandBase {
  readonly v: typeof COMMAND_VERSION;
  /** Producer-chosen unique id; every event of the command names it. */
  readonly id: string;
  /** Stamped at the edge (gateway/sequencer); the engine never reads a clock. */
  readonly timeMs: number;
}

export interface AddAsset extends CommandBase {
  readonly type: 'addAsset';
  readonly assetId: number;
  readonly symbol: string;
  readonly decimals: number;
}

export interface AddMarket extends CommandBase {
  readonly type: 'addMarket';
  readonly marketId: number;
  readonly symbol: string;
  readonly baseAssetId: number;
  readonly quoteAssetId: number;
  /** Price step, in quote base units per whole base token. */
  readonly tickSize: bigint;
  /** Quantity step, in base units. */
  readonly lotSize: bigint;
  /** Smallest price x quantity of a limit order, in quote base units. */
  readonly minNotional: bigint;
  readonly makerFeeBps: number;
  readonly takerFeeBps: number;
}

export interface Deposit extends CommandBase {
  readonly type: 'deposit';
  readonly userId: number;
  readonly assetId: number;
  readonly amount: bigint;
  /** External id (e.g. chain tx hash + log index): the same id credits once. */
  readonly depositId: string;
}

export interface RequestWithdrawal extends CommandBase {
  readonly type: 'requestWithdrawal';
  readonly userId: number;
  readonly assetId: number;
  readonly amount: bigint;
  readonly withdrawalId: string;
  /** Opaque to the engine (the chain service validates addresses); carried to the pending event. */
  readonly destination: string;
}

export interface CompleteWithdrawal extends CommandBase {
  readonly type: 'completeWithdrawal';
  readonly withdrawalId: string;
  readonly txHash?: string;
}

export interface FailWithdrawal extends CommandBase {
  readonly type: 'failWithdrawal';
  readonly withdrawalId: string;
  readonly reason?: string;
}

export interface PlaceOrder extends CommandBase {
  readonly type: 'placeOrder';
  readonly userId: number;
  readonly marketId: number;
  readonly side: Side;
  readonly orderType: OrderType;
  /** Limit price (limit and stopLimit). */
  readonly price?: bigint;
  /** Trigger price on the last trade (stopLimit and stopMarket). */
  readonly stopPrice?: bigint;
  /** Base quantity in base units. */
  readonly quantity?: bigint;
  /** Market and stop-market buys only: quote to spend, fees included. */
  readonly quoteQuantity?: bigint;
  /** Limit orders; default GTC. Market orders are immediate by nature. */
  readonly timeInForce?: TimeInForce;
  readonly postOnly?: boolean;
  readonly stp?: StpMode;
  readonly clientOrderId?: string;
}

export interface CancelOrder extends CommandBase {
  readonly type: 'cancelOrder';
  readonly userId: number;
  /** Either the engine's order id or the user's client order id. */
  readonly orderId?: number;
  readonly clientOrderId?: string;
}

export interface CancelAll extends CommandBase {
  readonly type: 'cancelAll';
  readonly userId: number;
  readonly marketId?: number;
}

export interface AmendOrder extends CommandBase {
  readonly type: 'amendOrder';
  readonly userId: number;
  readonly orderId: number;
  /** New total quantity (base units). Lower than before with the same price keeps queue priority. */
  readonly quantity?: bigint;
  /** New limit price; a changed price re-queues the order (it loses priority). */
  readonly price?: bigint;
}

/** Operator control: what the market accepts from now on. Setting the status it already has is accepted. */
export interface SetMarketStatus extends CommandBase {
  readonly type: 'setMarketStatus';
  readonly marketId: number;
  readonly status: MarketStatus;
}

/** Operator control: a frozen user cannot place or amend orders nor request withdrawals; cancels still work. */
export interface SetUserFrozen extends CommandBase {
  readonly type: 'setUserFrozen';
  readonly userId: number;
  readonly frozen: boolean;
}

export type Command =
  | AddAsset
  | AddMarket
  | Deposit
  | RequestWithdrawal
  | CompleteWithdrawal
  | FailWithdrawal
  | PlaceOrder
  | CancelOrder
  | CancelAll
  | AmendOrder
  | SetMarketStatus
  | SetUserFrozen;

export type CommandType = Command['type'];
