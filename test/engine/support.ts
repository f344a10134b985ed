// Shared given/when/then fixture for the engine core's unit tests.
// A fixture is an engine with WETH (18 decimals) and USDC (6 decimals) and one WETH-USDC market; `when(cmd)`
// fills in the envelope (v, an auto-incrementing id, a time one millisecond after the previous command),
// applies it, and fails loudly if any invariant is broken afterwards, so every test checks them after every
// command without saying so.

import { createHash } from 'node:crypto';
import {
  DEFAULT_LIMITS,
  Engine,
  UINT256_MAX,
  checkInvariants,
  parseUnits,
  snapshotJson,
} from '../../engine/core/index.js';
import type {
  Command,
  CommandResult,
  EngineEvent,
  EngineLimits,
  EventType,
  PlaceOrder,
  RejectCode,
} from '../../engine/core/index.js';

export { UINT256_MAX };

export const WETH = 0;
export const USDC = 1;
export const MARKET = 0;
export const WETH_DECIMALS = 18;
export const USDC_DECIMALS = 6;
/** 0.01 USDC per WETH. */
export const TICK_SIZE = 10_000n;
/** 0.0001 WETH: with the tick above, one lot at one tick is exactly 1 USDC base unit. */
export const LOT_SIZE = 10n ** 14n;
export const MAKER_FEE_BPS = 10;
export const TAKER_FEE_BPS = 20;
/** 1 USDC. */
export const MIN_NOTIONAL = 1_000_000n;

/** Exact decimal amount of WETH, e.g. weth('1.5'). */
export function weth(text: string): bigint {
  return units(text, WETH_DECIMALS);
}

/** Exact decimal amount of USDC (also a price: USDC per whole WETH), e.g. usdc('2000.5'). */
export function usdc(text: string): bigint {
  return units(text, USDC_DECIMALS);
}

/** A price as it travels on order events: ticks('2000') = 200000. */
export function ticks(price: string): number {
  return Number(usdc(price) / TICK_SIZE);
}

/** A WETH quantity as it travels on order events: lots('1') = 10000. */
export function lots(qty: string): number {
  return Number(weth(qty) / LOT_SIZE);
}

function units(text: string, decimals: number): bigint {
  const value = parseUnits(text, decimals);
  if (value === null) throw new Error(`test amount ${text} is not a decimal with at most ${decimals} places`);
  return value;
}

/** floor(quote * bps / 10000), the engine's fee rule, for expected values. */
export function fee(quote: bigint, bps: number): bigint {
  return (quote * BigInt(bps)) / 10_000n;
}

/** A command without its envelope; id and time may be given to override the fixture's. */
type Body<C> = C extends Command ? Omit<C, 'v' | 'id' | 'timeMs'> & { id?: string; timeMs?: number } : never;
export type CommandBody = Body<Command>;
/** A placeOrder without envelope, type and user; the market defaults to the fixture's. */
export type OrderBody = Omit<PlaceOrder, 'v' | 'id' | 'timeMs' | 'type' | 'userId' | 'marketId'> & {
  marketId?: number;
  id?: string;
  timeMs?: number;
};

/** The member(s) of EngineEvent whose `type` can be T (fills share one interface for two types). */
export type EventOf<T extends EventType> = EngineEvent extends infer E
  ? E extends { type: infer U }
    ? T extends U
      ? E
      : never
    : never
  : never;

export interface FixtureOptions {
  limits?: Partial<EngineLimits>;
  makerFeeBps?: number;
  takerFeeBps?: number;
  minNotional?: bigint;
  /** Skip adding the assets and the market (for admin tests). */
  empty?: boolean;
}

export interface Balance {
  available: bigint;
  held: bigint;
  pending: bigint;
}

export class Fixture {
  readonly engine: Engine;
  /** Every command applied so far, with its envelope: a replay source for snapshot tests. */
  readonly applied: Command[] = [];
  private cmdCount = 0;
  private depositCount = 0;
  nowMs = 1_700_000_000_000;

  constructor(options: FixtureOptions = {}) {
    this.engine = new Engine({ ...DEFAULT_LIMITS, ...options.limits });
    if (options.empty === true) return;
    this.ok({ type: 'addAsset', assetId: WETH, symbol: 'WETH', decimals: WETH_DECIMALS });
    this.ok({ type: 'addAsset', assetId: USDC, symbol: 'USDC', decimals: USDC_DECIMALS });
    this.ok({
      type: 'addMarket',
      marketId: MARKET,
      symbol: 'WETH-USDC',
      baseAssetId: WETH,
      quoteAssetId: USDC,
      tickSize: TICK_SIZE,
      lotSize: LOT_SIZE,
      minNotional: options.minNotional ?? MIN_NOTIONAL,
      makerFeeBps: options.makerFeeBps ?? MAKER_FEE_BPS,
      takerFeeBps: options.takerFeeBps ?? TAKER_FEE_BPS,
    });
  }

  /** Applies one command (envelope filled in) and checks every invariant afterwards. */
  when(body: CommandBody): EngineEvent[] {
    this.cmdCount++;
    this.nowMs = body.timeMs ?? this.nowMs + 1;
    const cmd = { ...body, v: 1, id: body.id ?? `cmd-${this.cmdCount}`, timeMs: this.nowMs } as Command;
    return this.applyRaw(cmd);
  }

  /** Applies anything, envelope included, as a producer might send it (for malformed commands). */
  applyRaw(cmd: unknown): EngineEvent[] {
    const events = this.engine.apply(cmd as Command);
    this.applied.push(cmd as Command);
    assertSound(this.engine, `after ${describe(cmd)}`);
    return events;
  }

  /** Applies a command that must be accepted (a given, not the thing under test). */
  ok(body: CommandBody): EngineEvent[] {
    const events = this.when(body);
    const result = resultOf(events);
    if (result.status !== 'accepted') throw new Error(`given ${body.type} was rejected with ${result.code}`);
    return events;
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }

  deposit(userId: number, assetId: number, amount: bigint): EngineEvent[] {
    return this.ok({ type: 'deposit', userId, assetId, amount, depositId: `fund-${++this.depositCount}` });
  }

  /** Gives a user WETH and/or USDC by deposits. */
  fund(userId: number, amounts: { weth?: string; usdc?: string }): void {
    if (amounts.weth !== undefined) this.deposit(userId, WETH, weth(amounts.weth));
    if (amounts.usdc !== undefined) this.deposit(userId, USDC, usdc(amounts.usdc));
  }

  place(userId: number, order: OrderBody): EngineEvent[] {
    return this.when({ marketId: MARKET, ...order, type: 'placeOrder', userId } as CommandBody);
  }

  /** A limit order in human units: limit(1, 'buy', '2000', '1.5') buys 1.5 WETH at 2000 USDC. */
  limit(
    userId: number,
    side: 'buy' | 'sell',
    price: string,
    qty: string,
    extra: Partial<OrderBody> = {},
  ): EngineEvent[] {
    return this.place(userId, { side, orderType: 'limit', price: usdc(price), quantity: weth(qty), ...extra });
  }

  /** Places a limit order that must be accepted; returns its order id. */
  rest(userId: number, side: 'buy' | 'sell', price: string, qty: string, extra: Partial<OrderBody> = {}): number {
    const result = resultOf(this.limit(userId, side, price, qty, extra));
    if (result.status !== 'accepted' || result.orderId === null)
      throw new Error(`given limit ${side} ${qty}@${price} was rejected with ${result.code}`);
    return result.orderId;
  }

  balance(userId: number, assetId: number): Balance {
    const a = this.engine.accounts.get(userId);
    if (a === undefined) return { available: 0n, held: 0n, pending: 0n };
    return { available: a.available[assetId] ?? 0n, held: a.held[assetId] ?? 0n, pending: a.pending[assetId] ?? 0n };
  }

  fees(assetId: number): bigint {
    return this.engine.feeBalances[assetId] ?? 0n;
  }
}

export function assertSound(engine: Engine, when: string): void {
  const problems = checkInvariants(engine);
  if (problems.length > 0) throw new Error(`invariants broken ${when}:\n  ${problems.join('\n  ')}`);
}

function describe(cmd: unknown): string {
  const c = cmd as { id?: unknown; type?: unknown };
  return `command ${String(c?.id)} (${String(c?.type)})`;
}

/** The command's result: always the last event. */
export function resultOf(events: EngineEvent[]): CommandResult {
  const last = events[events.length - 1];
  if (last === undefined || last.type !== 'commandResult')
    throw new Error(`the last event is ${last?.type}, not commandResult`);
  return last;
}

/** The rejection code (null when accepted). */
export function codeOf(events: EngineEvent[]): RejectCode | null {
  return resultOf(events).code;
}

export function eventsOfType<T extends EventType>(events: EngineEvent[], type: T): EventOf<T>[] {
  return events.filter((e) => e.type === type) as EventOf<T>[];
}

/** The only event of a type; throws when there is none or more than one. */
export function oneOf<T extends EventType>(events: EngineEvent[], type: T): EventOf<T> {
  const found = eventsOfType(events, type);
  if (found.length !== 1) throw new Error(`expected one ${type} event, found ${found.length}`);
  return found[0];
}

/** Event types in order: for asserting the exact sequence a command produced. */
export function typesOf(events: EngineEvent[]): string[] {
  return events.map((e) => e.type);
}

export interface VisibleLevel {
  /** Quote units per whole WETH. */
  price: bigint;
  /** Base units. */
  qty: bigint;
  /** Order ids in queue (time priority) order. */
  orderIds: number[];
}

/** The visible book, best level first, in command units. */
export function book(engine: Engine, marketId: number): { bids: VisibleLevel[]; asks: VisibleLevel[] } {
  const m = engine.markets[marketId];
  if (m === undefined) throw new Error(`market ${marketId} does not exist`);
  const levels = (side: typeof m.book.bids): VisibleLevel[] => {
    const out: VisibleLevel[] = [];
    side.forEachLevel((level) => {
      const orderIds: number[] = [];
      for (let o = level.head; o !== null; o = o.next) orderIds.push(o.orderId);
      out.push({ price: BigInt(level.priceTicks) * m.tickSize, qty: BigInt(level.totalLots) * m.lotSize, orderIds });
    });
    return out;
  };
  return { bids: levels(m.book.bids), asks: levels(m.book.asks) };
}

/** Pending stop order ids, in trigger order. */
export function stopBook(engine: Engine, marketId: number): { buy: number[]; sell: number[] } {
  const m = engine.markets[marketId];
  if (m === undefined) throw new Error(`market ${marketId} does not exist`);
  const ids = (side: typeof m.book.buyStops): number[] => {
    const out: number[] = [];
    side.forEachLevel((level) => {
      for (let o = level.head; o !== null; o = o.next) out.push(o.orderId);
    });
    return out;
  };
  return { buy: ids(m.book.buyStops), sell: ids(m.book.sellStops) };
}

/**
 * The state hash without the counters every command advances (event sequence, commands applied, latest
 * command time): equal before and after a command that changed nothing else. Order and trade id counters
 * stay in, so a rejected order that consumed an id shows up.
 */
export function stateHashExceptSequence(engine: Engine): string {
  const state = JSON.parse(new TextDecoder().decode(snapshotJson(engine))) as {
    counters: Record<string, number>;
    commandIds?: unknown;
  };
  // Every applied command's id is remembered (even a rejected one's: its answer was given), like a counter.
  delete state.commandIds;
  delete state.counters.eventSeq;
  delete state.counters.commandsApplied;
  delete state.counters.lastTimeMs;
  return createHash('sha256').update(JSON.stringify(state)).digest('hex');
}

/** JSON with bigints as strings, for comparing event streams exactly. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** A deposit of 5 USDC base units to user 1 under command id `id` (command-id dedup tests). */
export const depositCmd = (id: string, depositId: string, timeMs?: number): CommandBody =>
  ({ id, timeMs, type: 'deposit', userId: 1, assetId: USDC, amount: 5n, depositId }) as CommandBody;
