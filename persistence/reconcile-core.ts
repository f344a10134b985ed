// Reconciliation: PostgreSQL's balances (the engine's balanceChanged figures as stored), the ledger (balances
// recomputed from every entry, and the maintained ledger_balances copy) and the engine's own state at the same
// event seq must agree, per user and asset, and per asset for fees and custody. Pure comparison over reads.

import type { Sql } from 'postgres';
import type { Engine } from '../engine/core/index.js';
import { KIND_AVAILABLE, KIND_CUSTODY, KIND_FEES, KIND_HELD, KIND_NAMES, KIND_PENDING, SYSTEM_USER } from './ledger.js';

export interface Difference {
  readonly userId: number;
  readonly assetId: number;
  readonly account: string;
  readonly postgres: string | null;
  readonly ledgerEntries: string | null;
  readonly ledgerBalances: string | null;
  readonly engine: string | null;
}

export interface ReconcileReport {
  readonly lastSeq: number;
  readonly engineSeq: number;
  readonly accountsChecked: number;
  readonly differences: Difference[];
}

type Figures = Map<string, bigint>;
const key = (kind: number, userId: number, assetId: number): string => `${kind}:${userId}:${assetId}`;

/** All four reads in one snapshot: a running consumer commits between them otherwise, which would show as differences. */
function postgresFigures(
  sql: Sql,
): Promise<{ balances: Figures; entries: Figures; maintained: Figures; lastSeq: number }> {
  return sql.begin('isolation level repeatable read read only', (tx) => readFigures(tx as unknown as Sql));
}

async function readFigures(
  sql: Sql,
): Promise<{ balances: Figures; entries: Figures; maintained: Figures; lastSeq: number }> {
  const balances: Figures = new Map();
  for (const r of await sql`SELECT user_id, asset_id, available, held, pending FROM balances`) {
    balances.set(key(KIND_AVAILABLE, Number(r.user_id), r.asset_id), BigInt(r.available));
    balances.set(key(KIND_HELD, Number(r.user_id), r.asset_id), BigInt(r.held));
    balances.set(key(KIND_PENDING, Number(r.user_id), r.asset_id), BigInt(r.pending));
  }
  const entries: Figures = new Map();
  for (const r of await sql`SELECT kind, user_id, asset_id, balance FROM ledger_entry_sums`)
    entries.set(key(r.kind, Number(r.user_id), r.asset_id), BigInt(r.balance));
  const maintained: Figures = new Map();
  for (const r of await sql`SELECT kind, user_id, asset_id, balance FROM ledger_balances`)
    maintained.set(key(r.kind, Number(r.user_id), r.asset_id), BigInt(r.balance));
  const [pos] = await sql`SELECT last_seq FROM persistence_position WHERE id = 1`;
  return { balances, entries, maintained, lastSeq: Number(pos.last_seq) };
}

function engineFigures(engine: Engine): Figures {
  const out: Figures = new Map();
  for (const a of engine.accounts.values()) {
    for (let asset = 0; asset < a.available.length; asset++) {
      if (engine.assets[asset] === undefined) continue;
      out.set(key(KIND_AVAILABLE, a.userId, asset), a.available[asset]);
      out.set(key(KIND_HELD, a.userId, asset), a.held[asset]);
      out.set(key(KIND_PENDING, a.userId, asset), a.pending[asset]);
    }
  }
  for (let asset = 0; asset < engine.feeBalances.length; asset++) {
    if (engine.assets[asset] === undefined) continue;
    out.set(key(KIND_FEES, SYSTEM_USER, asset), engine.feeBalances[asset]);
    out.set(key(KIND_CUSTODY, SYSTEM_USER, asset), engine.depositedTotal[asset] - engine.withdrawnTotal[asset]);
  }
  return out;
}

/**
 * Compares every account any of the sources knows; an account missing from a source counts as zero there
 * (user accounts have no `balances` row before their first movement). Postgres balances exist only for user accounts.
 */
export async function reconcile(sql: Sql, engine: Engine): Promise<ReconcileReport> {
  const pg = await postgresFigures(sql);
  const eng = engineFigures(engine);
  const keys = new Set([...pg.balances.keys(), ...pg.entries.keys(), ...pg.maintained.keys(), ...eng.keys()]);
  const differences: Difference[] = [];
  for (const k of keys) {
    const [kind, userId, assetId] = k.split(':').map(Number);
    const isUser = kind <= KIND_PENDING;
    const values = [
      isUser ? (pg.balances.get(k) ?? 0n) : null,
      pg.entries.get(k) ?? 0n,
      pg.maintained.get(k) ?? 0n,
      eng.get(k) ?? 0n,
    ];
    const present = values.filter((v): v is bigint => v !== null);
    if (present.every((v) => v === present[0])) continue;
    const s = (v: bigint | null): string | null => (v === null ? null : v.toString());
    differences.push({
      userId,
      assetId,
      account: KIND_NAMES[kind],
      postgres: s(values[0]),
      ledgerEntries: s(values[1]),
      ledgerBalances: s(values[2]),
      engine: s(values[3]),
    });
  }
  differences.sort((a, b) => a.userId - b.userId || a.assetId - b.assetId || a.account.localeCompare(b.account));
  return { lastSeq: pg.lastSeq, engineSeq: engine.eventSeq, accountsChecked: keys.size, differences };
}
