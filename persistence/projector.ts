// The projection's pure core: engine events in, table rows out, no I/O. It keeps what later events need (open
// orders with their holds, pending withdrawals, markets, ledger balances) and checks the stream as it goes:
// gap-free seq, every order and withdrawal known, no hold or ledger account below zero, and after each command
// the ledger's balances of every touched (user, asset) equal the engine's balanceChanged figures. Anything else
// throws a ProjectionError naming the event: the consumer stops rather than write a wrong ledger.

import type {
  BalanceChanged,
  DepositCredited,
  EngineEvent,
  MarketStatusChanged,
  OrderAccepted,
  OrderAmended,
  OrderClosed,
  OrderFill,
  Trade,
  UserFrozenChanged,
  WithdrawalCompleted,
  WithdrawalFailed,
  WithdrawalPending,
} from '../engine/core/index.js';
import { ProjectionError, eventError } from './errors.js';
import {
  KIND_AVAILABLE,
  KIND_CUSTODY,
  KIND_FEES,
  KIND_HELD,
  KIND_PENDING,
  LedgerBook,
  OverdraftError,
  SYSTEM_USER,
} from './ledger.js';
import type { EntryReason } from './ledger.js';
import type {
  AssetRow,
  BalanceRow,
  MarketRow,
  MarketStatusRow,
  OrderRow,
  Position,
  RowSets,
  UserFrozenRow,
  WithdrawalRow,
} from './rows.js';
import { avgFillPrice, emptyRowSets } from './rows-util.js';

/**
 * One record of the source: events of one command, in order (a command with very many events spans several
 * records; its commandResult ends the last one). Records are what the source positions are counted in.
 */
export interface SourceRecord {
  /** Position in the source; stored so a restart can seek past what is applied. */
  readonly offset: number;
  /** When the record was appended to the source (lag measurement). */
  readonly timestampMs: number;
  readonly events: readonly EngineEvent[];
}

export interface MarketInfo {
  readonly row: MarketRow;
  readonly baseAssetDecimals: number;
}

export class Projector {
  position: Position = { lastSeq: 0, sourceOffset: -1, commandsApplied: 0 };
  readonly assets = new Map<number, AssetRow>();
  readonly markets = new Map<number, MarketInfo>();
  readonly users = new Set<number>();
  /** Accepted orders not closed yet (including a market order within its own command). */
  readonly openOrders = new Map<number, OrderRow>();
  readonly pendingWithdrawals = new Map<string, WithdrawalRow>();
  readonly ledger = new LedgerBook();

  // Per batch.
  private rows: RowSets = emptyRowSets(this.position);
  private touchedOrders = new Map<number, OrderRow>();
  private newOrderIds = new Set<number>();
  /** The engine's figures per user, then asset, as last changed in this batch (numbers: no string key per event). */
  private balances = new Map<number, Map<number, BalanceRow>>();
  private touchedWithdrawals = new Map<string, WithdrawalRow>();
  private marketStatuses = new Map<number, MarketStatusRow>();
  private userFrozen = new Map<number, UserFrozenRow>();
  /** Next entry number within the current event's posting. */
  private entryN = 0;

  /**
   * Projects records. Events at or below the stored position are skipped (a redelivery, or another writer's copy
   * cut elsewhere); the first new event must be lastSeq + 1. After a throw the projector is unusable: reload it from the database.
   */
  project(records: readonly SourceRecord[]): RowSets {
    this.beginBatch();
    this.add(records);
    return this.finishBatch();
  }

  /** project() in steps, for a caller that lets other work run between them: beginBatch, add..., finishBatch. */
  beginBatch(): void {
    this.rows = emptyRowSets(this.position);
  }

  add(records: readonly SourceRecord[]): void {
    for (const record of records) this.projectRecord(record);
  }

  private projectRecord(record: SourceRecord): void {
    const events = record.events;
    if (events.length === 0)
      throw new ProjectionError('PERSIST_BAD_RECORD', `record at offset ${record.offset} holds no events`);
    const last = events[events.length - 1].seq;
    if (last <= this.position.lastSeq) return;
    // A record cut elsewhere by another writer (a daemon's restart, or a second daemon) may straddle the stored
    // position: the events up to it are copies of what was applied.
    const skip = Math.max(0, this.position.lastSeq + 1 - events[0].seq);
    const pos = { ...this.position };
    for (let i = skip; i < events.length; i++) {
      const ev = events[i];
      if (ev.seq !== pos.lastSeq + 1)
        throw eventError('PERSIST_SEQ_GAP', ev, `expected seq ${pos.lastSeq + 1}: events are missing or out of order`);
      this.entryN = 0;
      try {
        this.apply(ev);
      } catch (err) {
        if (err instanceof OverdraftError) throw eventError('PERSIST_LEDGER_OVERDRAFT', ev, err.message);
        throw err;
      }
      pos.lastSeq = ev.seq;
      if (ev.type === 'commandResult') pos.commandsApplied++;
      this.rows.events++;
    }
    pos.sourceOffset = record.offset;
    this.position = pos;
  }

  private apply(ev: EngineEvent): void {
    switch (ev.type) {
      case 'commandResult':
        return;
      case 'assetAdded':
        return this.onAsset(ev);
      case 'marketAdded':
        return this.onMarket(ev);
      case 'orderAccepted':
        return this.onAccepted(ev);
      case 'orderRejected':
        this.rows.rejections.push({
          seq: ev.seq,
          cmdId: ev.cmdId,
          userId: ev.userId,
          marketId: ev.marketId,
          clientOrderId: ev.clientOrderId,
          code: ev.code,
          rejectedMs: ev.timeMs,
        });
        return;
      case 'orderRested': {
        const o = this.order(ev, ev.orderId);
        o.remainingLots = ev.remainingLots;
        return this.touchOrder(o, ev);
      }
      case 'orderTriggered': {
        const o = this.order(ev, ev.orderId);
        o.status = 'new';
        o.triggeredMs = ev.timeMs;
        return this.touchOrder(o, ev);
      }
      case 'orderPartiallyFilled':
      case 'orderFilled':
        return this.onFill(ev);
      case 'orderCanceled':
      case 'orderExpired':
        return this.onClosed(ev);
      case 'orderAmended':
        return this.onAmended(ev);
      case 'trade':
        return this.onTrade(ev);
      case 'balanceChanged':
        return this.onBalance(ev);
      case 'depositCredited':
        return this.onDeposit(ev);
      case 'withdrawalPending':
        return this.onWithdrawalPending(ev);
      case 'withdrawalCompleted':
      case 'withdrawalFailed':
        return this.onWithdrawalFinished(ev);
      case 'marketStatusChanged':
        return this.onMarketStatus(ev);
      case 'userFrozenChanged':
        return this.onUserFrozen(ev);
      default: {
        const _exhaustive: never = ev;
        throw new ProjectionError(
          'PERSIST_BAD_RECORD',
          `unknown event type ${JSON.stringify((_exhaustive as EngineEvent).type)}`,
        );
      }
    }
  }

  private move(
    ev: EngineEvent,
    assetId: number,
    from: [number, number],
    to: [number, number],
    amount: bigint,
    reason: EntryReason,
    refId: string,
  ): void {
    const moved = this.ledger.transfer({
      seq: ev.seq,
      n: this.entryN,
      assetId,
      debitKind: from[0],
      debitUser: from[1],
      creditKind: to[0],
      creditUser: to[1],
      amount,
      reason,
      refId,
      postedMs: ev.timeMs,
    });
    if (moved) this.entryN++;
  }

  private onAsset(ev: Extract<EngineEvent, { type: 'assetAdded' }>): void {
    if (this.assets.has(ev.assetId)) throw eventError('PERSIST_DUPLICATE_ID', ev, `asset ${ev.assetId} exists already`);
    const row: AssetRow = {
      assetId: ev.assetId,
      symbol: ev.symbol,
      decimals: ev.decimals,
      createdSeq: ev.seq,
      createdMs: ev.timeMs,
    };
    this.assets.set(ev.assetId, row);
    this.rows.assets.push(row);
  }

  private onMarket(ev: Extract<EngineEvent, { type: 'marketAdded' }>): void {
    if (this.markets.has(ev.marketId))
      throw eventError('PERSIST_DUPLICATE_ID', ev, `market ${ev.marketId} exists already`);
    const base = this.assets.get(ev.baseAssetId);
    if (base === undefined || !this.assets.has(ev.quoteAssetId))
      throw eventError('PERSIST_UNKNOWN_ASSET', ev, `market ${ev.marketId} names an unknown asset`);
    const row: MarketRow = {
      marketId: ev.marketId,
      symbol: ev.symbol,
      baseAssetId: ev.baseAssetId,
      quoteAssetId: ev.quoteAssetId,
      tickSize: ev.tickSize,
      lotSize: ev.lotSize,
      minNotional: ev.minNotional,
      makerFeeBps: ev.makerFeeBps,
      takerFeeBps: ev.takerFeeBps,
      createdSeq: ev.seq,
      createdMs: ev.timeMs,
    };
    this.markets.set(ev.marketId, { row, baseAssetDecimals: base.decimals });
    this.rows.markets.push(row);
  }

  private market(ev: EngineEvent, marketId: number): MarketInfo {
    const m = this.markets.get(marketId);
    if (m === undefined) throw eventError('PERSIST_UNKNOWN_MARKET', ev, `market ${marketId} is unknown`);
    return m;
  }

  private order(ev: EngineEvent, orderId: number): OrderRow {
    const o = this.openOrders.get(orderId);
    if (o === undefined) throw eventError('PERSIST_UNKNOWN_ORDER', ev, `order ${orderId} is not open`);
    return o;
  }

  private touchOrder(o: OrderRow, ev: EngineEvent): void {
    o.updatedSeq = ev.seq;
    o.updatedMs = ev.timeMs;
    this.touchedOrders.set(o.orderId, o);
  }

  private onAccepted(ev: OrderAccepted): void {
    const m = this.market(ev, ev.marketId).row;
    if (this.openOrders.has(ev.orderId))
      throw eventError('PERSIST_DUPLICATE_ID', ev, `order ${ev.orderId} is open already`);
    const isStop = ev.orderType === 'stopLimit' || ev.orderType === 'stopMarket';
    const qty = BigInt(ev.qtyLots) * m.lotSize;
    const o: OrderRow = {
      orderId: ev.orderId,
      userId: ev.userId,
      marketId: ev.marketId,
      clientOrderId: ev.clientOrderId,
      side: ev.side,
      orderType: ev.orderType,
      timeInForce: ev.timeInForce,
      postOnly: ev.postOnly,
      stp: ev.stp,
      status: isStop ? 'pendingTrigger' : 'new',
      closeReason: null,
      priceTicks: ev.priceTicks,
      price: BigInt(ev.priceTicks) * m.tickSize,
      stopPriceTicks: ev.stopPriceTicks,
      stopPrice: BigInt(ev.stopPriceTicks) * m.tickSize,
      originalQtyLots: ev.qtyLots,
      qtyLots: ev.qtyLots,
      filledLots: 0,
      remainingLots: ev.qtyLots,
      originalQuantity: qty,
      filledQuantity: 0n,
      remainingQuantity: qty,
      quoteQuantity: ev.quoteQuantity,
      filledQuote: 0n,
      feesPaid: 0n,
      avgFillPrice: null,
      holdAssetId: ev.holdAssetId,
      held: ev.held,
      tradesCount: 0,
      createdSeq: ev.seq,
      createdMs: ev.timeMs,
      updatedSeq: ev.seq,
      updatedMs: ev.timeMs,
      triggeredMs: null,
      closedMs: null,
    };
    this.openOrders.set(o.orderId, o);
    this.newOrderIds.add(o.orderId);
    this.touchOrder(o, ev);
    this.move(
      ev,
      ev.holdAssetId,
      [KIND_AVAILABLE, ev.userId],
      [KIND_HELD, ev.userId],
      ev.held,
      'hold',
      String(ev.orderId),
    );
  }

  private onAmended(ev: OrderAmended): void {
    const o = this.order(ev, ev.orderId);
    const m = this.market(ev, o.marketId).row;
    const delta = ev.held - o.held;
    if (delta > 0n)
      this.move(ev, o.holdAssetId, [KIND_AVAILABLE, o.userId], [KIND_HELD, o.userId], delta, 'hold', String(o.orderId));
    else
      this.move(
        ev,
        o.holdAssetId,
        [KIND_HELD, o.userId],
        [KIND_AVAILABLE, o.userId],
        -delta,
        'release',
        String(o.orderId),
      );
    o.held = ev.held;
    o.priceTicks = ev.priceTicks;
    o.price = BigInt(ev.priceTicks) * m.tickSize;
    o.qtyLots = ev.qtyLots;
    o.remainingLots = ev.remainingLots;
    o.remainingQuantity = BigInt(ev.remainingLots) * m.lotSize;
    this.touchOrder(o, ev);
  }

  private onTrade(ev: Trade): void {
    const m = this.market(ev, ev.marketId).row;
    const maker = this.order(ev, ev.makerOrderId);
    const taker = this.order(ev, ev.takerOrderId);
    const takerBuys = ev.takerSide === 'buy';
    const buyer = takerBuys ? taker : maker;
    const seller = takerBuys ? maker : taker;
    const buyerFee = takerBuys ? ev.takerFee : ev.makerFee;
    const sellerFee = takerBuys ? ev.makerFee : ev.takerFee;
    const ref = String(ev.tradeId);
    const q = m.quoteAssetId;
    this.move(ev, q, [KIND_HELD, buyer.userId], [KIND_AVAILABLE, seller.userId], ev.quoteAmount, 'trade', ref);
    this.move(ev, q, [KIND_HELD, buyer.userId], [KIND_FEES, SYSTEM_USER], buyerFee, 'fee', ref);
    // The seller's fee comes out of what the seller just received.
    this.move(ev, q, [KIND_AVAILABLE, seller.userId], [KIND_FEES, SYSTEM_USER], sellerFee, 'fee', ref);
    this.move(
      ev,
      m.baseAssetId,
      [KIND_HELD, seller.userId],
      [KIND_AVAILABLE, buyer.userId],
      ev.baseAmount,
      'trade',
      ref,
    );
    this.spendHold(ev, buyer, ev.quoteAmount + buyerFee);
    this.spendHold(ev, seller, ev.baseAmount);
    for (const [o, fee] of [
      [maker, ev.makerFee],
      [taker, ev.takerFee],
    ] as const) {
      o.filledQuote += ev.quoteAmount;
      o.feesPaid += fee;
      o.tradesCount++;
      this.touchOrder(o, ev);
    }
    this.rows.trades.push({
      tradeId: ev.tradeId,
      seq: ev.seq,
      marketId: ev.marketId,
      priceTicks: ev.priceTicks,
      price: BigInt(ev.priceTicks) * m.tickSize,
      qtyLots: ev.qtyLots,
      baseAmount: ev.baseAmount,
      quoteAmount: ev.quoteAmount,
      takerSide: ev.takerSide,
      makerOrderId: ev.makerOrderId,
      takerOrderId: ev.takerOrderId,
      makerUserId: ev.makerUserId,
      takerUserId: ev.takerUserId,
      makerFee: ev.makerFee,
      takerFee: ev.takerFee,
      executedMs: ev.timeMs,
    });
  }

  private spendHold(ev: EngineEvent, o: OrderRow, amount: bigint): void {
    if (o.held < amount)
      throw eventError(
        'PERSIST_HOLD_MISMATCH',
        ev,
        `order ${o.orderId} holds ${o.held}, less than the ${amount} it spends`,
      );
    o.held -= amount;
  }

  private onFill(ev: OrderFill): void {
    const o = this.order(ev, ev.orderId);
    const m = this.market(ev, o.marketId).row;
    o.filledLots = ev.filledLots;
    o.remainingLots = ev.remainingLots;
    o.qtyLots = ev.filledLots + ev.remainingLots;
    o.filledQuantity = BigInt(ev.filledLots) * m.lotSize;
    o.remainingQuantity = BigInt(ev.remainingLots) * m.lotSize;
    if (ev.type === 'orderPartiallyFilled') o.status = 'partiallyFilled';
    else this.close(ev, o, 'filled', null, ev.released);
    this.touchOrder(o, ev);
  }

  private onClosed(ev: OrderClosed): void {
    const o = this.order(ev, ev.orderId);
    o.remainingLots = ev.remainingLots;
    o.remainingQuantity = BigInt(ev.remainingLots) * this.market(ev, o.marketId).row.lotSize;
    this.close(ev, o, ev.type === 'orderCanceled' ? 'canceled' : 'expired', ev.reason, ev.released);
    this.touchOrder(o, ev);
  }

  /** A closed order releases all it still holds: anything else means the hold was tracked wrong. */
  private close(
    ev: EngineEvent,
    o: OrderRow,
    status: OrderRow['status'],
    reason: string | null,
    released: bigint,
  ): void {
    if (released !== o.held)
      throw eventError('PERSIST_HOLD_MISMATCH', ev, `order ${o.orderId} releases ${released} but holds ${o.held}`);
    this.move(
      ev,
      o.holdAssetId,
      [KIND_HELD, o.userId],
      [KIND_AVAILABLE, o.userId],
      released,
      'release',
      String(o.orderId),
    );
    o.held = 0n;
    o.status = status;
    o.closeReason = reason;
    o.closedMs = ev.timeMs;
    this.openOrders.delete(o.orderId);
  }

  private onBalance(ev: BalanceChanged): void {
    const l = this.ledger;
    const available = l.balance(KIND_AVAILABLE, ev.userId, ev.assetId);
    const held = l.balance(KIND_HELD, ev.userId, ev.assetId);
    const pending = l.balance(KIND_PENDING, ev.userId, ev.assetId);
    if (available !== ev.available || held !== ev.held || pending !== ev.pending) {
      throw eventError(
        'PERSIST_BALANCE_MISMATCH',
        ev,
        `user ${ev.userId} asset ${ev.assetId}: engine says available/held/pending ${ev.available}/${ev.held}/${ev.pending}, the ledger ${available}/${held}/${pending}`,
      );
    }
    this.seeUser(ev);
    let byUser = this.balances.get(ev.userId);
    if (byUser === undefined) this.balances.set(ev.userId, (byUser = new Map()));
    byUser.set(ev.assetId, {
      userId: ev.userId,
      assetId: ev.assetId,
      available: ev.available,
      held: ev.held,
      pending: ev.pending,
      updatedSeq: ev.seq,
      updatedMs: ev.timeMs,
    });
  }

  private onDeposit(ev: DepositCredited): void {
    if (!this.assets.has(ev.assetId)) throw eventError('PERSIST_UNKNOWN_ASSET', ev, `asset ${ev.assetId} is unknown`);
    this.move(
      ev,
      ev.assetId,
      [KIND_CUSTODY, SYSTEM_USER],
      [KIND_AVAILABLE, ev.userId],
      ev.amount,
      'deposit',
      ev.depositId,
    );
    this.rows.deposits.push({
      depositId: ev.depositId,
      userId: ev.userId,
      assetId: ev.assetId,
      amount: ev.amount,
      seq: ev.seq,
      creditedMs: ev.timeMs,
    });
  }

  private onWithdrawalPending(ev: WithdrawalPending): void {
    if (this.pendingWithdrawals.has(ev.withdrawalId))
      throw eventError('PERSIST_DUPLICATE_ID', ev, `withdrawal ${ev.withdrawalId} is pending already`);
    this.move(
      ev,
      ev.assetId,
      [KIND_AVAILABLE, ev.userId],
      [KIND_PENDING, ev.userId],
      ev.amount,
      'withdrawalRequest',
      ev.withdrawalId,
    );
    const w: WithdrawalRow = {
      withdrawalId: ev.withdrawalId,
      userId: ev.userId,
      assetId: ev.assetId,
      amount: ev.amount,
      destination: ev.destination,
      status: 'pending',
      txHash: null,
      failReason: null,
      requestedSeq: ev.seq,
      requestedMs: ev.timeMs,
      finishedSeq: null,
      finishedMs: null,
    };
    this.pendingWithdrawals.set(w.withdrawalId, w);
    this.touchedWithdrawals.set(w.withdrawalId, w);
  }

  private onWithdrawalFinished(ev: WithdrawalCompleted | WithdrawalFailed): void {
    const w = this.pendingWithdrawals.get(ev.withdrawalId);
    if (w === undefined)
      throw eventError('PERSIST_UNKNOWN_WITHDRAWAL', ev, `withdrawal ${ev.withdrawalId} is not pending`);
    if (w.amount !== ev.amount || w.userId !== ev.userId || w.assetId !== ev.assetId)
      throw eventError('PERSIST_UNKNOWN_WITHDRAWAL', ev, `withdrawal ${ev.withdrawalId} differs from its request`);
    if (ev.type === 'withdrawalCompleted') {
      this.move(
        ev,
        w.assetId,
        [KIND_PENDING, w.userId],
        [KIND_CUSTODY, SYSTEM_USER],
        w.amount,
        'withdrawalComplete',
        w.withdrawalId,
      );
      w.status = 'completed';
      w.txHash = ev.txHash;
    } else {
      this.move(
        ev,
        w.assetId,
        [KIND_PENDING, w.userId],
        [KIND_AVAILABLE, w.userId],
        w.amount,
        'withdrawalFail',
        w.withdrawalId,
      );
      w.status = 'failed';
      w.failReason = ev.reason;
    }
    w.finishedSeq = ev.seq;
    w.finishedMs = ev.timeMs;
    this.pendingWithdrawals.delete(w.withdrawalId);
    this.touchedWithdrawals.set(w.withdrawalId, w);
  }

  private onMarketStatus(ev: MarketStatusChanged): void {
    this.market(ev, ev.marketId);
    this.marketStatuses.set(ev.marketId, { marketId: ev.marketId, status: ev.status, seq: ev.seq });
  }

  private onUserFrozen(ev: UserFrozenChanged): void {
    // The engine opens an account when it freezes a user it has not seen: the users row starts here then.
    this.seeUser(ev);
    this.userFrozen.set(ev.userId, { userId: ev.userId, frozen: ev.frozen, seq: ev.seq });
  }

  private seeUser(ev: BalanceChanged | UserFrozenChanged): void {
    if (this.users.has(ev.userId)) return;
    this.users.add(ev.userId);
    this.rows.users.push({ userId: ev.userId, firstSeenSeq: ev.seq, firstSeenMs: ev.timeMs });
  }

  /** Collects the batch's upserted sets, each row copied so later batches do not change rows being written. */
  finishBatch(): RowSets {
    const rows = this.rows;
    for (const o of this.touchedOrders.values()) {
      const m = this.markets.get(o.marketId) as MarketInfo;
      o.avgFillPrice = avgFillPrice(o.filledQuote, o.filledQuantity, m.baseAssetDecimals);
      (this.newOrderIds.has(o.orderId) ? rows.newOrders : rows.changedOrders).push({ ...o });
    }
    for (const w of this.touchedWithdrawals.values()) rows.withdrawals.push({ ...w });
    for (const byUser of this.balances.values()) for (const b of byUser.values()) rows.balances.push(b);
    rows.marketStatuses = [...this.marketStatuses.values()];
    rows.userFrozen = [...this.userFrozen.values()];
    const ledger = this.ledger.takeBatch();
    rows.entries = ledger.entries;
    rows.ledgerBalances = ledger.balances;
    rows.position = this.position;
    this.touchedOrders = new Map();
    this.newOrderIds = new Set();
    this.balances = new Map();
    this.touchedWithdrawals = new Map();
    this.marketStatuses = new Map();
    this.userFrozen = new Map();
    return rows;
  }
}
