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

/** One account and its balance on its normal side; `touchedBatch` says whether this batch changed it already. */
interface Account {
  readonly kind: number;
  readonly userId: number;
  readonly assetId: number;
  balance: bigint;
  updatedSeq: number;
  touchedBatch: number;
}

/** Kinds are 1..5: an account's key within its user is assetId * KIND_SLOTS + kind (exact up to 2^50 assets). */
const KIND_SLOTS = 8;

export class LedgerBook {
  /**
   * Accounts by user, then by asset and kind. Numbers, not a `user:asset:kind` string: building and hashing that
   * string twice per transfer was a visible share of the projection's time (issue 12's profile).
   */
  private readonly accounts = new Map<number, Map<number, Account>>();
  /** Accounts changed in the current batch, each once. */
  private touched: Account[] = [];
  private batch = 1;
  entries: EntryRow[] = [];

  private account(kind: number, userId: number, assetId: number): Account | undefined {
    return this.accounts.get(userId)?.get(assetId * KIND_SLOTS + kind);
  }

  private open(kind: number, userId: number, assetId: number): Account {
    let byUser = this.accounts.get(userId);
    if (byUser === undefined) this.accounts.set(userId, (byUser = new Map()));
    const key = assetId * KIND_SLOTS + kind;
    let a = byUser.get(key);
    if (a === undefined) byUser.set(key, (a = { kind, userId, assetId, balance: 0n, updatedSeq: 0, touchedBatch: 0 }));
    return a;
  }

  /** Sets a balance as loaded from the database (start-up only). */
  load(kind: number, userId: number, assetId: number, balance: bigint): void {
    this.open(kind, userId, assetId).balance = balance;
  }

  balance(kind: number, userId: number, assetId: number): bigint {
    return this.account(kind, userId, assetId)?.balance ?? 0n;
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
    const debit = this.open(t.debitKind, t.debitUser, t.assetId);
    const credit = this.open(t.creditKind, t.creditUser, t.assetId);
    const debitAfter = debit.balance + (isDebitNormal(t.debitKind) ? t.amount : -t.amount);
    const creditAfter = credit.balance + (isDebitNormal(t.creditKind) ? -t.amount : t.amount);
    if (debitAfter < 0n)
      throw new OverdraftError(
        `${KIND_NAMES[t.debitKind]} of user ${t.debitUser} asset ${t.assetId} would be ${debitAfter} after a ${t.reason} of ${t.amount}`,
      );
    if (creditAfter < 0n)
      throw new OverdraftError(
        `${KIND_NAMES[t.creditKind]} of user ${t.creditUser} asset ${t.assetId} would be ${creditAfter} after a ${t.reason} of ${t.amount}`,
      );
    this.set(debit, debitAfter, t.seq);
    this.set(credit, creditAfter, t.seq);
    this.entries.push(t); // the caller builds a fresh object for every transfer
    return true;
  }

  private set(a: Account, balance: bigint, seq: number): void {
    a.balance = balance;
    a.updatedSeq = seq;
    if (a.touchedBatch === this.batch) return;
    a.touchedBatch = this.batch;
    this.touched.push(a);
  }

  /** The entries and changed balances since the last call; starts the next batch. */
  takeBatch(): { entries: EntryRow[]; balances: LedgerBalanceRow[] } {
    const balances = this.touched.map((a): LedgerBalanceRow => ({
      kind: a.kind,
      userId: a.userId,
      assetId: a.assetId,
      balance: a.balance,
      updatedSeq: a.updatedSeq,
    }));
    const out = { entries: this.entries, balances };
    this.entries = [];
    this.touched = [];
    this.batch++;
    return out;
  }
}
