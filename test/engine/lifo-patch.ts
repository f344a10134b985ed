// A deliberately broken engine for the replay checker's own tests: the checker must report priority violations
// when the engine's level queue puts each new order at the head instead of the tail.

import { BookSide } from '../../engine/core/book-side.js';
import type { Order } from '../../engine/core/order.js';

/** Puts each new order at the head of its level instead of the tail, until the returned function is called. */
export function patchLifo(): () => void {
  const proto = BookSide.prototype;
  const append = proto.append;
  proto.append = function (this: BookSide, order: Order, keyTicks: number): void {
    append.call(this, order, keyTicks);
    const level = this.levelOf(order);
    if (level.head === order || order.prev === null) return;
    order.prev.next = null;
    level.tail = order.prev;
    order.prev = null;
    order.next = level.head;
    if (level.head !== null) level.head.prev = order;
    level.head = order;
  };
  return () => {
    proto.append = append;
  };
}
