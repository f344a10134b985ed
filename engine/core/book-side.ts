// One side of a book: price levels in a B-tree (best first), a Map in front of it for O(1) level lookup,
// and each level a FIFO of orders as an intrusive doubly linked list (O(1) append and removal).
// Stop orders use the same structure keyed by stop price, in trigger order. An order does not point to its level
// (8 bytes per resting order): a removal finds the level through the Map by the order's key price, and the
// matching loop, which holds the level already, passes it.
//
// A level that empties is parked rather than deleted: it stays in the tree and the map, empty, so an order
// arriving at that price again (near the top of a shallow book, prices empty and refill all the time) reuses it
// without a B-tree insert and delete. At most PARKED_MAX are parked per side; then the ones still empty are
// deleted. Everything outside this file sees only non-empty levels: best(), level(), forEachLevel(),
// nextLevel() and levelCount skip parked ones.

import btreeModule from 'sorted-btree';
import { assert } from './units.js';
import type { Order } from './order.js';

// sorted-btree ships CommonJS with `exports.default`: under Node's ESM the default import is the module
// object, under a CommonJS transpile it is the class itself.
const BTree = (btreeModule.default ?? btreeModule) as typeof btreeModule.default;
type BTreeOf<K, V> = import('sorted-btree').default<K, V>;

export class Level {
  totalLots = 0;
  count = 0;
  head: Order | null = null;
  tail: Order | null = null;
  constructor(readonly priceTicks: number) {}
}

/** Parked levels per side before the ones still empty are deleted: bounds the memory and the skips of best(). */
const PARKED_MAX = 128;

const ascending = (a: number, b: number): number => a - b;
const descending = (a: number, b: number): number => b - a;

export class BookSide {
  private readonly tree: BTreeOf<number, Level>;
  private readonly byPrice = new Map<number, Level>();
  /** Cached best non-empty level; null when the side is empty. */
  private bestLevel: Level | null = null;
  /** Levels parked since the last purge (some may have been reused since, or appear twice). */
  private parked: Level[] = [];
  private levelsLive = 0;
  private readonly scratchPair: [number, Level] = [0, new Level(0)];
  orderCount = 0;

  /**
   * `bestIsLowest`: asks and buy stops rank the lowest price first; bids and sell stops the highest.
   * `byStopPrice`: a stop side, whose orders queue at their stop price rather than their limit price.
   */
  constructor(
    readonly bestIsLowest: boolean,
    readonly byStopPrice = false,
  ) {
    this.tree = new BTree<number, Level>(undefined, bestIsLowest ? ascending : descending);
  }

  best(): Level | null {
    return this.bestLevel;
  }

  level(priceTicks: number): Level | undefined {
    const level = this.byPrice.get(priceTicks);
    return level !== undefined && level.count > 0 ? level : undefined;
  }

  get levelCount(): number {
    return this.levelsLive;
  }

  /** True when `a` ranks before `b` on this side. */
  isBetter(a: number, b: number): boolean {
    return this.bestIsLowest ? a < b : a > b;
  }

  /** The level the order is queued on (it must be on this side). */
  levelOf(order: Order): Level {
    assert(order.onLevel, 'levelOf: the order is on a level');
    const level = this.byPrice.get(this.byStopPrice ? order.stopPriceTicks : order.priceTicks);
    assert(level !== undefined && level.count > 0, 'levelOf: the order is on this side');
    return level;
  }

  append(order: Order, keyTicks: number): void {
    assert(keyTicks === (this.byStopPrice ? order.stopPriceTicks : order.priceTicks), 'an order queues at its key');
    let level = this.byPrice.get(keyTicks);
    if (level === undefined) {
      level = new Level(keyTicks);
      this.byPrice.set(keyTicks, level);
      this.tree.set(keyTicks, level);
    }
    if (level.count === 0) {
      this.levelsLive++;
      if (this.bestLevel === null || this.isBetter(keyTicks, this.bestLevel.priceTicks)) this.bestLevel = level;
    }
    order.onLevel = true;
    order.prev = level.tail;
    order.next = null;
    if (level.tail === null) level.head = order;
    else level.tail.next = order;
    level.tail = order;
    level.count++;
    level.totalLots += order.remainingLots;
    this.orderCount++;
  }

  /** Unlinks the order from its level (found by its price unless the caller holds it); parks the level when it empties. */
  remove(order: Order, level: Level = this.levelOf(order)): void {
    if (order.prev === null) level.head = order.next;
    else order.prev.next = order.next;
    if (order.next === null) level.tail = order.prev;
    else order.next.prev = order.prev;
    level.count--;
    level.totalLots -= order.remainingLots;
    order.onLevel = false;
    order.prev = null;
    order.next = null;
    this.orderCount--;
    if (level.count === 0) this.park(level);
  }

  private park(level: Level): void {
    assert(level.totalLots === 0, 'an empty level holds no quantity');
    this.levelsLive--;
    this.parked.push(level);
    if (this.bestLevel === level) this.bestLevel = this.nextLevel(level.priceTicks) ?? null;
    if (this.parked.length >= PARKED_MAX) this.purgeParked();
  }

  /** Deletes the parked levels still empty (a reused one is live again; a deleted one may be listed twice). */
  private purgeParked(): void {
    for (const level of this.parked) {
      if (level.count !== 0 || this.byPrice.get(level.priceTicks) !== level) continue;
      this.byPrice.delete(level.priceTicks);
      this.tree.delete(level.priceTicks);
    }
    this.parked.length = 0;
  }

  /** Non-empty levels from best to worst; stop when the callback returns false. */
  forEachLevel(visit: (level: Level) => boolean | void): void {
    this.tree.forEachPair((_k: number, level: Level) => {
      if (level.count > 0 && visit(level) === false) return { break: true };
      return undefined;
    });
  }

  /** The next non-empty level after `priceTicks` in ranking order, if any. */
  nextLevel(priceTicks: number): Level | undefined {
    let pair = this.tree.nextHigherPair(priceTicks, this.scratchPair);
    while (pair !== undefined && pair[1].count === 0) pair = this.tree.nextHigherPair(pair[0], this.scratchPair);
    return pair === undefined ? undefined : pair[1];
  }
}
