// The engine's open orders by order id: an intrusive chained hash table. Order ids are sequential, so the low
// bits of an id spread orders evenly over the buckets without hashing, and each order carries its own chain
// link (`hashNext`). A Map<number, Order> cost about 29 bytes per order (three words per entry plus its bucket
// array, in large-object space); this costs 16 (one field and one bucket per order at full load).
//
// The buckets double when the table holds more orders than buckets and never shrink: the open-order count is
// bounded by the engine's limits (openOrdersMax + stopOrdersMax), so the array is too.

import type { Order } from './order.js';
import { assert } from './units.js';

const BUCKETS_MIN = 1024;

export class OrderTable {
  private buckets: (Order | null)[] = new Array<Order | null>(BUCKETS_MIN).fill(null);
  private mask = BUCKETS_MIN - 1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Orders the table holds before its buckets next double (and every order is relinked). */
  get capacity(): number {
    return this.buckets.length;
  }

  get(orderId: number): Order | undefined {
    for (let o = this.buckets[orderId & this.mask]; o !== null; o = o.hashNext) if (o.orderId === orderId) return o;
    return undefined;
  }

  /** Adds an order whose id is not in the table (the engine registers an order once while it is open). */
  add(order: Order): void {
    assert(order.hashNext === null, 'an order joins the table unlinked');
    if (this.count >= this.buckets.length) this.grow();
    const i = order.orderId & this.mask;
    order.hashNext = this.buckets[i];
    this.buckets[i] = order;
    this.count++;
  }

  /** Removes the order; returns false when it was not in the table. */
  delete(order: Order): boolean {
    const i = order.orderId & this.mask;
    let o = this.buckets[i];
    if (o === order) {
      this.buckets[i] = order.hashNext;
    } else {
      while (o !== null && o.hashNext !== order) o = o.hashNext;
      if (o === null) return false;
      o.hashNext = order.hashNext;
    }
    order.hashNext = null;
    this.count--;
    return true;
  }

  /**
   * Sizes the buckets for `ordersMax` orders at once (a restore knows its count): growing by doubling relinks
   * every order at each step, 0.45 s of CPU of a million-order restore. Never shrinks.
   */
  reserve(ordersMax: number): void {
    assert(Number.isSafeInteger(ordersMax) && ordersMax >= 0, 'a reservation is a count of orders');
    let size = this.buckets.length;
    while (size < ordersMax) size *= 2;
    if (size > this.buckets.length) this.resize(size);
  }

  /** The open orders in ascending order id (not on a hot path: invariant checks, tests, tools). */
  values(): Order[] {
    const all: Order[] = [];
    for (const head of this.buckets) for (let o = head; o !== null; o = o.hashNext) all.push(o);
    assert(all.length === this.count, 'the table holds as many orders as it counts');
    return all.sort((a, b) => a.orderId - b.orderId);
  }

  keys(): number[] {
    return this.values().map((o) => o.orderId);
  }

  private grow(): void {
    this.resize(this.buckets.length * 2);
  }

  private resize(bucketCount: number): void {
    const old = this.buckets;
    this.buckets = new Array<Order | null>(bucketCount).fill(null);
    this.mask = this.buckets.length - 1;
    for (const head of old) {
      let o = head;
      while (o !== null) {
        const next = o.hashNext;
        const i = o.orderId & this.mask;
        o.hashNext = this.buckets[i];
        this.buckets[i] = o;
        o = next;
      }
    }
  }
}
