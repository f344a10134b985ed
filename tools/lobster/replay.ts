// LOBSTER conformance replay: drives the matching engine with real NASDAQ order flow (the LOBSTER sample files,
// ../shared/conformance/lobster/README.md) and checks, after every message, that the engine's visible book is the
// one LOBSTER recorded and that every execution hits the very order the file names (price-time priority).
//
// Messages become engine commands on one market (one tick = one LOBSTER price unit, one lot = one share;
// engine-book.ts):
//   1 add              -> GTC limit order of FILE_USER; it must rest without trading (LOBSTER adds never cross).
//   2 partial cancel   -> amendOrder lowering the total quantity at the same price (keeps queue priority).
//   3 delete           -> cancelOrder; the engine's remaining quantity must be the deleted size.
//   4 execution        -> IOC limit order of AGGRESSOR_USER on the other side (Direction is the resting order's side)
//                         at the row's price for its size. Its first trade must hit the order the file names (else a
//                         priority violation), and all of its trades must (else a mismatch). A run of type-4 rows
//                         with one timestamp (one marketable order) becomes one IOC per row.
//   5 hidden execution -> ignored (it never changes the visible book). 6 cross trade, 7 halt -> skipped, counted.
//
// Seeding. Orderbook row i is the book AFTER message i, so row 1 is not the starting book. The replay undoes
// message 1 on row 1 (an add comes off its level; a cancel or execution puts its size back), rests that book as
// anonymous orders (one per level, best level first), then applies message 1 like any other and checks row 1 too.
// (Seeding row 1 and starting at message 2 would also be sound, but would leave message 1 unchecked.)
//
// The view. A file holds only the events inside its view: per side, the prices at or better than the row's Nth
// level (the whole side when it shows fewer than N). Beyond the view the book changes without messages, so there
// the engine's book goes stale. Hence:
// - What is checked: after message i, per side, row i's top N levels and the engine's top N levels, both cut to
//   the view of row i-1 (the book the message acted on), must be equal in price and total size. Inside that view
//   the engine was told everything before the message. A level of row i beyond it was revealed by the message
//   (it moved up from beyond the view): it is counted (revealedLevels), never compared.
// - Resync: before message i, inside row i-1's view, the engine's levels are made equal to row i-1: a missing
//   size is added as an anonymous order at the back of its level (whatever was added out of view is younger than
//   all the engine holds there), an excess is trimmed (anonymous orders first, then file orders out of view, newest
//   first), a level the row does not show is emptied. Each level changed counts as one resync. A resync can only
//   find a difference where the last check did not look (revealed levels, stale levels now inside the view), or
//   after a failed row (it then keeps one error from cascading); having to trim a file order that stayed in view
//   is itself a mismatch. So resyncs never hide an engine error.
// - Anonymous liquidity: orders the replay rests for what no message added (the seed, resync top-ups), or what a
//   file order turned out to stand for (released). A message naming an order the replay holds no file order for
//   (seeded, added out of view, or released) is an unknown-order message and acts on anonymous liquidity.
// - Certainty: a file order is certain while its price has been in view at every row since its last message, so
//   no event the file left out can have touched it. An uncertain one may have left the book, or shrunk, out of view.
//
// Where the file's knowledge ends, the replay settles what it must from the file itself, counts it, and never
// excuses anything about a certain file order:
// - Executing file order X: anonymous orders the engine queues ahead of X are moved behind it (requeuedLots: their
//   place in the queue was never known), and so are uncertain file orders ahead of X with a smaller LOBSTER id
//   (NASDAQ ids grow with entry time: an older order still there would have executed first, so it left out of
//   view; releasedFileOrders). If every order ahead of X is executed in full by the later rows of the same run
//   (runReorders: that one incoming order hit exactly the head of the queue, the file only lists its fills in
//   another order), the row comes off X directly. Otherwise the orders still ahead of X decide who is wrong:
//   - all of them entered the level before X (smaller engine order ids; the replay places each file order once
//     and only ever lowers its size, so engine ids are entry order): the engine's queue is the time priority the
//     file's own adds imply, and the real exchange executed a younger order first (for example while the older
//     one's cancel was in flight). That is an exchange inversion, counted with its row apart from violations;
//     the row comes off X directly so the replay stays in step with the file.
//   - one of them entered after X: the engine queued a younger order ahead of an older one. The IOC runs and
//     shows the priority violation: a violation always means the engine is wrong.
// - Executing an unknown order U: uncertain file orders with smaller ids queued ahead of the anonymous liquidity
//   are released as above, and the IOC must hit anonymous liquidity only. If a file order with a larger id is
//   ahead, U is older than it but its place in the queue is unknown: U's size comes off anonymous liquidity
//   directly (bypassedExecutions). A certain file order with a smaller id ahead means the exchange executed the
//   younger U first: an exchange inversion, and U's size comes off anonymous liquidity directly.
// - Cancels of unknown orders take anonymous lots at their price, oldest first; if there are too few, uncertain
//   file orders there (newest first) are released to cover them; what is still missing is counted (unmappedLots)
//   and shows as a book mismatch.
// - A file order's size disagreeing with a message is a mismatch when the order is certain, except for lots a
//   resync took from it (it may have trimmed the wrong order); for an uncertain order the difference is settled
//   with anonymous liquidity (uncertainFixes).
//
// In the level-5 and level-10 files nearly every level is checked at every row. The level-1 file leaves out every
// event away from the top, so it checks only the top of book, and only at rows where the top does not move away
// from the price it was at (when it does, the new top was revealed and is taken in by the next resync).

import { checkInvariants } from '../../engine/core/index.js';
import type { Side, Trade } from '../../engine/core/index.js';
import type { Order } from '../../engine/core/index.js';
import { AGGRESSOR_USER, EngineBook, FILE_USER, ANONYMOUS_USER } from './engine-book.js';
import type { CommandOutcome } from './engine-book.js';
import { readMessages, readOrderbook } from './files.js';
import type { LobsterMessage, VisibleBook, VisibleSide } from './files.js';
import { ViewHistory, isInView, viewOf } from './view.js';
import type { View } from './view.js';

export interface ReplayOptions {
  readonly messagePath: string;
  readonly orderbookPath: string;
  /**
   * Levels per side to compare: default (and at most) the orderbook file's, from its column count. The view and
   * the resyncs still use all of the file's levels, so levels below this many are reconciled but never compared.
   */
  readonly levels?: number;
  /** How many failure details to keep (default 20). */
  readonly maxDetails?: number;
}

export type DetailKind = 'book' | 'priority' | 'fill' | 'size' | 'rejected' | 'order' | 'resync' | 'invariant';

export interface ReplayDetail {
  /** 1-based row of the message and orderbook files. */
  readonly row: number;
  readonly kind: DetailKind;
  readonly message: string;
  readonly expected: string;
  readonly actual: string;
}

/** A row where the real exchange executed an order while an older one at the same price stayed queued. */
export interface ExchangeInversion {
  /** 1-based row of the message and orderbook files. */
  readonly row: number;
  readonly message: string;
  /** The older orders queued ahead (LOBSTER ids, or 'anonymous'), as the engine holds them. */
  readonly olderAhead: string;
}

export interface ReplayResult {
  /** Rows replayed: one message and one orderbook row each. */
  readonly rows: number;
  /** Rows where the engine disagreed with the file: book, executed or deleted size, or a refused command. */
  readonly mismatches: number;
  /** Rows whose execution did not hit the order the file names first because the engine broke time priority. */
  readonly priorityViolations: number;
  /** Rows where the exchange itself executed a younger order ahead of an older one at the same price. */
  readonly exchangeInversions: number;
  /** The first INVERSIONS_LISTED_MAX of them, each with its row. */
  readonly inversions: ExchangeInversion[];
  /** Levels per side compared. */
  readonly levels: number;
  /** Orderbook levels compared (those inside the view of the row before). */
  readonly checkedLevels: number;
  /** Orderbook levels a message revealed from beyond the view: not checkable at that row. */
  readonly revealedLevels: number;
  /** Type 2/3/4 rows naming an order the replay holds no file order for (mapped onto anonymous liquidity). */
  readonly unknownOrderMessages: number;
  /** Levels reconciled with the row before a message (anonymous top-ups and trims). */
  readonly resyncs: number;
  readonly resyncLots: number;
  /** File orders that turned out to have left the book out of view: now anonymous liquidity, or gone. */
  readonly releasedFileOrders: number;
  /** Anonymous lots an execution proved younger than the order it names: moved behind it. */
  readonly requeuedLots: number;
  /** Executions of unknown orders older than file orders the engine queues ahead: applied as reductions. */
  readonly bypassedExecutions: number;
  /** Execution rows reported out of queue order within their run (one incoming order), applied as reductions. */
  readonly runReorders: number;
  /** Sizes of file orders out of view that disagreed with a later message, settled with anonymous liquidity. */
  readonly uncertainFixes: number;
  /** Lots an unknown-order message could not find as anonymous liquidity at its price. */
  readonly unmappedLots: number;
  readonly skippedHidden: number;
  readonly skippedCrossTrades: number;
  readonly skippedHalts: number;
  /** checkInvariants problems (checked every INVARIANT_EVERY_ROWS rows and at the end). */
  readonly invariantProblems: number;
  readonly details: ReplayDetail[];
}

const INVARIANT_EVERY_ROWS = 1000;
const INVERSIONS_LISTED_MAX = 1000;

export async function replayLobster(options: ReplayOptions): Promise<ReplayResult> {
  const [messages, orderbook] = await Promise.all([
    readMessages(options.messagePath),
    readOrderbook(options.orderbookPath),
  ]);
  if (messages.length !== orderbook.rows.length) {
    throw new Error(
      `${options.messagePath} has ${messages.length} rows but ${options.orderbookPath} has ${orderbook.rows.length}`,
    );
  }
  if (messages.length === 0) throw new Error(`${options.messagePath} has no rows`);
  const levels = options.levels ?? orderbook.levels;
  if (!Number.isInteger(levels) || levels < 1 || levels > orderbook.levels) {
    throw new Error(`levels must be an integer from 1 to ${orderbook.levels} (the orderbook file's), got ${levels}`);
  }
  const history = new ViewHistory(orderbook.rows.map((row) => viewOf(row, orderbook.levels)));
  const replay = new Replay(messages, history, levels, options.maxDetails ?? 20);
  for (let i = 0; i < messages.length; i++) {
    replay.begin(i, messages[i]);
    if (i === 0) replay.seed(orderbook.rows[0], messages[0]);
    else replay.resync(messages[i], orderbook.rows[i - 1]);
    replay.step(messages[i], orderbook.rows[i]);
    if ((i + 1) % INVARIANT_EVERY_ROWS === 0) replay.checkInvariants(messages[i]);
  }
  replay.checkInvariants(messages[messages.length - 1]);
  return replay.result(messages.length);
}

const SIDES: readonly Side[] = ['sell', 'buy'];

function visibleSide(row: VisibleBook, side: Side): VisibleSide {
  return side === 'sell' ? row.asks : row.bids;
}

function sideOf(m: LobsterMessage): Side {
  return m.direction === 1 ? 'buy' : 'sell';
}

function opposite(side: Side): Side {
  return side === 'buy' ? 'sell' : 'buy';
}

/** An order a type-1 row added, resting in the engine under its own identity. */
interface FileOrder {
  readonly lobsterId: number;
  readonly engineId: number;
  /** 0-based index of the last message about it: from there on, events out of view may have changed it. */
  lastIndex: number;
  /** Lots resyncs took from it while it was out of view (they may have been someone else's). */
  trimmedLots: number;
}

interface FileRef {
  readonly file: FileOrder;
  readonly order: Order;
}

class Replay {
  private readonly book = new EngineBook();
  private readonly fileOrders = new Map<number, FileOrder>();
  private readonly fileOrderOf = new Map<number, FileOrder>();
  private readonly details: ReplayDetail[] = [];
  /** 0-based index of the message being applied. */
  private index = 0;
  private rowFailed = false;
  private rowViolated = false;
  private previousRowFailed = false;
  private mismatches = 0;
  private priorityViolations = 0;
  private exchangeInversions = 0;
  private readonly inversions: ExchangeInversion[] = [];
  private checkedLevels = 0;
  private revealedLevels = 0;
  private unknownOrderMessages = 0;
  private resyncs = 0;
  private resyncLots = 0;
  private releasedFileOrders = 0;
  private requeuedLots = 0;
  private bypassedExecutions = 0;
  private runReorders = 0;
  private uncertainFixes = 0;
  private unmappedLots = 0;
  private skippedHidden = 0;
  private skippedCrossTrades = 0;
  private skippedHalts = 0;
  private invariantProblems = 0;

  constructor(
    private readonly messages: readonly LobsterMessage[],
    private readonly history: ViewHistory,
    private readonly levels: number,
    private readonly maxDetails: number,
  ) {}

  /** Starts row `index` (0-based): what goes wrong from here until the next begin counts against this row. */
  begin(index: number, m: LobsterMessage): void {
    this.index = index;
    this.previousRowFailed = this.rowFailed;
    this.rowFailed = false;
    this.rowViolated = false;
    this.book.setTime(m.timeMs);
  }

  /** Rests the book as it was before message 1: row 1 with message 1 undone, one anonymous order per level. */
  seed(first: VisibleBook, message: LobsterMessage): void {
    for (const side of SIDES) {
      const visible = visibleSide(first, side);
      const sizes = new Map<number, number>();
      visible.prices.forEach((price, i) => sizes.set(price, visible.sizes[i]));
      if (sideOf(message) === side) undoFirstMessage(sizes, message);
      const prices = [...sizes.keys()].sort((a, b) => (side === 'sell' ? a - b : b - a));
      for (const price of prices) this.addAnonymous(message, side, price, sizes.get(price) as number);
    }
  }

  /** Reconciles the engine with `before`, the row preceding this row's message, inside that row's view. */
  resync(next: LobsterMessage, before: VisibleBook): void {
    const view = this.history.views[this.index - 1];
    // Trims first on both sides, so a top-up never meets a stale level of the other side and trades.
    const topUps: Array<[Side, number, number]> = [];
    for (const side of SIDES) {
      const visible = visibleSide(before, side);
      const shown = new Map<number, number>();
      visible.prices.forEach((price, i) => shown.set(price, visible.sizes[i]));
      const engineLevels = this.book.topLevels(side, Infinity, (price) => isInView(view, side, price));
      engineLevels.prices.forEach((price, i) => {
        const excess = engineLevels.sizes[i] - (shown.get(price) ?? 0);
        if (excess > 0) this.resyncTrim(next, side, price, excess);
      });
      for (const [price, size] of shown) {
        const missing = size - this.book.sizeAt(side, price);
        if (missing > 0) topUps.push([side, price, missing]);
      }
    }
    for (const [side, price, lots] of topUps) {
      this.resyncs++;
      this.resyncLots += lots;
      this.addAnonymous(next, side, price, lots);
    }
  }

  /** Applies the row's message, then compares the engine's book with the row after it, inside the view before it. */
  step(m: LobsterMessage, after: VisibleBook): void {
    this.apply(m);
    // Message 1's view is row 1's own: the seed is row 1 with message 1 undone, so all of row 1 is known.
    this.compare(m, after, this.history.views[this.index === 0 ? 0 : this.index - 1]);
    if (this.rowFailed) this.mismatches++;
    if (this.rowViolated) this.priorityViolations++;
  }

  checkInvariants(m: LobsterMessage): void {
    const problems = checkInvariants(this.book.engine);
    this.invariantProblems += problems.length;
    if (problems.length > 0) this.note(m, 'invariant', 'engine invariants hold', problems.slice(0, 3).join('; '));
  }

  result(rows: number): ReplayResult {
    return {
      rows,
      mismatches: this.mismatches,
      priorityViolations: this.priorityViolations,
      exchangeInversions: this.exchangeInversions,
      inversions: this.inversions,
      levels: this.levels,
      checkedLevels: this.checkedLevels,
      revealedLevels: this.revealedLevels,
      unknownOrderMessages: this.unknownOrderMessages,
      resyncs: this.resyncs,
      resyncLots: this.resyncLots,
      releasedFileOrders: this.releasedFileOrders,
      requeuedLots: this.requeuedLots,
      bypassedExecutions: this.bypassedExecutions,
      runReorders: this.runReorders,
      uncertainFixes: this.uncertainFixes,
      unmappedLots: this.unmappedLots,
      skippedHidden: this.skippedHidden,
      skippedCrossTrades: this.skippedCrossTrades,
      skippedHalts: this.skippedHalts,
      invariantProblems: this.invariantProblems,
      details: this.details,
    };
  }

  private apply(m: LobsterMessage): void {
    switch (m.type) {
      case 1:
        return this.add(m);
      case 2:
        return this.partialCancel(m);
      case 3:
        return this.delete(m);
      case 4:
        return this.execute(m);
      case 5:
        this.skippedHidden++;
        return;
      case 6:
        this.skippedCrossTrades++;
        return;
      case 7:
        this.skippedHalts++;
        return;
      default:
        throw new Error(`row ${m.row}: unknown LOBSTER message type ${m.type}`);
    }
  }

  private add(m: LobsterMessage): void {
    const outcome = this.book.place(FILE_USER, sideOf(m), m.price, m.size, 'GTC');
    if (!this.accepted(m, outcome)) return;
    if (outcome.trades.length > 0) this.fail(m, 'fill', 'an add rests without trading', describeTrades(outcome.trades));
    const engineId = outcome.orderId as number;
    if (this.book.order(engineId) === undefined) return;
    const previous = this.fileOrders.get(m.orderId);
    if (previous !== undefined) {
      this.fail(m, 'order', `order ${m.orderId} added once`, 'added again while resting');
      this.forget(previous);
    }
    const file: FileOrder = { lobsterId: m.orderId, engineId, lastIndex: this.index, trimmedLots: 0 };
    this.fileOrders.set(m.orderId, file);
    this.fileOrderOf.set(engineId, file);
  }

  private partialCancel(m: LobsterMessage): void {
    const ref = this.lookup(m);
    if (ref === 'failed') return;
    if (ref === 'unknown') return this.removeAnonymous(m, m.size);
    const { file, order } = ref;
    const slack = this.shortfallAllowed(ref);
    file.lastIndex = this.index;
    const held = order.remainingLots;
    if (m.size < held) {
      this.accepted(m, this.book.reduce(order, m.size));
      return;
    }
    // The order keeps some shares after a partial cancel, so the engine holds at least size - held + 1 too few.
    this.accepted(m, this.book.cancel(order.userId, order.orderId));
    this.forget(file);
    if (m.size - held + 1 > slack) {
      this.fail(m, 'size', `more than the ${m.size} shares cancelled`, `${held} remaining`);
      return;
    }
    this.uncertainFixes++;
    this.removeAnonymous(m, m.size - held);
  }

  private delete(m: LobsterMessage): void {
    const ref = this.lookup(m);
    if (ref === 'failed') return;
    if (ref === 'unknown') return this.removeAnonymous(m, m.size);
    const { file, order } = ref;
    const held = order.remainingLots;
    const slack = this.shortfallAllowed(ref);
    if (held > m.size && slack === Infinity) {
      // Out of view it shrank (and a resync kept its lots for others): what the engine holds beyond it is anonymous.
      this.uncertainFixes++;
      this.accepted(m, this.book.reduce(order, m.size));
      this.release(file);
      return;
    }
    this.accepted(m, this.book.cancel(order.userId, order.orderId));
    this.forget(file);
    if (held === m.size) return;
    if (held > m.size || m.size - held > slack) {
      this.fail(m, 'size', `${m.size} remaining to delete`, `${held} remaining`);
      return;
    }
    // A resync took lots of this order for ones that left out of view: those others go now instead.
    this.uncertainFixes++;
    this.removeAnonymous(m, m.size - held);
  }

  private execute(m: LobsterMessage): void {
    const ref = this.lookup(m);
    if (ref === 'failed') return;
    if (ref === 'unknown') this.executeUnknown(m);
    else this.executeNamed(m, ref);
  }

  /** An execution of an order the file added: the engine must hit that order first. */
  private executeNamed(m: LobsterMessage, ref: FileRef): void {
    const { file, order } = ref;
    const slack = this.shortfallAllowed(ref);
    file.lastIndex = this.index;
    // Lots a resync took from this order (while out of view) are held anonymously: they come off there.
    const short = Math.min(Math.max(0, m.size - order.remainingLots), slack);
    const lots = m.size - short;
    this.clearAhead(m, order);
    const olderAhead = this.olderAhead(order);
    if (this.executedLaterInRun(m, order)) {
      this.runReorders++;
      this.accepted(m, this.book.remove(order, lots));
    } else if (olderAhead !== null) {
      this.invert(m, olderAhead);
      this.accepted(m, this.book.remove(order, lots));
    } else {
      const outcome = this.aggress(m, lots);
      if (outcome === undefined) return;
      const trades = outcome.trades;
      if (trades.length === 0 || trades[0].makerOrderId !== order.orderId) {
        this.violate(m, `order ${m.orderId} (engine ${order.orderId}) hit first`, describeTrades(trades));
      } else if (trades.some((t) => t.makerOrderId !== order.orderId)) {
        this.fail(m, 'fill', `only order ${m.orderId} (engine ${order.orderId}) hit`, describeTrades(trades));
      }
      this.forgetFilled(trades);
    }
    if (this.book.order(order.orderId) === undefined) this.forget(file);
    if (short > 0) {
      this.uncertainFixes++;
      this.removeAnonymous(m, short);
    }
  }

  /**
   * When orders are queued ahead of `named` and every one of them entered the level before it (smaller engine
   * ids), their LOBSTER ids ('anonymous' for none); null when nothing is ahead or a younger order is.
   */
  private olderAhead(named: Order): string | null {
    const ahead: string[] = [];
    for (const o of this.book.queueAt(named.side, named.priceTicks)) {
      if (o.orderId === named.orderId) break;
      if (o.orderId > named.orderId) return null;
      ahead.push(String(this.fileOrderOf.get(o.orderId)?.lobsterId ?? 'anonymous'));
    }
    return ahead.length === 0 ? null : ahead.join(' ');
  }

  /** Lots the engine may hold short of the file for this order: what resyncs took from it, or any while it is out of view. */
  private shortfallAllowed(ref: FileRef): number {
    return this.isCertain(ref) ? ref.file.trimmedLots : Infinity;
  }

  /**
   * True when every order the engine queues ahead of `named` is executed in full by the later rows of the same
   * run (type-4 rows with the same timestamp and price: one incoming order). The run then hit exactly the head of
   * the queue, only reported out of queue order, and this row comes off `named` directly.
   */
  private executedLaterInRun(m: LobsterMessage, named: Order): boolean {
    const ahead: Order[] = [];
    for (const o of this.book.queueAt(named.side, named.priceTicks)) {
      if (o.orderId === named.orderId) break;
      ahead.push(o);
    }
    if (ahead.length === 0) return false;
    const later = new Map<number, number>();
    for (let j = this.index + 1; j < this.messages.length; j++) {
      const next = this.messages[j];
      if (next.timeText !== m.timeText || (next.type !== 4 && next.type !== 5)) break;
      if (next.type === 4 && next.price === m.price && next.direction === m.direction)
        later.set(next.orderId, (later.get(next.orderId) ?? 0) + next.size);
    }
    return ahead.every((o) => {
      const file = this.fileOrderOf.get(o.orderId);
      return file !== undefined && (later.get(file.lobsterId) ?? 0) >= o.remainingLots;
    });
  }

  /**
   * Moves out of the way what the engine queues ahead of an order the file executes: anonymous liquidity (whose
   * place in the queue was never known, so the file now shows it younger) and file orders out of view since their
   * last message that are older (they must have left the book out of view). Any other file order stays, and the
   * execution will show a priority violation unless the same run executes it (see executedLaterInRun).
   */
  private clearAhead(m: LobsterMessage, named: Order): void {
    const moves: Order[] = [];
    for (const o of this.book.queueAt(named.side, named.priceTicks)) {
      if (o.orderId === named.orderId) break;
      const file = this.fileOrderOf.get(o.orderId);
      if (file !== undefined && (this.isCertain({ file, order: o }) || file.lobsterId > m.orderId)) continue;
      moves.push(o);
    }
    for (const o of moves) {
      const file = this.fileOrderOf.get(o.orderId);
      if (file !== undefined) this.release(file);
      this.requeue(m, o);
    }
  }

  /**
   * An execution of an order the file never added. Older file orders out of view queued ahead of anonymous
   * liquidity have left the book out of view (released). If file orders the engine cannot know to be younger are
   * still ahead, the unknown order's place in the queue is unknown: its size comes off anonymous liquidity directly.
   */
  private executeUnknown(m: LobsterMessage): void {
    let need = m.size;
    let blocker: FileRef | null = null;
    const releases: FileOrder[] = [];
    for (const o of this.book.queueAt(sideOf(m), m.price)) {
      if (need <= 0) break;
      const file = this.fileOrderOf.get(o.orderId);
      if (file !== undefined) {
        const ref = { file, order: o };
        if (this.isCertain(ref) || file.lobsterId > m.orderId) {
          blocker = ref;
          break;
        }
        releases.push(file);
      }
      need -= o.remainingLots;
    }
    if (blocker !== null && this.isCertain(blocker) && blocker.file.lobsterId < m.orderId) {
      // An older order in view all along is still queued: the exchange executed a younger one first.
      this.invert(m, String(blocker.file.lobsterId));
      this.removeAnonymous(m, m.size);
      return;
    }
    if (blocker !== null) {
      this.bypassedExecutions++;
      this.removeAnonymous(m, m.size);
      return;
    }
    for (const file of releases) this.release(file);
    const outcome = this.aggress(m, m.size);
    if (outcome === undefined) return;
    if (outcome.trades.some((t) => this.fileOrderOf.has(t.makerOrderId))) {
      this.violate(m, `anonymous liquidity for unknown order ${m.orderId}`, describeTrades(outcome.trades));
    }
    this.forgetFilled(outcome.trades);
  }

  /** The incoming order behind an execution row: IOC on the other side at the row's price, for `lots`. */
  private aggress(m: LobsterMessage, lots: number): CommandOutcome | undefined {
    const outcome = this.book.place(AGGRESSOR_USER, opposite(sideOf(m)), m.price, lots, 'IOC');
    if (!this.accepted(m, outcome)) return undefined;
    const filled = outcome.trades.reduce((sum, t) => sum + t.qtyLots, 0);
    if (filled !== lots)
      this.fail(m, 'fill', `${lots} executed`, `${filled} executed: ${describeTrades(outcome.trades)}`);
    return outcome;
  }

  /** The resting file order the message names; 'unknown' when the replay holds none under that id. */
  private lookup(m: LobsterMessage): FileRef | 'unknown' | 'failed' {
    const file = this.fileOrders.get(m.orderId);
    if (file === undefined) {
      this.unknownOrderMessages++;
      return 'unknown';
    }
    const order = this.book.order(file.engineId);
    if (order === undefined) {
      this.fail(m, 'order', `order ${m.orderId} (engine ${file.engineId}) resting`, 'not in the engine');
      this.forget(file);
      return 'failed';
    }
    if (order.priceTicks !== m.price || order.side !== sideOf(m)) {
      this.fail(
        m,
        'order',
        `order ${m.orderId} resting as ${sideOf(m)} at ${m.price}`,
        `${order.side} at ${order.priceTicks}`,
      );
      return 'failed';
    }
    return { file, order };
  }

  /** In view at every row since its last message: no event the file left out can have touched it. */
  private isCertain(ref: FileRef): boolean {
    return this.history.inViewThroughout(ref.order.side, ref.order.priceTicks, ref.file.lastIndex, this.index - 1);
  }

  private forget(file: FileOrder): void {
    this.fileOrders.delete(file.lobsterId);
    this.fileOrderOf.delete(file.engineId);
  }

  /** The file order left the book out of view: what the engine still holds for it becomes anonymous liquidity. */
  private release(file: FileOrder): void {
    this.releasedFileOrders++;
    this.forget(file);
  }

  private forgetFilled(trades: Trade[]): void {
    for (const t of trades) {
      const file = this.fileOrderOf.get(t.makerOrderId);
      if (file !== undefined && this.book.order(t.makerOrderId) === undefined) this.forget(file);
    }
  }

  /**
   * Takes `lots` off anonymous liquidity at the message's price, oldest first. When there is too little, file
   * orders out of view since their last message (newest first) are taken to have left the book out of view.
   */
  private removeAnonymous(m: LobsterMessage, lots: number): void {
    const queue = this.book.queueAt(sideOf(m), m.price);
    const anonymous = queue.filter((o) => !this.fileOrderOf.has(o.orderId));
    const uncertain = queue
      .filter((o) => {
        const file = this.fileOrderOf.get(o.orderId);
        return file !== undefined && !this.isCertain({ file, order: o });
      })
      .reverse();
    let left = lots;
    for (const o of [...anonymous, ...uncertain]) {
      if (left === 0) break;
      const file = this.fileOrderOf.get(o.orderId);
      if (file !== undefined) this.release(file);
      const take = Math.min(left, o.remainingLots);
      if (!this.accepted(m, this.book.remove(o, take))) return;
      left -= take;
    }
    this.unmappedLots += left;
  }

  /**
   * Takes `lots` off a level for a resync: anonymous orders, then file orders out of view since their last
   * message, newest first. File orders in view all along are only touched after a failed row (a repair).
   */
  private resyncTrim(next: LobsterMessage, side: Side, price: number, lots: number): void {
    this.resyncs++;
    this.resyncLots += lots;
    const newestFirst = this.book.queueAt(side, price).reverse();
    const rank = (o: Order): number => {
      const file = this.fileOrderOf.get(o.orderId);
      if (file === undefined) return 0;
      return this.isCertain({ file, order: o }) ? 2 : 1;
    };
    const candidates = newestFirst.map((o) => ({ o, rank: rank(o) })).sort((a, b) => a.rank - b.rank);
    let left = lots;
    for (const { o, rank: r } of candidates) {
      if (left === 0) break;
      if (r === 2 && !this.previousRowFailed) {
        this.fail(
          next,
          'resync',
          `${lots} lots at ${price} left out of view`,
          `only orders in view all along remain at ${price}`,
        );
      }
      const take = Math.min(left, o.remainingLots);
      const outcome = this.book.remove(o, take);
      if (!outcome.accepted) {
        this.fail(next, 'resync', `trim ${take} of engine order ${o.orderId} at ${price}`, `rejected ${outcome.code}`);
        return;
      }
      const file = this.fileOrderOf.get(o.orderId);
      if (file !== undefined && this.book.order(o.orderId) === undefined) this.release(file);
      else if (file !== undefined) file.trimmedLots += take;
      left -= take;
    }
  }

  /** Cancels an order and rests its remaining lots again as anonymous liquidity at the back of its level. */
  private requeue(m: LobsterMessage, o: Order): void {
    const lots = o.remainingLots;
    if (!this.accepted(m, this.book.cancel(o.userId, o.orderId))) return;
    this.requeuedLots += lots;
    this.addAnonymous(m, o.side, o.priceTicks, lots);
  }

  private addAnonymous(m: LobsterMessage, side: Side, price: number, lots: number): void {
    const outcome = this.book.place(ANONYMOUS_USER, side, price, lots, 'GTC');
    if (!outcome.accepted || outcome.trades.length > 0) {
      this.fail(
        m,
        'resync',
        `anonymous ${side} ${lots}@${price} rests`,
        outcome.accepted ? describeTrades(outcome.trades) : `rejected ${outcome.code}`,
      );
    }
  }

  private compare(m: LobsterMessage, after: VisibleBook, view: View): void {
    const wanted = SIDES.map((side) => this.expectedLevels(visibleSide(after, side), side, view));
    const got = SIDES.map((side) => this.book.topLevels(side, this.levels, (price) => isInView(view, side, price)));
    if (sameLevels(wanted[0], got[0]) && sameLevels(wanted[1], got[1])) return;
    const format = (levels: VisibleSide[]): string => SIDES.map((side, i) => formatSide(side, levels[i])).join(' | ');
    this.fail(m, 'book', format(wanted), format(got));
  }

  /** The row's top levels inside the view; the ones beyond it were revealed by the message and are not checkable. */
  private expectedLevels(shown: VisibleSide, side: Side, view: View): VisibleSide {
    const wanted: VisibleSide = { prices: [], sizes: [] };
    for (let i = 0; i < shown.prices.length && i < this.levels; i++) {
      if (!isInView(view, side, shown.prices[i])) {
        this.revealedLevels++;
        continue;
      }
      wanted.prices.push(shown.prices[i]);
      wanted.sizes.push(shown.sizes[i]);
    }
    this.checkedLevels += wanted.prices.length;
    return wanted;
  }

  private accepted(m: LobsterMessage, outcome: CommandOutcome): boolean {
    if (!outcome.accepted) this.fail(m, 'rejected', 'command accepted', `rejected ${outcome.code}`);
    return outcome.accepted;
  }

  private fail(m: LobsterMessage, kind: DetailKind, expected: string, actual: string): void {
    this.rowFailed = true;
    this.note(m, kind, expected, actual);
  }

  private violate(m: LobsterMessage, expected: string, actual: string): void {
    this.rowViolated = true;
    this.note(m, 'priority', expected, actual);
  }

  private invert(m: LobsterMessage, olderAhead: string): void {
    this.exchangeInversions++;
    if (this.inversions.length < INVERSIONS_LISTED_MAX)
      this.inversions.push({ row: m.row, message: m.text, olderAhead });
  }

  private note(m: LobsterMessage, kind: DetailKind, expected: string, actual: string): void {
    if (this.details.length < this.maxDetails)
      this.details.push({ row: m.row, kind, message: m.text, expected, actual });
  }
}

/** Row 1 shows the book after message 1; this turns it into the book before (sizes by price, on the message's side). */
function undoFirstMessage(sizes: Map<number, number>, m: LobsterMessage): void {
  if (m.type === 1) {
    const left = (sizes.get(m.price) ?? 0) - m.size;
    if (left < 0) throw new Error(`row 1 does not show the ${m.size} shares message 1 adds at ${m.price}`);
    if (left === 0) sizes.delete(m.price);
    else sizes.set(m.price, left);
  } else if (m.type === 2 || m.type === 3 || m.type === 4) {
    sizes.set(m.price, (sizes.get(m.price) ?? 0) + m.size);
  }
}

function sameLevels(a: VisibleSide, b: VisibleSide): boolean {
  if (a.prices.length !== b.prices.length) return false;
  for (let i = 0; i < a.prices.length; i++) if (a.prices[i] !== b.prices[i] || a.sizes[i] !== b.sizes[i]) return false;
  return true;
}

function formatSide(side: Side, levels: VisibleSide): string {
  return `${side === 'sell' ? 'asks' : 'bids'} ${levels.prices.map((p, i) => `${levels.sizes[i]}@${p}`).join(' ') || '-'}`;
}

function describeTrades(trades: Trade[]): string {
  if (trades.length === 0) return 'no trade';
  return trades
    .map((t) => `${t.qtyLots}@${t.priceTicks} vs engine order ${t.makerOrderId} (user ${t.makerUserId})`)
    .join(', ');
}
