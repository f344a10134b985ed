// OrderTable: the engine's open orders by id, an intrusive chained hash table (engine/core/order-table.ts).
import t from 'tap';
import { OrderTable } from '../../engine/core/order-table.js';
import { Order } from '../../engine/core/order.js';
import type { Market } from '../../engine/core/order.js';

const market = { marketId: 1, baseAssetId: 0, quoteAssetId: 1 } as unknown as Market;
const order = (orderId: number): Order =>
  new Order(orderId, 1, market, 'buy', 'limit', 'GTC', false, 'none', 100, 0, 1, 0n, 0n, null, 1_700_000_000_000);

t.test('finds, removes and lists orders across growth and shared buckets', (t) => {
  const table = new OrderTable();
  // Ids 4096 apart share a bucket until the table grows past 4096 buckets; the rest fill it past several doublings.
  const ids = [...Array.from({ length: 5000 }, (_, i) => i + 1), ...[1, 2, 3].map((k) => 1 + k * 4096 + 100_000)];
  const orders = new Map(ids.map((id) => [id, order(id)]));
  for (const o of orders.values()) table.add(o);
  t.equal(table.size, ids.length);
  for (const [id, o] of orders) t.equal(table.get(id), o, `order ${id} is found`);
  t.equal(table.get(999_999), undefined, 'an absent id is not found');

  // Remove every third order, chain heads and chain tails alike.
  const removed = ids.filter((_, i) => i % 3 === 0);
  for (const id of removed) t.ok(table.delete(orders.get(id) as Order), `order ${id} is removed`);
  t.notOk(table.delete(orders.get(removed[0]) as Order), 'removing twice reports absence');
  t.equal(table.size, ids.length - removed.length);
  for (const id of removed) t.equal(table.get(id), undefined, `order ${id} is gone`);
  const kept = ids.filter((_, i) => i % 3 !== 0);
  for (const id of kept) t.equal(table.get(id), orders.get(id), `order ${id} is still found`);
  t.same(
    table.keys(),
    [...kept].sort((a, b) => a - b),
    'keys list the open ids ascending',
  );
  t.same(
    table.values().map((o) => o.orderId),
    table.keys(),
  );

  // A removed order can join again (a triggered stop leaves the index and re-enters it).
  table.add(orders.get(removed[1]) as Order);
  t.equal(table.get(removed[1]), orders.get(removed[1]));
  t.end();
});

t.test('refuses an order that is still linked into a chain', (t) => {
  const table = new OrderTable();
  const a = order(1);
  table.add(a);
  table.add(order(1 + 1024));
  const b = table.get(1 + 1024) as Order;
  t.equal(b.hashNext, a, 'the second order of a bucket links to the first');
  t.throws(() => table.add(b), /invariant violated/);
  t.end();
});

t.test('reserve sizes the buckets at once and keeps every order found, before and after', (t) => {
  const table = new OrderTable();
  const before = Array.from({ length: 3000 }, (_, i) => order(i + 1));
  for (const o of before) table.add(o);
  // 4096 buckets for 3000 orders: ids 4096 apart share one.
  const sharing = order(1 + 4096);
  table.add(sharing);
  t.equal(sharing.hashNext, before[0], 'ids 4096 apart share a bucket before the reservation');
  table.reserve(100_000);
  t.equal(sharing.hashNext, null, 'after it, they do not: the buckets are at least 8192');
  const after = Array.from({ length: 5000 }, (_, i) => order(200_000 + i));
  for (const o of after) table.add(o);
  table.reserve(10);
  for (const o of [...before, sharing, ...after]) t.equal(table.get(o.orderId), o, `order ${o.orderId} is found`);
  t.equal(table.size, before.length + 1 + after.length);
  t.throws(() => table.reserve(-1), /invariant violated/);
  t.end();
});
