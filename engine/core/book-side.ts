// One side of a book: price levels in a B-tree (best first), a Map in front of it for O(1) level lookup,
// and each level a FIFO of orders as an intrusive doubly linked list (O(1) append and removal).
// Stop orders use the same structure keyed by stop price, in trigger order.

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

const ascending = (a: number, b: number): number => a - b;
const descending = (a: number, b: number): number => b - a;

export class BookSide {
  private readonly tree: BTreeOf<number, Level>;
  private readonly byPrice = new Map<number, Level>();
  /** Cached best level; null when the side is empty. */
  private bestLevel: Level | null = null;
  orderCount = 0;

  /** `bestIsLowest`: asks and buy stops rank the lowest price first; bids and sell stops the highest. */
  constructor(readonly bestIsLowest: boolean) {
    this.tree = new BTree<number, Level>(undefined, bestIsLowest ? ascending : descending);
  }

  best(): Level | null {
    return this.bestLevel;
  }

  level(priceTicks: number): Level | undefined {
    return this.byPrice.get(priceTicks);
  }

  get levelCount(): number {
    return this.byPrice.size;
  }

  /** True when `a` ranks before `b` on this side. */
  isBetter(a: number, b: number): boolean {
    return this.bestIsLowest ? a < b : a > b;
  }

  append(order: Order, keyTicks: number): void {
    let level = this.byPrice.get(keyTicks);
    if (level === undefined) {
      level = new Level(keyTicks);
      this.byPrice.set(keyTicks, level);
      this.tree.set(keyTicks, level);
      if (this.bestLevel === null || this.isBetter(keyTicks, this.bestLevel.priceTicks)) this.bestLevel = level;
    }
    order.level = level;
    order.prev = level.tail;
    order.next = null;
    if (level.tail === null) level.head = order;
    else level.tail.next = order;
    level.tail = order;
    level.count++;
    level.totalLots += order.remainingLots;
    this.orderCount++;
  }

  /** Unlinks the order; drops its level when it empties. */
  remove(order: Order): void {
    const level = order.level;
    assert(level !== null, 'remove: order is not on a level');
    if (order.prev === null) level.head = order.next;
    else order.prev.next = order.next;
    if (order.next === null) level.tail = order.prev;
    else order.next.prev = order.prev;
    level.count--;
    level.totalLots -= order.remainingLots;
    order.level = null;
    order.prev = null;
    order.next = null;
    this.orderCount--;
    if (level.count === 0) this.dropLevel(level);
  }

  private dropLevel(level: Level): void {
    assert(level.totalLots === 0, 'an empty level holds no quantity');
    this.byPrice.delete(level.priceTicks);
    this.tree.delete(level.priceTicks);
    if (this.bestLevel === level) {
      const key = this.tree.minKey();
      this.bestLevel = key === undefined ? null : (this.byPrice.get(key) as Level);
    }
  }

  /** Levels from best to worst; stop when the callback returns false. */
  forEachLevel(visit: (level: Level) => boolean | void): void {
    this.tree.forEachPair((_k: number, level: Level) => {
      if (visit(level) === false) return { break: true };
      return undefined;
    });
  }

  /** The next level after `priceTicks` in ranking order, if any. */
  nextLevel(priceTicks: number): Level | undefined {
    const pair = this.tree.nextHigherPair(priceTicks);
    return pair === undefined ? undefined : pair[1];
  }
}
