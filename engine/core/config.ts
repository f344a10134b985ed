// Every collection in the engine has a named maximum; a full one rejects with a CAPACITY_* code.

export interface EngineLimits {
  readonly assetsMax: number;
  readonly marketsMax: number;
  readonly usersMax: number;
  readonly openOrdersPerUserMax: number;
  /** All resting limit orders across every book (bounds memory). */
  readonly openOrdersMax: number;
  readonly stopOrdersPerUserMax: number;
  readonly stopOrdersMax: number;
  /** Client order ids remembered per user within the window. */
  readonly clientOrderIdsPerUserMax: number;
  /** How long (command time) a client order id is remembered. */
  readonly clientOrderIdWindowMs: number;
  readonly depositIdsMax: number;
  readonly depositIdWindowMs: number;
  readonly pendingWithdrawalsMax: number;
  /**
   * Command ids remembered for deduplication. Unlike the other windows this one never refuses: when full it
   * forgets its oldest id, since refusing would stop every producer. A repeat is caught while its id is among
   * the last commandIdsMax ids and younger than commandIdWindowMs.
   */
  readonly commandIdsMax: number;
  readonly commandIdWindowMs: number;
}

export const DEFAULT_LIMITS: EngineLimits = {
  assetsMax: 1024,
  marketsMax: 1024,
  usersMax: 10_000_000,
  openOrdersPerUserMax: 1000,
  openOrdersMax: 4_000_000,
  stopOrdersPerUserMax: 100,
  stopOrdersMax: 1_000_000,
  clientOrderIdsPerUserMax: 10_000,
  clientOrderIdWindowMs: 24 * 3600 * 1000,
  depositIdsMax: 1_000_000,
  depositIdWindowMs: 30 * 24 * 3600 * 1000,
  pendingWithdrawalsMax: 100_000,
  // About 29 MB of entries and table (command-ids.ts, allocated up front, resident as they fill) plus the ids'
  // bytes; at 10,000 commands/s it covers the last 100 s, at the window's hour far less load.
  commandIdsMax: 1_000_000,
  commandIdWindowMs: 3600 * 1000,
};

/** The largest commandIdsMax: the command-id memory addresses its id bytes (at most 128 an id) with 32-bit
 * offsets, and allocates its entries and table for commandIdsMax up front. */
export const COMMAND_IDS_MAX_LIMIT = 1 << 24;

export function checkLimits(limits: EngineLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new Error(`engine limit ${name} must be a positive safe integer, got ${value}`);
  }
  if (limits.commandIdsMax > COMMAND_IDS_MAX_LIMIT)
    throw new Error(`engine limit commandIdsMax must be at most ${COMMAND_IDS_MAX_LIMIT}, got ${limits.commandIdsMax}`);
}
