// The engine: a deterministic state machine. `apply(command)` returns the command's events, the last one
// being its `commandResult`. No I/O, no clock, no randomness: the same commands give the same events and the
// same state hash. Handlers live in admin.ts, wallet.ts, orders.ts and matching.ts; this file holds the
// state, the dispatch and the event helpers they share.

import type { Command } from './commands.js';
import { COMMAND_VERSION } from './commands.js';
import type { RejectCode } from './codes.js';
import type { CommandResult, EngineEvent } from './events.js';
import { EVENT_VERSION } from './events.js';
import type { EngineLimits } from './config.js';
import { DEFAULT_LIMITS, checkLimits } from './config.js';
import { DedupWindow } from './dedup-window.js';
import { CommandIdMemory } from './command-ids.js';
import { Account } from './order.js';
import { OrderTable } from './order-table.js';
import type { Asset, Market, Order, PendingWithdrawal } from './order.js';
import { COMMAND_ID_MAX_LENGTH, isPrintableId } from './formats.js';
import { addAsset, addMarket } from './admin.js';
import { completeWithdrawal, deposit, failWithdrawal, requestWithdrawal } from './wallet.js';
import { amendOrder, cancelAll, cancelOrder, placeOrder } from './orders.js';
import { setMarketStatus, setUserFrozen } from './venue.js';

/** What a client order id maps to: the first command's result, returned again for a repeat. */
export interface ClientOrderRecord {
  readonly cmdId: string;
  readonly status: 'accepted' | 'rejected';
  readonly code: RejectCode | null;
  readonly orderId: number | null;
}

export class Engine {
  readonly limits: EngineLimits;
  readonly assets: (Asset | undefined)[] = [];
  readonly assetIdBySymbol = new Map<string, number>();
  readonly markets: (Market | undefined)[] = [];
  readonly marketIdBySymbol = new Map<string, number>();
  readonly accounts = new Map<number, Account>();
  /** Open orders: resting limit orders and pending stop orders. */
  readonly orders = new OrderTable();
  readonly clientOrderIds = new Map<number, DedupWindow<ClientOrderRecord>>();
  readonly depositIds: DedupWindow<true>;
  /** Ids of applied commands, so a producer's retry has no second effect. */
  readonly commandIds: CommandIdMemory;
  readonly withdrawals = new Map<string, PendingWithdrawal>();
  /** The fee account, per asset: not a user, never trades. */
  readonly feeBalances: bigint[] = [];
  /** Per asset, totals that the balances must add up to (deposited - withdrawn). */
  readonly depositedTotal: bigint[] = [];
  readonly withdrawnTotal: bigint[] = [];
  openOrdersTotal = 0;
  stopOrdersTotal = 0;
  nextOrderId = 1;
  nextTradeId = 1;
  /** Sequence number of the last event emitted. */
  eventSeq = 0;
  commandsApplied = 0;
  /** Latest command time seen; windows expire against it so time never runs backwards inside the engine. */
  lastTimeMs = 0;

  // Per-command scratch, reset by apply().
  out: EngineEvent[] = [];
  cmdId = '';
  nowMs = 0;
  // Reused across commands: entries at and past touchedCount are stale (a counter is cheaper than resetting lengths).
  private touchedAccounts: Account[] = [];
  private touchedAssets: number[] = [];
  private touchedCount = 0;

  constructor(limits: EngineLimits = DEFAULT_LIMITS) {
    checkLimits(limits);
    this.limits = limits;
    this.depositIds = new DedupWindow<true>(limits.depositIdsMax, limits.depositIdWindowMs);
    this.commandIds = new CommandIdMemory(limits.commandIdsMax, limits.commandIdWindowMs);
  }

  apply(cmd: Command): EngineEvent[] {
    this.begin(cmd?.id, cmd?.timeMs);
    const envelopeError = checkEnvelope(cmd);
    if (envelopeError !== null) this.result('rejected', envelopeError, null);
    else if (this.commandIds.seenOrAdd(cmd.id, this.nowMs)) this.result('rejected', 'COMMAND_DUPLICATE_ID', null);
    else this.dispatch(cmd);
    return this.end();
  }

  /**
   * A command that never became a Command (the wire codec could not decode it): only its rejecting
   * commandResult, numbered and timed like any command's, so the event stream stays gap-free and a replay of the
   * same records gives the same events. Its id is not remembered: nothing was applied, so a corrected command
   * may use it.
   */
  applyInvalid(cmdId: string, timeMs: number, code: RejectCode): EngineEvent[] {
    this.begin(cmdId, timeMs);
    this.reject(code);
    return this.end();
  }

  private dispatch(cmd: Command): void {
    switch (cmd.type) {
      case 'addAsset':
        return addAsset(this, cmd);
      case 'addMarket':
        return addMarket(this, cmd);
      case 'deposit':
        return deposit(this, cmd);
      case 'requestWithdrawal':
        return requestWithdrawal(this, cmd);
      case 'completeWithdrawal':
        return completeWithdrawal(this, cmd);
      case 'failWithdrawal':
        return failWithdrawal(this, cmd);
      case 'placeOrder':
        return placeOrder(this, cmd);
      case 'cancelOrder':
        return cancelOrder(this, cmd);
      case 'cancelAll':
        return cancelAll(this, cmd);
      case 'amendOrder':
        return amendOrder(this, cmd);
      case 'setMarketStatus':
        return setMarketStatus(this, cmd);
      case 'setUserFrozen':
        return setUserFrozen(this, cmd);
      default: {
        const _exhaustive: never = cmd;
        void _exhaustive;
        this.result('rejected', 'COMMAND_UNKNOWN_TYPE', null);
      }
    }
  }

  private begin(id: unknown, t: unknown): void {
    this.out = [];
    this.cmdId = typeof id === 'string' ? id : '';
    if (typeof t === 'number' && Number.isSafeInteger(t) && t > this.lastTimeMs) this.lastTimeMs = t;
    this.nowMs = this.lastTimeMs;
    this.commandsApplied++;
  }

  private end(): EngineEvent[] {
    // Balance events come last before the result, one per touched (user, asset), with the final figures.
    const n = this.touchedCount;
    const result = this.out.pop() as CommandResult;
    for (let i = 0; i < n; i++) this.emitBalance(this.touchedAccounts[i], this.touchedAssets[i]);
    this.touchedCount = 0;
    this.out.push(result);
    (result as { seq: number }).seq = ++this.eventSeq;
    return this.out;
  }

  nextSeq(): number {
    return ++this.eventSeq;
  }

  /** Ends the command's work with its result; must be called exactly once per command, last. */
  result(
    status: 'accepted' | 'rejected',
    code: RejectCode | null,
    orderId: number | null,
    duplicateOf: string | null = null,
  ): void {
    // seq is assigned in end(), after the balance events that precede the result.
    this.out.push({
      v: EVENT_VERSION,
      seq: 0,
      cmdId: this.cmdId,
      timeMs: this.nowMs,
      type: 'commandResult',
      status,
      code,
      orderId,
      duplicateOf,
    });
  }

  reject(code: RejectCode): void {
    this.result('rejected', code, null);
  }

  /** Marks a balance as changed by this command; one balanceChanged event per pair is emitted at the end. */
  touch(account: Account, assetId: number): void {
    if (account.touchedAt[assetId] === this.commandsApplied) return;
    account.touchedAt[assetId] = this.commandsApplied;
    this.touchedAccounts[this.touchedCount] = account;
    this.touchedAssets[this.touchedCount] = assetId;
    this.touchedCount++;
  }

  private emitBalance(a: Account, assetId: number): void {
    this.out.push({
      v: EVENT_VERSION,
      seq: this.nextSeq(),
      cmdId: this.cmdId,
      timeMs: this.nowMs,
      type: 'balanceChanged',
      userId: a.userId,
      assetId,
      available: a.available[assetId],
      held: a.held[assetId],
      pending: a.pending[assetId],
    });
  }

  /** The user's account, created on first use; undefined when the account table is full. */
  accountFor(userId: number): Account | undefined {
    let account = this.accounts.get(userId);
    if (account === undefined) {
      if (this.accounts.size >= this.limits.usersMax) return undefined;
      account = new Account(userId);
      account.ensureAsset(this.assets.length - 1);
      this.accounts.set(userId, account);
    }
    return account;
  }

  clientWindow(userId: number): DedupWindow<ClientOrderRecord> {
    let w = this.clientOrderIds.get(userId);
    if (w === undefined) {
      w = new DedupWindow<ClientOrderRecord>(this.limits.clientOrderIdsPerUserMax, this.limits.clientOrderIdWindowMs);
      this.clientOrderIds.set(userId, w);
    }
    return w;
  }
}

function checkEnvelope(cmd: Command): RejectCode | null {
  if (cmd === null || typeof cmd !== 'object') return 'COMMAND_MALFORMED';
  if (cmd.v !== COMMAND_VERSION) return 'COMMAND_UNSUPPORTED_VERSION';
  if (!isPrintableId(cmd.id, COMMAND_ID_MAX_LENGTH)) return 'COMMAND_MALFORMED';
  if (!Number.isSafeInteger(cmd.timeMs) || cmd.timeMs < 0) return 'COMMAND_MALFORMED';
  return null;
}
