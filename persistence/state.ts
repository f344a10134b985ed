// Start-up: the projector's state as the database holds it at the stored position (open orders with their
// holds, pending withdrawals, markets, users, ledger balances), and the schema. Everything read here was written
// by the same transactions that moved the position, so state and position always agree.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from 'postgres';
import { migrate } from '../db/migrate.js';
import { Projector } from './projector.js';
import type { OrderRow, WithdrawalRow } from './rows.js';

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
export const COMPONENT = 'persistence';

export function migratePersistence(sql: Sql): Promise<number[]> {
  return migrate(sql, { component: COMPONENT, dir: MIGRATIONS_DIR });
}

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());
const big = (x: string): bigint => BigInt(x);
const num = (x: string | number): number => Number(x);

export async function loadProjector(sql: Sql): Promise<Projector> {
  const p = new Projector();
  const [pos] = await sql<
    { last_seq: string; source_offset: string; commands_applied: string }[]
  >`SELECT last_seq, source_offset, commands_applied FROM persistence_position WHERE id = 1`;
  if (pos === undefined) throw new Error('persistence_position has no row: the schema is not migrated');
  p.position = {
    lastSeq: num(pos.last_seq),
    sourceOffset: num(pos.source_offset),
    commandsApplied: num(pos.commands_applied),
  };
  for (const a of await sql<
    { asset_id: number; symbol: string; decimals: number; created_seq: string; created_at: Date }[]
  >`SELECT * FROM assets`) {
    p.assets.set(a.asset_id, {
      assetId: a.asset_id,
      symbol: a.symbol,
      decimals: a.decimals,
      createdSeq: num(a.created_seq),
      createdMs: a.created_at.getTime(),
    });
  }
  for (const m of await sql`SELECT * FROM markets`) {
    const row = {
      marketId: m.market_id,
      symbol: m.symbol,
      baseAssetId: m.base_asset_id,
      quoteAssetId: m.quote_asset_id,
      tickSize: big(m.tick_size),
      lotSize: big(m.lot_size),
      minNotional: big(m.min_notional),
      makerFeeBps: m.maker_fee_bps,
      takerFeeBps: m.taker_fee_bps,
      createdSeq: num(m.created_seq),
      createdMs: m.created_at.getTime(),
    };
    p.markets.set(row.marketId, {
      row,
      baseAssetDecimals: (p.assets.get(row.baseAssetId) as { decimals: number }).decimals,
    });
  }
  await sql`SELECT user_id FROM users`.cursor(10_000, (rows) => {
    for (const r of rows) p.users.add(num(r.user_id));
  });
  await sql`SELECT * FROM orders WHERE status IN ('pendingTrigger', 'new', 'partiallyFilled')`.cursor(
    10_000,
    (rows) => {
      for (const r of rows) p.openOrders.set(num(r.order_id), orderFromDb(r));
    },
  );
  for (const r of await sql`SELECT * FROM withdrawals WHERE status = 'pending'`)
    p.pendingWithdrawals.set(r.withdrawal_id, withdrawalFromDb(r));
  await sql`SELECT kind, user_id, asset_id, balance FROM ledger_balances`.cursor(10_000, (rows) => {
    for (const r of rows) p.ledger.load(r.kind, num(r.user_id), r.asset_id, big(r.balance));
  });
  return p;
}

function orderFromDb(r: any): OrderRow {
  return {
    orderId: num(r.order_id),
    userId: num(r.user_id),
    marketId: r.market_id,
    clientOrderId: r.client_order_id,
    side: r.side,
    orderType: r.order_type,
    timeInForce: r.time_in_force,
    postOnly: r.post_only,
    stp: r.stp,
    status: r.status,
    closeReason: r.close_reason,
    priceTicks: num(r.price_ticks),
    price: big(r.price),
    stopPriceTicks: num(r.stop_price_ticks),
    stopPrice: big(r.stop_price),
    originalQtyLots: num(r.original_qty_lots),
    qtyLots: num(r.qty_lots),
    filledLots: num(r.filled_lots),
    remainingLots: num(r.remaining_lots),
    originalQuantity: big(r.original_quantity),
    filledQuantity: big(r.filled_quantity),
    remainingQuantity: big(r.remaining_quantity),
    quoteQuantity: big(r.quote_quantity),
    filledQuote: big(r.filled_quote),
    feesPaid: big(r.fees_paid),
    avgFillPrice: r.avg_fill_price,
    holdAssetId: r.hold_asset_id,
    held: big(r.held),
    tradesCount: r.trades_count,
    createdSeq: num(r.created_seq),
    createdMs: r.created_at.getTime(),
    updatedSeq: num(r.updated_seq),
    updatedMs: r.updated_at.getTime(),
    triggeredMs: ms(r.triggered_at),
    closedMs: ms(r.closed_at),
  };
}

function withdrawalFromDb(r: any): WithdrawalRow {
  return {
    withdrawalId: r.withdrawal_id,
    userId: num(r.user_id),
    assetId: r.asset_id,
    amount: big(r.amount),
    destination: r.destination,
    status: r.status,
    txHash: r.tx_hash,
    failReason: r.fail_reason,
    requestedSeq: num(r.requested_seq),
    requestedMs: r.requested_at.getTime(),
    finishedSeq: r.finished_seq === null ? null : num(r.finished_seq),
    finishedMs: ms(r.finished_at),
  };
}
