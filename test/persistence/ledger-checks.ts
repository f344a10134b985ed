// SQL checks of the ledger that tests run after every batch: each one returns the rows that violate it.

import type { Sql } from 'postgres';

export interface LedgerViolations {
  /** Per asset, custody must equal every other account together (debits = credits over the whole ledger). */
  unbalancedAssets: unknown[];
  /** The maintained balances must equal the sums of the entries. */
  balancesVsEntries: unknown[];
  /** The engine's figures (balances) must equal the ledger's user accounts. */
  balancesVsLedger: unknown[];
}

export async function ledgerViolations(sql: Sql): Promise<LedgerViolations> {
  const unbalancedAssets = await sql`
    SELECT asset_id, sum(CASE WHEN kind = 5 THEN balance ELSE -balance END)::text AS imbalance
    FROM ledger_balances GROUP BY asset_id HAVING sum(CASE WHEN kind = 5 THEN balance ELSE -balance END) <> 0`;
  const balancesVsEntries = await sql`
    SELECT coalesce(b.kind, s.kind) AS kind, coalesce(b.user_id, s.user_id) AS user_id, coalesce(b.asset_id, s.asset_id) AS asset_id,
           b.balance::text AS maintained, s.balance::text AS summed
    FROM ledger_balances b FULL JOIN ledger_entry_sums s USING (kind, user_id, asset_id)
    WHERE b.balance IS DISTINCT FROM s.balance`;
  const balancesVsLedger = await sql`
    SELECT b.user_id, b.asset_id FROM balances b
    LEFT JOIN ledger_balances a ON a.kind = 1 AND a.user_id = b.user_id AND a.asset_id = b.asset_id
    LEFT JOIN ledger_balances h ON h.kind = 2 AND h.user_id = b.user_id AND h.asset_id = b.asset_id
    LEFT JOIN ledger_balances p ON p.kind = 3 AND p.user_id = b.user_id AND p.asset_id = b.asset_id
    WHERE b.available <> coalesce(a.balance, 0) OR b.held <> coalesce(h.balance, 0) OR b.pending <> coalesce(p.balance, 0)`;
  return {
    unbalancedAssets: [...unbalancedAssets],
    balancesVsEntries: [...balancesVsEntries],
    balancesVsLedger: [...balancesVsLedger],
  };
}
