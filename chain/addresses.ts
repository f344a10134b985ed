// Deposit address slots: each user gets one BIP-44 index, allocated once (concurrent callers for the same user get
// the same slot) and without gaps, so a recovery from the mnemonic needs to scan only indices 0..count-1.

import type { Sql } from 'postgres';
import type { DepositKeys } from './hd.js';
import { DEPOSIT_INDEX_MAX } from './hd.js';
import { assert } from './errors.js';

// Serialises allocations (max + 1) across processes; any constant distinct from other advisory locks.
const ALLOC_LOCK_KEY = 0x63686164;

export interface DepositAddress {
  readonly userId: number;
  readonly index: number;
  readonly address: string;
}

export async function depositAddressFor(sql: Sql, keys: DepositKeys, userId: number): Promise<DepositAddress> {
  // The engine's user ids are positive (it rejects a deposit to user 0, which would strand the tokens).
  assert(Number.isSafeInteger(userId) && userId >= 1, 'userId is a positive safe integer');
  const existing = await sql<
    { addr_index: number; address: string }[]
  >`SELECT addr_index, address FROM chain_deposit_addresses WHERE user_id = ${userId}`;
  if (existing.length === 1) return checked(keys, userId, existing[0]);
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${ALLOC_LOCK_KEY})`;
    const again = await tx<
      { addr_index: number; address: string }[]
    >`SELECT addr_index, address FROM chain_deposit_addresses WHERE user_id = ${userId}`;
    if (again.length === 1) return checked(keys, userId, again[0]);
    const [{ next }] = await tx<
      { next: number }[]
    >`SELECT COALESCE(MAX(addr_index) + 1, 0)::int AS next FROM chain_deposit_addresses`;
    assert(next <= DEPOSIT_INDEX_MAX, 'deposit index space not exhausted');
    const address = keys.depositAddress(next);
    await tx`INSERT INTO chain_deposit_addresses (user_id, addr_index, address) VALUES (${userId}, ${next}, ${address})`;
    return { userId, index: next, address };
  });
}

// Read back from the database, the address must still be what the key gives: a mismatch means another mnemonic
// wrote these rows, and crediting or sweeping with it would be wrong.
function checked(keys: DepositKeys, userId: number, row: { addr_index: number; address: string }): DepositAddress {
  assert(
    keys.depositAddress(row.addr_index) === row.address,
    `stored deposit address of user ${userId} matches the keystore`,
  );
  return { userId, index: row.addr_index, address: row.address };
}

/** All allocated slots, keyed by lower-case address (for log matching). */
export async function loadDepositAddresses(sql: Sql): Promise<Map<string, DepositAddress>> {
  const rows = await sql<
    { user_id: string; addr_index: number; address: string }[]
  >`SELECT user_id, addr_index, address FROM chain_deposit_addresses`;
  return new Map(
    rows.map((r) => [r.address.toLowerCase(), { userId: Number(r.user_id), index: r.addr_index, address: r.address }]),
  );
}
