// The double-entry ledger's pure core: accounts, their balances, and transfers. A transfer debits one account
// and credits another by the same amount in the same asset, so every posting balances by construction.
//
// Accounts are (kind, user, asset). User accounts are what the exchange owes a user: available, held (by open
// orders) and pending (withdrawals on their way out). System accounts belong to user 0: fee revenue, and
// custody, what the exchange holds on chain. Liabilities and revenue are credit-normal (a credit raises them);
// custody is debit-normal. Per asset, custody = the sum of every other account, always.

import type { EntryRow, LedgerBalanceRow } from './rows.js';

export const KIND_AVAILABLE = 1;
export const KIND_HELD = 2;
export const KIND_PENDING = 3;
export const KIND_FEES = 4;
export const KIND_CUSTODY = 5;
export const SYSTEM_USER = 0;
export const KIND_NAMES = ['', 'available', 'held', 'pending', 'fees', 'custody'] as const;

export type EntryReason =
  'deposit' | 'hold' | 'release' | 'trade' | 'fee' | 'withdrawalRequest' | 'withdrawalComplete' | 'withdrawalFail';

const isDebitNormal = (kind: number): boolean => kind === KIND_CUSTODY;

/** Thrown by the book when a transfer would overdraw an account; the projector names the event. */
export class OverdraftError extends Error {}

export class LedgerBook {
  /** Balance per account on its normal side, keyed by accountKey(). */
  private readonly balances = new Map<string, bigint>();
  /** Accounts changed since the last takeTouched(), with their balance then. */
  private touched = new Map<string, LedgerBalanceRow>();
  entries: EntryRow[] = [];

  static accountKey(kind: number, userId: number, assetId: number): string {
    return `${userId}:${assetId}:${kind}`;
  }

  /** Sets a balance as loaded from the database (start-up only). */
  load(kind: number, userId: number, assetId: number, balance: bigint): void {
    this.balances.set(LedgerBook.accountKey(kind, userId, assetId), balance);
  }

  balance(kind: number, userId: number, assetId: number): bigint {
    return this.balances.get(LedgerBook.accountKey(kind, userId, assetId)) ?? 0n;
  }

  /**
   * Moves `amount` from `debit` to `credit` (in the ledger's sense) as entry (seq, n). A zero amount moves
   * nothing and writes nothing. Throws OverdraftError, before changing anything, if an account would go negative.
   */
  transfer(t: {
    seq: number;
    n: number;
    assetId: number;
    debitKind: number;
    debitUser: number;
    creditKind: number;
    creditUser: number;
    amount: bigint;
    reason: EntryReason;
    refId: string;
    postedMs: number;
  }): boolean {
    if (t.amount === 0n) return false;
    if (t.amount < 0n) throw new OverdraftError(`negative transfer ${t.amount} (${t.reason})`);
    const debitKey = LedgerBook.accountKey(t.debitKind, t.debitUser, t.assetId);
    const creditKey = LedgerBook.accountKey(t.creditKind, t.creditUser, t.assetId);
    const debitAfter = (this.balances.get(debitKey) ?? 0n) + (isDebitNormal(t.debitKind) ? t.amount : -t.amount);
    const creditAfter = (this.balances.get(creditKey) ?? 0n) + (isDebitNormal(t.creditKind) ? -t.amount : t.amount);
    if (debitAfter < 0n)
      throw new OverdraftError(
        `${KIND_NAMES[t.debitKind]} of user ${t.debitUser} asset ${t.assetId} would be ${debitAfter} after a ${t.reason} of ${t.amount}`,
      );
    if (creditAfter < 0n)
      throw new OverdraftError(
        `${KIND_NAMES[t.creditKind]} of user ${t.creditUser} asset ${t.assetId} would be ${creditAfter} after a ${t.reason} of ${t.amount}`,
      );
    this.set(debitKey, t.debitKind, t.debitUser, t.assetId, debitAfter, t.seq);
    this.set(creditKey, t.creditKind, t.creditUser, t.assetId, creditAfter, t.seq);
    this.entries.push(t); // the caller builds a fresh object for every transfer
    return true;
  }

  private set(key: string, kind: number, userId: number, assetId: number, balance: bigint, seq: number): void {
    this.balances.set(key, balance);
    const row = this.touched.get(key);
    if (row === undefined) this.touched.set(key, { kind, userId, assetId, balance, updatedSeq: seq });
    else {
      row.balance = balance;
      row.updatedSeq = seq;
    }
  }

  /** The entries and changed balances since the last call; starts the next batch. */
  takeBatch(): { entries: EntryRow[]; balances: LedgerBalanceRow[] } {
    const out = { entries: this.entries, balances: [...this.touched.values()] };
    this.entries = [];
    this.touched = new Map();
    return out;
  }
}
