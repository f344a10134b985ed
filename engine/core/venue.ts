// Venue controls: operators set what a market accepts (trading, cancel-only, halted) and freeze users.
// Both are plain state changes with an event; the order and wallet handlers consult them (marketRefusal,
// Account.frozen). Neither moves funds or touches a resting order: a halted market keeps its book exactly as it
// was, and a frozen user keeps their orders and balances.

import { MARKET_STATUSES } from './commands.js';
import type { SetMarketStatus, SetUserFrozen } from './commands.js';
import type { RejectCode } from './codes.js';
import type { Engine } from './engine.js';
import { EVENT_VERSION } from './events.js';
import type { Market } from './order.js';
import { isPositiveSafeInt } from './units.js';

/** Why the market refuses new orders and amends, or null when it trades. */
export function orderRefusal(m: Market): RejectCode | null {
  if (m.status === 'trading') return null;
  return m.status === 'halted' ? 'MARKET_HALTED' : 'MARKET_CANCEL_ONLY';
}

/** Cancels work in every status but halted. */
export function cancelRefusal(m: Market): RejectCode | null {
  return m.status === 'halted' ? 'MARKET_HALTED' : null;
}

export function setMarketStatus(e: Engine, cmd: SetMarketStatus): void {
  const m = Number.isSafeInteger(cmd.marketId) ? e.markets[cmd.marketId] : undefined;
  if (m === undefined) return e.reject('MARKET_NOT_FOUND');
  if (!(MARKET_STATUSES as readonly unknown[]).includes(cmd.status)) return e.reject('MARKET_STATUS_INVALID');
  // Idempotent: an operator's kill switch sets every market without asking which were set already.
  m.status = cmd.status;
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'marketStatusChanged',
    marketId: m.marketId,
    status: m.status,
  });
  e.result('accepted', null, null);
}

export function setUserFrozen(e: Engine, cmd: SetUserFrozen): void {
  if (!isPositiveSafeInt(cmd.userId)) return e.reject('USER_ID_INVALID');
  if (typeof cmd.frozen !== 'boolean') return e.reject('COMMAND_MALFORMED');
  // Freezing a user the engine has not seen yet opens their (empty) account, so the flag is already there when
  // their first deposit arrives; unfreezing one needs no account.
  const account = cmd.frozen ? e.accountFor(cmd.userId) : e.accounts.get(cmd.userId);
  if (cmd.frozen && account === undefined) return e.reject('CAPACITY_USERS');
  if (account !== undefined) account.frozen = cmd.frozen;
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'userFrozenChanged',
    userId: cmd.userId,
    frozen: cmd.frozen,
  });
  e.result('accepted', null, null);
}
