// The imperative shell's write side: one batch of rows in one transaction, together with the new position.
// Appends go in by COPY; rows that change (orders, balances, withdrawals) are COPYed into per-session temporary
// staging tables and merged with one statement each, so a batch costs a handful of round trips whatever its size.

import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Sql, TransactionSql } from 'postgres';
import {
  ASSETS,
  BALANCES,
  DEPOSITS,
  ENTRIES,
  LEDGER_BALANCES,
  MARKETS,
  ORDERS,
  REJECTIONS,
  TRADES,
  USERS,
  WITHDRAWALS,
} from './copy-format.js';
import type { CopyTable } from './copy-format.js';
import type { RowSets } from './rows.js';

/** Another writer moved the position (two consumers on one database), or the database is not where we think. */
export class PositionConflictError extends Error {
  override readonly name = 'PositionConflictError';
}

const COPY_CHUNK_CHARS = 1 << 16;

// Temporary tables live per connection and are emptied at every commit; created on the connection's first batch.
const STAGING = `
CREATE TEMP TABLE IF NOT EXISTS stage_orders (LIKE orders) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_balances (LIKE balances) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_ledger_balances (LIKE ledger_balances) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_withdrawals (LIKE withdrawals) ON COMMIT DELETE ROWS;`;

async function copyRows<R>(tx: TransactionSql, t: CopyTable<R>, rows: readonly R[], target = t.table): Promise<void> {
  if (rows.length === 0) return;
  const stream = await tx.unsafe(`COPY ${target} (${t.columns.join(', ')}) FROM STDIN`).writable();
  let chunk = '';
  for (const row of rows) {
    chunk += t.line(row);
    if (chunk.length >= COPY_CHUNK_CHARS) {
      if (!stream.write(chunk)) await once(stream, 'drain');
      chunk = '';
    }
  }
  stream.end(chunk);
  await finished(stream);
}

export class BatchWriter {
  constructor(private readonly sql: Sql) {}

  /** Writes the batch and moves the position from `rows.previous` to `rows.position`, atomically. */
  async write(rows: RowSets): Promise<void> {
    await this.sql.begin(async (tx) => {
      // First, so two writers on one database serialise on the row and the second one fails here.
      const moved = await tx`
        UPDATE persistence_position
        SET last_seq = ${rows.position.lastSeq}, source_offset = ${rows.position.sourceOffset},
            commands_applied = ${rows.position.commandsApplied}, updated_at = now()
        WHERE id = 1 AND last_seq = ${rows.previous.lastSeq}`;
      if (moved.count !== 1)
        throw new PositionConflictError(
          `the stored position is not at seq ${rows.previous.lastSeq}: another consumer writes to this database`,
        );
      await tx.unsafe(STAGING);
      await this.appends(tx, rows);
      await this.merges(tx, rows);
    });
  }

  private async appends(tx: TransactionSql, rows: RowSets): Promise<void> {
    // Parents before children (markets reference assets).
    await copyRows(tx, ASSETS, rows.assets);
    await copyRows(tx, MARKETS, rows.markets);
    await copyRows(tx, USERS, rows.users);
    await copyRows(tx, ORDERS, rows.newOrders);
    await copyRows(tx, REJECTIONS, rows.rejections);
    await copyRows(tx, TRADES, rows.trades);
    await copyRows(tx, DEPOSITS, rows.deposits);
    await copyRows(tx, ENTRIES, rows.entries);
  }

  private async merges(tx: TransactionSql, rows: RowSets): Promise<void> {
    if (rows.changedOrders.length > 0) {
      await copyRows(tx, ORDERS, rows.changedOrders, 'stage_orders');
      const updated = await tx`
        UPDATE orders o SET
          status = s.status, close_reason = s.close_reason, price_ticks = s.price_ticks, price = s.price, qty_lots = s.qty_lots,
          filled_lots = s.filled_lots, remaining_lots = s.remaining_lots, filled_quantity = s.filled_quantity,
          remaining_quantity = s.remaining_quantity, filled_quote = s.filled_quote, fees_paid = s.fees_paid,
          avg_fill_price = s.avg_fill_price, held = s.held, trades_count = s.trades_count, updated_seq = s.updated_seq,
          updated_at = s.updated_at, triggered_at = s.triggered_at, closed_at = s.closed_at
        FROM stage_orders s WHERE o.order_id = s.order_id`;
      // Paired with the projector: an order it believes stored must be there.
      if (updated.count !== rows.changedOrders.length)
        throw new Error(
          `updated ${updated.count} of ${rows.changedOrders.length} orders: the projector's state is not the database's`,
        );
    }
    if (rows.balances.length > 0) {
      await copyRows(tx, BALANCES, rows.balances, 'stage_balances');
      await tx`
        INSERT INTO balances SELECT * FROM stage_balances
        ON CONFLICT (user_id, asset_id) DO UPDATE SET available = EXCLUDED.available, held = EXCLUDED.held,
          pending = EXCLUDED.pending, updated_seq = EXCLUDED.updated_seq, updated_at = EXCLUDED.updated_at`;
    }
    if (rows.ledgerBalances.length > 0) {
      await copyRows(tx, LEDGER_BALANCES, rows.ledgerBalances, 'stage_ledger_balances');
      await tx`
        INSERT INTO ledger_balances SELECT * FROM stage_ledger_balances
        ON CONFLICT (user_id, asset_id, kind) DO UPDATE SET balance = EXCLUDED.balance, updated_seq = EXCLUDED.updated_seq`;
    }
    // Operator actions are rare: one statement each. Paired with the projector, which saw the row created.
    for (const r of rows.marketStatuses) {
      const updated =
        await tx`UPDATE markets SET status = ${r.status}, status_seq = ${r.seq} WHERE market_id = ${r.marketId}`;
      if (updated.count !== 1)
        throw new Error(`market ${r.marketId} is not stored: the projector's state is not the database's`);
    }
    for (const r of rows.userFrozen) {
      const updated =
        await tx`UPDATE users SET frozen = ${r.frozen}, frozen_seq = ${r.seq} WHERE user_id = ${r.userId}`;
      if (updated.count !== 1)
        throw new Error(`user ${r.userId} is not stored: the projector's state is not the database's`);
    }
    if (rows.withdrawals.length > 0) {
      await copyRows(tx, WITHDRAWALS, rows.withdrawals, 'stage_withdrawals');
      await tx`
        INSERT INTO withdrawals SELECT * FROM stage_withdrawals
        ON CONFLICT (withdrawal_id) DO UPDATE SET status = EXCLUDED.status, tx_hash = EXCLUDED.tx_hash,
          fail_reason = EXCLUDED.fail_reason, finished_seq = EXCLUDED.finished_seq, finished_at = EXCLUDED.finished_at`;
    }
  }
}
