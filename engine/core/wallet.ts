// Deposits, withdrawals: available -> pending -> completed (gone) or failed (refunded).

import type { CompleteWithdrawal, Deposit, FailWithdrawal, RequestWithdrawal } from './commands.js';
import type { RejectCode } from './codes.js';
import type { Engine } from './engine.js';
import { EVENT_VERSION } from './events.js';
import type { PendingWithdrawal } from './order.js';
import { UINT256_MAX, assert, isPositiveSafeInt } from './units.js';
import { EXTERNAL_ID_MAX_LENGTH, isPrintableId } from './formats.js';

function checkMovement(e: Engine, userId: unknown, assetId: unknown, amount: unknown): RejectCode | null {
  if (!isPositiveSafeInt(userId)) return 'WALLET_USER_INVALID';
  if (typeof assetId !== 'number' || !Number.isSafeInteger(assetId) || e.assets[assetId] === undefined)
    return 'WALLET_ASSET_UNKNOWN';
  if (typeof amount !== 'bigint') return 'COMMAND_MALFORMED';
  if (amount <= 0n) return 'WALLET_AMOUNT_NOT_POSITIVE';
  if (amount > UINT256_MAX) return 'WALLET_AMOUNT_OVERFLOW';
  return null;
}

export function deposit(e: Engine, cmd: Deposit): void {
  const code = checkMovement(e, cmd.userId, cmd.assetId, cmd.amount);
  if (code !== null) return e.reject(code);
  if (!isPrintableId(cmd.depositId, EXTERNAL_ID_MAX_LENGTH)) return e.reject('DEPOSIT_ID_INVALID');
  e.depositIds.expire(e.nowMs);
  if (e.depositIds.get(cmd.depositId) !== undefined) return e.reject('DEPOSIT_DUPLICATE');
  if (!e.depositIds.hasRoom()) return e.reject('CAPACITY_DEPOSIT_IDS');
  // Every balance is part of the asset's outstanding total, so bounding the total bounds them all.
  const outstanding = e.depositedTotal[cmd.assetId] - e.withdrawnTotal[cmd.assetId];
  if (outstanding + cmd.amount > UINT256_MAX) return e.reject('RISK_BALANCE_OVERFLOW');
  const account = e.accountFor(cmd.userId);
  if (account === undefined) return e.reject('CAPACITY_USERS');

  e.depositIds.add(cmd.depositId, true, e.nowMs);
  account.available[cmd.assetId] += cmd.amount;
  e.depositedTotal[cmd.assetId] += cmd.amount;
  e.touch(account, cmd.assetId);
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'depositCredited',
    depositId: cmd.depositId,
    userId: cmd.userId,
    assetId: cmd.assetId,
    amount: cmd.amount,
  });
  e.result('accepted', null, null);
}

export function requestWithdrawal(e: Engine, cmd: RequestWithdrawal): void {
  const code = checkMovement(e, cmd.userId, cmd.assetId, cmd.amount);
  if (code !== null) return e.reject(code);
  const account = e.accounts.get(cmd.userId);
  if (account !== undefined && account.frozen) return e.reject('USER_FROZEN');
  if (!isPrintableId(cmd.withdrawalId, EXTERNAL_ID_MAX_LENGTH)) return e.reject('WITHDRAWAL_ID_INVALID');
  if (!isPrintableId(cmd.destination, EXTERNAL_ID_MAX_LENGTH)) return e.reject('WITHDRAWAL_DESTINATION_INVALID');
  if (e.withdrawals.has(cmd.withdrawalId)) return e.reject('WITHDRAWAL_ID_DUPLICATE');
  if (e.withdrawals.size >= e.limits.pendingWithdrawalsMax) return e.reject('CAPACITY_PENDING_WITHDRAWALS');
  if (account === undefined || account.available[cmd.assetId] < cmd.amount) return e.reject('RISK_INSUFFICIENT_FUNDS');

  account.available[cmd.assetId] -= cmd.amount;
  account.pending[cmd.assetId] += cmd.amount;
  e.touch(account, cmd.assetId);
  const w: PendingWithdrawal = {
    withdrawalId: cmd.withdrawalId,
    userId: cmd.userId,
    assetId: cmd.assetId,
    amount: cmd.amount,
    destination: cmd.destination,
    requestedMs: e.nowMs,
  };
  e.withdrawals.set(w.withdrawalId, w);
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'withdrawalPending',
    withdrawalId: w.withdrawalId,
    userId: w.userId,
    assetId: w.assetId,
    amount: w.amount,
    destination: w.destination,
  });
  e.result('accepted', null, null);
}

function takePending(e: Engine, withdrawalId: unknown): PendingWithdrawal | RejectCode {
  if (!isPrintableId(withdrawalId, EXTERNAL_ID_MAX_LENGTH)) return 'WITHDRAWAL_ID_INVALID';
  const w = e.withdrawals.get(withdrawalId);
  if (w === undefined) return 'WITHDRAWAL_NOT_FOUND';
  e.withdrawals.delete(withdrawalId);
  return w;
}

export function completeWithdrawal(e: Engine, cmd: CompleteWithdrawal): void {
  const w = takePending(e, cmd.withdrawalId);
  if (typeof w === 'string') return e.reject(w);
  const account = e.accounts.get(w.userId);
  assert(
    account !== undefined && account.pending[w.assetId] >= w.amount,
    'a pending withdrawal is covered by its pending balance',
  );
  account.pending[w.assetId] -= w.amount;
  e.withdrawnTotal[w.assetId] += w.amount;
  e.touch(account, w.assetId);
  const txHash = typeof cmd.txHash === 'string' ? cmd.txHash : null;
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'withdrawalCompleted',
    withdrawalId: w.withdrawalId,
    userId: w.userId,
    assetId: w.assetId,
    amount: w.amount,
    txHash,
  });
  e.result('accepted', null, null);
}

export function failWithdrawal(e: Engine, cmd: FailWithdrawal): void {
  const w = takePending(e, cmd.withdrawalId);
  if (typeof w === 'string') return e.reject(w);
  const account = e.accounts.get(w.userId);
  assert(
    account !== undefined && account.pending[w.assetId] >= w.amount,
    'a pending withdrawal is covered by its pending balance',
  );
  account.pending[w.assetId] -= w.amount;
  account.available[w.assetId] += w.amount;
  e.touch(account, w.assetId);
  const reason = typeof cmd.reason === 'string' ? cmd.reason : null;
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'withdrawalFailed',
    withdrawalId: w.withdrawalId,
    userId: w.userId,
    assetId: w.assetId,
    amount: w.amount,
    reason,
  });
  e.result('accepted', null, null);
}
