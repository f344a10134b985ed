// Transaction plumbing shared by sweeps and withdrawals: nonces allocated in PostgreSQL together with the signed
// transaction, idempotent (re-)broadcast of stored raw transactions, and fee data.

import type { JsonRpcProvider, TransactionRequest, Wallet } from 'ethers';
import { Transaction } from 'ethers';
import type { TransactionSql } from 'postgres';
import { assert } from './errors.js';

export interface Fees {
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
}

export async function currentFees(provider: JsonRpcProvider): Promise<Fees> {
  const f = await provider.getFeeData();
  // Only EIP-1559 chains are supported (mainnet, Sepolia, L2s): the fee fields are what sweeps top up against.
  assert(f.maxFeePerGas !== null && f.maxPriorityFeePerGas !== null, 'the chain supports EIP-1559 fees');
  return { maxFeePerGas: f.maxFeePerGas, maxPriorityFeePerGas: f.maxPriorityFeePerGas };
}

/**
 * Takes the next nonce of `address` under a row lock inside `tx`; the caller stores the transaction signed with it
 * in the same database transaction, so a nonce is never used twice nor skipped. The first use starts from the
 * chain's count (`chainNonce`, read by the caller before the transaction).
 */
export async function takeNonce(
  tx: TransactionSql,
  chainId: number,
  address: string,
  chainNonce: () => Promise<number>,
): Promise<number> {
  let rows = await tx<
    { next_nonce: string }[]
  >`SELECT next_nonce FROM chain_nonces WHERE chain_id = ${chainId} AND address = ${address} FOR UPDATE`;
  if (rows.length === 0) {
    await tx`INSERT INTO chain_nonces (chain_id, address, next_nonce) VALUES (${chainId}, ${address}, ${await chainNonce()}) ON CONFLICT DO NOTHING`;
    rows = await tx<
      { next_nonce: string }[]
    >`SELECT next_nonce FROM chain_nonces WHERE chain_id = ${chainId} AND address = ${address} FOR UPDATE`;
  }
  const nonce = Number(rows[0].next_nonce);
  await tx`UPDATE chain_nonces SET next_nonce = ${nonce + 1} WHERE chain_id = ${chainId} AND address = ${address}`;
  return nonce;
}

export async function signTx(
  wallet: Wallet,
  req: TransactionRequest & { nonce: number; chainId: number },
): Promise<{ raw: string; hash: string }> {
  assert(
    req.gasLimit !== undefined && req.maxFeePerGas !== undefined && req.maxPriorityFeePerGas !== undefined,
    'all fee fields are set before signing',
  );
  // populateTransaction would query the node; every field is given, so sign exactly what was decided.
  const raw = await wallet.signTransaction({ ...req, type: 2 });
  const parsed = Transaction.from(raw);
  assert(
    parsed.nonce === req.nonce && parsed.from === wallet.address,
    'the signed transaction has the intended nonce and sender',
  );
  return { raw, hash: parsed.hash! };
}

// Answers meaning "this transaction (or one at its nonce) is already in the mempool or mined": a re-broadcast
// after a crash or a timeout hits them, and the receipt lookup decides what happened.
const BENIGN =
  /already known|known transaction|nonce too low|nonce has already been used|replacement transaction underpriced|already imported|AlreadyKnown/i;

export type BroadcastResult = 'sent' | 'known' | 'error';

export async function broadcastRaw(
  provider: JsonRpcProvider,
  raw: string,
): Promise<{ result: BroadcastResult; message?: string }> {
  try {
    await provider.send('eth_sendRawTransaction', [raw]);
    return { result: 'sent' };
  } catch (err) {
    const message = errorText(err);
    return BENIGN.test(message) ? { result: 'known', message } : { result: 'error', message };
  }
}

function errorText(err: unknown): string {
  const e = err as {
    shortMessage?: string;
    message?: string;
    error?: { message?: string };
    info?: { error?: { message?: string } };
  };
  return [e.shortMessage, e.error?.message, e.info?.error?.message, e.message]
    .filter((x) => typeof x === 'string')
    .join(' | ')
    .slice(0, 500);
}

export function withMargin(gas: bigint, marginPct: number): bigint {
  return gas + (gas * BigInt(marginPct)) / 100n;
}
